"""Choosing the replacement ETF: the first clean entry of the asset class's chain.

PRODUCT.md "Replacement rule": each asset class has an ordered chain (primary, secondary, tertiary...)
of ETFs from different identity groups; the household may exclude some. The scan walks the chain from
the top, skipping the sold fund's own group (guard 3), excluded funds, funds of another asset class
(guard 5), and funds whose group was sold at a loss in the last 30 days in scope (guard 4). Walking from
the top (rather than from the sold fund's position) sends a harvest of a secondary fund back to the
primary when the primary is clean, which saves a later switch-back trade (docs/harvesting.md).

Funds whose group is at a loss elsewhere in scope and may be harvested in this same scan are passed
over on a first walk ("avoid"), so that one harvest's replacement does not block another harvest; if no
other fund is clean, the first walk's pick is taken anyway and the other harvest is the one skipped.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from .guard import (
    GuardContext,
    check_not_identical,
    check_replacement_not_sold,
    check_same_asset_class,
)
from .proposal import Check


@dataclass(frozen=True, slots=True)
class ReplacementChoice:
    """The chosen replacement (None: no clean one), its three checks, and every fund passed over with why."""

    ticker: str | None
    checks: tuple[Check, ...]
    passed_over: tuple[tuple[str, str], ...]
    chain: tuple[str, ...]


def choose_replacement(ctx: GuardContext, account: str, ticker: str, asset_classes: Mapping[str, str],
                       chains: Mapping[str, tuple[str, ...]], exclusions: Collection[str],
                       avoid_groups: Collection[str] = ()) -> ReplacementChoice:
    """The first clean fund of the chain of `ticker`'s asset class for a harvest in `account`.

    Clean: guards 3 (not the same identity group), 4 (its group not sold at a loss in the last 30 days in
    scope, nor by this scan) and 5 (same asset class) pass, and the household has not excluded it."""
    asset_class = asset_classes.get(ticker)
    chain = tuple(chains.get(asset_class, ())) if asset_class is not None else ()
    passed_over: list[tuple[str, str]] = []
    held_back = None
    for candidate in chain:
        if candidate == ticker:
            continue
        if candidate in exclusions:
            passed_over.append((candidate, "excluded by the household"))
            continue
        checks = (
            check_not_identical(ctx, ticker, candidate),
            check_replacement_not_sold(ctx, account, candidate),
            check_same_asset_class(ticker, candidate, asset_classes),
        )
        failed = next((c for c in checks if not c.passed), None)
        if failed is not None:
            passed_over.append((candidate, failed.detail))
            continue
        if ctx.group_of(candidate) in avoid_groups:
            if held_back is None:
                held_back = (candidate, checks)
            passed_over.append((candidate, "at a loss in another account of the household and may be harvested "
                                           "in this scan: buying it there would block that harvest"))
            continue
        return ReplacementChoice(candidate, checks, tuple(passed_over), chain)
    if held_back is not None:
        candidate, checks = held_back
        kept = tuple(p for p in passed_over if p[0] != candidate)
        return ReplacementChoice(candidate, checks, kept, chain)
    return ReplacementChoice(None, (), tuple(passed_over), chain)


def describe_passed_over(choice: ReplacementChoice) -> str:
    """"SCHB (excluded by the household); IVV (...)" for the explanation and the skip detail."""
    return "; ".join(f"{t}: {why}" for t, why in choice.passed_over)

"""Plain-words explanations of a proposal: why these lots, why this account, why this replacement,
which checks passed (PRODUCT.md "Harvesting": explain everything, in words an owner understands)."""

from collections.abc import Mapping, Sequence
from decimal import Decimal

from .guard import group_words
from .money import percent, usd
from .proposal import CHECK_NAMES, Check, ProposalLot, RequiredAction
from .replacement import ReplacementChoice

LISTED_LOTS = 5


def _shares(quantity: Decimal) -> str:
    text = f"{quantity.normalize():f}"
    return f"{text} share" if quantity == 1 else f"{text} shares"


def why_lots(ticker: str, lots: Sequence[ProposalLot], kept: int) -> str:
    """Which lots are sold and why: only the loss lots, by specific identification, largest loss per
    share first; short-term losses are worth more (PRODUCT.md "Harvesting" > Lots)."""
    parts = []
    for lot in lots[:LISTED_LOTS]:
        per_share = lot.loss / lot.quantity
        parts.append(f"lot {lot.lot_id} (bought {lot.acquired}, {_shares(lot.quantity)}, "
                     f"{usd(per_share)} loss per share, {lot.term}-term)")
    more = f" and {len(lots) - LISTED_LOTS} more" if len(lots) > LISTED_LOTS else ""
    kept_words = ""
    if kept == 1:
        kept_words = f" The other lot of {ticker} in this account is worth at least what it cost and stays."
    elif kept:
        kept_words = f" The other {kept} lots of {ticker} in this account are worth at least what they cost and stay."
    short = sum(1 for lot in lots if lot.term == "short")
    term_words = ""
    if short:
        term_words = (" Short-term losses are the most valuable: they offset short-term gains and other income "
                      "taxed at ordinary rates before long-term gains.")
    if len(lots) == 1:
        head = f"Sell only the lot of {ticker} now worth less than it cost, named on the order (specific identification): "
    else:
        head = (f"Sell only the {len(lots)} lots of {ticker} now worth less than they cost, named one by one (specific "
                "identification), largest loss per share first: ")
    return f"{head}{'; '.join(parts)}{more}.{kept_words}{term_words}"


def why_account(account_name: str, owner_names: str, ticker: str, rivals: Sequence[tuple[str, str, Decimal]],
                value: Decimal) -> str:
    """Why this account: where the same identity group is at a loss in several taxable accounts, each is
    valued at its owner's marginal rates and the most valuable comes first (PRODUCT.md > Where)."""
    if not rivals:
        return (f"{account_name} ({owner_names}) is a taxable account, and it is the only taxable account of the "
                f"household where {ticker}'s group is at a loss worth harvesting. Losses inside IRAs, Roth IRAs, "
                "401(k)s and HSAs are never harvested: they are not deductible.")
    listed = "; ".join(f"{name} {usd(v)} ({owners})" for name, owners, v in rivals)
    higher = sum(1 for _, _, v in rivals if v > value)
    place = "worth the most" if not higher else f"number {higher + 1} by value"
    return (f"The same fund group is at a loss in {len(rivals) + 1} taxable accounts. Valued at each owner's "
            f"own tax rates: {account_name} {usd(value)} ({owner_names}); {listed}. This account is {place}; "
            "every harvest that passes the checks is proposed, in that order, and none buys what another sells.")


def why_replacement(ticker: str, choice: ReplacementChoice, buy_amount: Decimal, group_of, names: Mapping[str, str],
                    asset_class: str | None, target: Mapping[str, Decimal]) -> str:
    """Why this replacement: the first clean fund of the asset class's chain, a different index, the same
    asset class and the same dollars (PRODUCT.md "Replacement rule", guard checks 3-5)."""
    bought = choice.ticker
    name = f" ({names[bought]})" if bought in names else ""
    chain = ", ".join(choice.chain)
    class_words = (asset_class or "").replace("_", " ")
    target_words = ""
    if asset_class in target:
        target_words = f" (target {percent(target[asset_class])} of the portfolio)"
    text = (f"Buy {usd(buy_amount)} of {bought}{name}, the first clean fund of the {class_words} chain ({chain}). "
            f"It tracks {group_words(group_of(bought), bought)}, while {ticker} tracks "
            f"{group_words(group_of(ticker), ticker)}: a different index, so it is not substantially identical. "
            f"It is in the same asset class and the same dollars are bought, so the {class_words} "
            f"allocation{target_words} does not drift.")
    if choice.passed_over:
        text += " Passed over: " + "; ".join(f"{t}: {why}" for t, why in choice.passed_over) + "."
    return text


def checks_summary(checks: Sequence[Check], actions: Sequence[RequiredAction]) -> str:
    """One sentence over the five checks, naming any that pass only with a required action."""
    passed = sum(1 for c in checks if c.passed)
    text = f"{passed} of {len(CHECK_NAMES)} wash-sale checks passed: " + "; ".join(
        f"{c.title.lower()}: {'yes' if c.passed else 'NO'}" for c in checks) + "."
    if actions:
        text += " Required before trading: " + "; ".join(a.text for a in actions) + "."
    return text


def cost_words(value: Decimal, cost: Decimal, margin: Decimal) -> str:
    """The benefit test in words: tax value against trading cost times the household's margin."""
    if cost:
        return (f"Trading cost of both trades (spread and commissions): about {usd(cost)}. The tax value is "
                f"{(value / cost).quantize(Decimal('0.1'))} times that; the household asks for more than "
                f"{margin.normalize():f} times.")
    return "Trading cost of both trades: nothing (no spread or commission is set)."

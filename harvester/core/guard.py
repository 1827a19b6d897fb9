"""The five guard checks of a harvest (PRODUCT.md "Harvesting" > Guard), across the wash-sale scope.

IRC 1091(a) and Treas. Reg. 1.1091-1: a loss is washed by substantially identical shares acquired by
the taxpayer (and spouse, IRAs: Pub. 550, Rev. Rul. 2008-5) from 30 days before to 30 days after the
sale. The scan sells and buys on the scan date, so it looks 30 days back at what was bought and sold
and 30 days ahead at what is scheduled, in the scope the household chose: the whole household
(conservative) or the taxpayer unit (the legal family). Trades the scan itself proposes are part of the
picture too: a replacement bought in one account is a purchase the other accounts must see.

Each check returns a Check with plain words; none of them raises.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import date, timedelta

from lots.engine.core import WINDOW_DAYS  # IRC 1091(a): the one definition of the window

from .proposal import (
    NOT_IDENTICAL,
    PAUSE_SCHEDULE,
    RECENT_PURCHASES,
    REPLACEMENT_NOT_SOLD_AT_LOSS,
    SAME_ASSET_CLASS,
    SCHEDULED_PURCHASES,
    Check,
    RequiredAction,
)
from .snapshot import (
    CONTRIBUTION,
    DRIP,
    HOUSEHOLD,
    PAUSABLE_KINDS,
    PAYROLL,
    TAX_ADVANTAGED_KINDS,
    AccountInfo,
    HouseholdSnapshot,
)

SCHEDULE_WORDS = {DRIP: "DRIP", CONTRIBUTION: "recurring contribution", PAYROLL: "payroll purchase"}


class GuardContext:
    """What the guards look at, indexed by (scope, identity group), built once per household scan.

    `planned_buys` and `planned_loss_sales` are the trades of the proposals the scan has accepted so far;
    the scan adds to them as it accepts proposals in order of value."""

    def __init__(self, snapshot: HouseholdSnapshot, as_of: date, group_of: Callable[[str], str],
                 held_by_origin: Mapping[str, list[str]], accounts: Mapping[str, AccountInfo]):
        self.as_of = as_of
        self.group_of = group_of
        self.accounts = accounts
        self.held_by_origin = held_by_origin
        self.household_scope = snapshot.policy.scope == HOUSEHOLD
        self.until = as_of + timedelta(days=WINDOW_DAYS + 1)  # first day a purchase can no longer wash
        start = as_of - timedelta(days=WINDOW_DAYS)
        end = as_of + timedelta(days=WINDOW_DAYS)
        self.acquisitions = defaultdict(list)
        for row in snapshot.acquisitions:
            if start <= row.date <= as_of:
                self.acquisitions[self.scope_of(row.account), group_of(row.ticker)].append(row)
        self.loss_sales = defaultdict(list)
        for row in snapshot.loss_sales:
            # A sale inside an IRA has no deductible loss to wash (IRC 1091 disallows losses; lots.engine agrees).
            if start <= row.date <= as_of and accounts[row.account].kind not in TAX_ADVANTAGED_KINDS:
                self.loss_sales[self.scope_of(row.account), group_of(row.ticker)].append(row)
        self.scheduled = defaultdict(list)
        for row in snapshot.scheduled:
            if as_of <= row.date <= end:
                self.scheduled[self.scope_of(row.account), group_of(row.ticker)].append(row)
        self.planned_buys: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        self.planned_loss_sales: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)

    def scope_of(self, account: str) -> str:
        """The wash-sale scope an account belongs to: "" (the whole household) or its taxpayer unit."""
        return "" if self.household_scope else self.accounts[account].taxpayer_unit

    def where(self, scope: str) -> str:
        return "anywhere in the household" if self.household_scope else f"in the taxpayer unit {scope}"

    def name(self, account: str) -> str:
        return self.accounts[account].name

    def plan(self, account: str, sold_ticker: str, sold_at_loss: bool, buy_ticker: str) -> None:
        """Record an accepted proposal's trades so later candidates are checked against them."""
        scope = self.scope_of(account)
        self.planned_buys[scope, self.group_of(buy_ticker)].append((account, buy_ticker))
        if sold_at_loss:
            self.planned_loss_sales[scope, self.group_of(sold_ticker)].append((account, sold_ticker))


def listing(items: list[str], most: int = 5) -> str:
    """"a; b; c" with at most `most` items, then "and N more": details stay readable for big households."""
    if len(items) <= most:
        return "; ".join(items)
    return "; ".join(items[:most]) + f"; and {len(items) - most} more"


def group_words(group: str, ticker: str) -> str:
    return f"{ticker}'s own group" if group == ticker else group


def recent_purchases(ctx: GuardContext, account: str, ticker: str):
    """The acquisitions of the sold group in the last 30 days in scope (rows of the snapshot)."""
    return ctx.acquisitions.get((ctx.scope_of(account), ctx.group_of(ticker)), ())


def check_recent_purchases(ctx: GuardContext, account: str, ticker: str, sold_lots: set[str]) -> Check:
    """Guard 1: no acquisition of the sold group in the last 30 days anywhere in scope (DRIP and IRAs
    included) that would wash this loss, unless those shares are sold too (all that is still held of
    that purchase is in this sale, and the proposal sells it first).

    Conservative where the engine would allow more: a purchase none of whose shares are held any more
    still counts (the scan cannot tell shares sold since from shares in an account it was not shown), and
    at most one recent purchase can be covered by the sale: with two, whichever is sold first is replaced
    by the other, still held at that moment (a wash sale on the 1099-B even if the loss is realized the
    same day when the other is sold)."""
    scope = ctx.scope_of(account)
    group = ctx.group_of(ticker)
    blocking = []
    covered = []
    for row in recent_purchases(ctx, account, ticker):
        held = ctx.held_by_origin.get(row.trade_id)
        if held and all(lot in sold_lots for lot in held):
            covered.append(row)
        else:
            part = " (only part of what is still held is in this sale)" if held and any(
                lot in sold_lots for lot in held) else ""
            blocking.append(f"{ctx.name(row.account)} bought {row.quantity} {row.ticker} on {row.date}{part}")
    for buy_account, buy_ticker in ctx.planned_buys.get((scope, group), ()):
        blocking.append(f"a harvest proposed in this scan buys {buy_ticker} in {ctx.name(buy_account)} today")
    what = f"{ticker} or a fund tracking the same index ({group_words(group, ticker)})"
    if blocking:
        return Check(RECENT_PURCHASES, False,
                     f"Buying {what} within 30 days of a sale at a loss washes the loss (IRC 1091), "
                     f"{ctx.where(scope)}: {listing(blocking)}.")
    dates = ", ".join(sorted({str(row.date) for row in covered}))
    if len(covered) > 1:
        return Check(RECENT_PURCHASES, False,
                     f"{len(covered)} purchases of the last 30 days (on {dates}) would be sold together: whichever is "
                     "sold first is replaced by the other, still held at that moment, so the sale would be a wash "
                     "sale. Wait until the older one is 31 days old.")
    if covered:
        return Check(RECENT_PURCHASES, True,
                     f"The only recent purchase of {what} {ctx.where(scope)} (on {dates}) is a lot sold in this "
                     "same sale, first, so it cannot wash the rest.")
    return Check(RECENT_PURCHASES, True, f"Nothing in {what} was bought in the last 30 days {ctx.where(scope)}.")


def check_scheduled(ctx: GuardContext, account: str, ticker: str) -> tuple[Check, tuple[RequiredAction, ...]]:
    """Guard 2: no scheduled purchase of the sold group in the next 30 days anywhere in scope. A pausable
    one (contribution, DRIP, payroll) becomes a required action: pause it until the 31st day after the
    sale, when a purchase can no longer wash the loss; one that cannot be paused fails the check."""
    scope = ctx.scope_of(account)
    group = ctx.group_of(ticker)
    rows = sorted(ctx.scheduled.get((scope, group), ()), key=lambda r: (r.date, r.account, r.schedule_id))
    if not rows:
        return Check(SCHEDULED_PURCHASES, True,
                     f"No purchase of {ticker} or its group is scheduled in the next 30 days "
                     f"{ctx.where(scope)}."), ()
    fixed = [r for r in rows if not (r.pausable and r.kind in PAUSABLE_KINDS)]
    if fixed:
        text = listing([f"{_schedule_words(r.kind)} of {r.ticker} in {ctx.name(r.account)} on {r.date}"
                        for r in fixed])
        return Check(SCHEDULED_PURCHASES, False,
                     f"Scheduled within 30 days and cannot be paused: {text}. It would wash this loss."), ()
    actions = []
    seen = set()
    for row in rows:
        if row.schedule_id in seen:
            continue
        seen.add(row.schedule_id)
        actions.append(RequiredAction(
            kind=PAUSE_SCHEDULE,
            text=f"Pause the {_schedule_words(row.kind)} of {row.ticker} in {ctx.name(row.account)} "
                 f"until {ctx.until}",
            until=ctx.until,
            account=row.account,
            ticker=row.ticker,
            schedule_id=row.schedule_id,
        ))
    listed = listing([f"{_schedule_words(r.kind)} of {r.ticker} in {ctx.name(r.account)} on {r.date}"
                      for r in rows])
    return Check(SCHEDULED_PURCHASES, True,
                 f"Scheduled within 30 days: {listed}. Passes only if paused until {ctx.until} "
                 "(see the required actions)."), tuple(actions)


def check_not_identical(ctx: GuardContext, ticker: str, replacement: str) -> Check:
    """Guard 3: the replacement is not in the sold security's identity group (same tracked index =
    substantially identical, PRODUCT.md "Wash sales" 9)."""
    sold, bought = ctx.group_of(ticker), ctx.group_of(replacement)
    if ticker == replacement or sold == bought:
        return Check(NOT_IDENTICAL, False,
                     f"{replacement} tracks the same index as {ticker} ({group_words(sold, ticker)}): substantially "
                     "identical, buying it would wash the loss.")
    return Check(NOT_IDENTICAL, True,
                 f"{replacement} tracks {group_words(bought, replacement)}, {ticker} tracks "
                 f"{group_words(sold, ticker)}: different indexes, so not substantially identical.")


def check_replacement_not_sold(ctx: GuardContext, account: str, replacement: str) -> Check:
    """Guard 4: the replacement's group was not sold at a loss in the last 30 days anywhere in scope,
    nor by a proposal of this scan (buying it would wash that earlier loss)."""
    scope = ctx.scope_of(account)
    group = ctx.group_of(replacement)
    sold = [f"{ctx.name(r.account)} sold {r.quantity} {r.ticker} at a loss on {r.date}"
            for r in ctx.loss_sales.get((scope, group), ())]
    sold += [f"a harvest proposed in this scan sells {t} at a loss in {ctx.name(a)} today"
             for a, t in ctx.planned_loss_sales.get((scope, group), ())]
    if sold:
        return Check(REPLACEMENT_NOT_SOLD_AT_LOSS, False,
                     f"{listing(sold)}: buying {replacement} ({group_words(group, replacement)}) now would "
                     "wash that loss.")
    return Check(REPLACEMENT_NOT_SOLD_AT_LOSS, True,
                 f"Nothing in {replacement}'s group ({group_words(group, replacement)}) was sold at a loss in the "
                 f"last 30 days {ctx.where(scope)}, so buying it washes no earlier loss.")


def check_same_asset_class(ticker: str, replacement: str, asset_classes: Mapping[str, str]) -> Check:
    """Guard 5: the replacement is in the same asset class, so the allocation does not drift (the same
    dollar amount is bought)."""
    sold, bought = asset_classes.get(ticker), asset_classes.get(replacement)
    if sold is None or sold != bought:
        return Check(SAME_ASSET_CLASS, False,
                     f"{replacement} is in {bought or 'no known asset class'}, {ticker} in "
                     f"{sold or 'no known asset class'}: the allocation would drift.")
    return Check(SAME_ASSET_CLASS, True,
                 f"{replacement} is in the same asset class as {ticker} ({_class_words(sold)}); buying the same "
                 "dollar amount keeps the allocation where it was.")


def _schedule_words(kind: str) -> str:
    return SCHEDULE_WORDS.get(kind, f"scheduled {kind}")


def _class_words(asset_class: str) -> str:
    return asset_class.replace("_", " ")

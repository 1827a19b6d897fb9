"""The harvest scan of one household: which loss lots to sell where, what to buy, and why.

    from harvester.core.scan import scan
    result = scan(snapshot, as_of)   # ScanResult: proposals, skipped (with reasons), refusals

Rules: PRODUCT.md "Harvesting"; choices where the rules leave room: docs/harvesting.md.
1. Positions: the lots of one ticker in one taxable account (IRAs, Roth IRAs, 401(k)s and HSAs are never
   harvested). Prices older than the policy's limit (weekdays) are refused, per ticker.
2. Candidate: its loss lots (price below per-share adjusted basis) reach BOTH the dollar and the percent
   minimum; all of them are sold by specific identification, largest loss per share first.
3. Value: harvester.core.tax.harvest_value at the owners' marginal rates (a joint account: the return the
   spouses share; owners on separate returns share the loss equally). Candidates are ranked by value.
4. In order of value, each candidate must have a tax value above trading cost times the margin, pass
   guards 1-2 for the sold group and find a replacement passing guards 3-5 (harvester.core.guard,
   harvester.core.replacement); accepted trades join the picture the next candidates are checked
   against, so no two proposals wash each other, and the owners' profiles absorb the accepted losses.
5. Switch-backs: lots bought as harvest replacements 31+ days ago, in a non-primary fund of the chain,
   go back to the primary if that realizes no gain or one below the household's limit, guards passing.

Pure: standard library and Decimal only, no Django, no clock. O(lots + trades) per household plus a
sort of the candidates: grouping is by dict, never a pairwise loop.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache

from lots.engine import holding_term

from . import explain
from .guard import GuardContext, check_recent_purchases, check_scheduled, recent_purchases
from .money import CENT, CONTEXT, HUNDRED, TEN_THOUSAND, ZERO, cents, percent, usd
from .proposal import (
    BELOW_THRESHOLD,
    COST_EXCEEDS_VALUE,
    GUARD_FAILED,
    HARVEST,
    NO_CLEAN_REPLACEMENT,
    NO_TAX_PROFILE,
    NO_TAX_TABLES,
    RECENT_PURCHASES,
    SCHEDULED_PURCHASES,
    STALE_PRICE,
    SWITCH_BACK,
    SWITCHBACK_GAIN_OVER_LIMIT,
    WASHED_BY_THIS_SCAN,
    Check,
    Explanation,
    Proposal,
    ProposalLot,
    ScanRefusal,
    ScanResult,
    SellOrder,
    Skipped,
    fingerprint,
)
from .replacement import choose_replacement, describe_passed_over
from .snapshot import TAXABLE, HeldLot, HouseholdSnapshot, Quote, check_snapshot
from .tax import TaxInputError, TaxProfile, check_profile, projection, value_words
from .tax_tables import TaxTableError, load_year

SWITCH_BACK_DAYS = 31  # a replacement bought 31+ days ago is outside its harvest's wash-sale window


def scan(snapshot: HouseholdSnapshot, as_of: date) -> ScanResult:
    """Scan one household on `as_of` (the sale date of every proposal): proposals ranked by tax value,
    skipped candidates with their reasons, and refused prices. Raises SnapshotError for an inconsistent
    snapshot (unknown account, duplicate lot); everything else is a skip or a refusal, never a crash."""
    check_snapshot(snapshot)
    with localcontext(CONTEXT):
        return _HouseholdScan(snapshot, as_of).run()


def scan_many(snapshots: Iterable[HouseholdSnapshot], as_of: date) -> list[ScanResult]:
    """scan() for each household (households never affect each other)."""
    return [scan(snapshot, as_of) for snapshot in snapshots]


@lru_cache(maxsize=1024)
def trading_days_between(earlier: date, later: date) -> int:
    """Weekdays after `earlier` up to and including `later`: a Friday close is 1 trading day old on Monday.
    Exchange holidays are not known to the pure core and count as trading days (stricter)."""
    days = (later - earlier).days
    if days <= 0:
        return 0
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    weekday = earlier.weekday()
    for step in range(1, rest + 1):
        if (weekday + step) % 7 < 5:
            count += 1
    return count


@lru_cache(maxsize=64)
def last_long_term_start(sold: date) -> date:
    """The latest holding-period start that is long-term on `sold` (lots.engine.holding_term decides:
    more than one year, counting from the day after acquisition; February 29 handled there)."""
    day = sold - timedelta(days=366)
    while holding_term(day + timedelta(days=1), sold) == "long":
        day += timedelta(days=1)
    while holding_term(day, sold) == "short":
        day -= timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def _minimum_words(min_amount: Decimal, min_percent: Decimal) -> tuple[str, str]:
    """The policy's two minimums in words (a household skips several positions against the same ones)."""
    return f"{usd(min_amount)} of loss", f"{percent(min_percent)} of their cost"


class _Candidate:
    __slots__ = ("account", "ticker", "group", "scope", "quote", "loss_lots", "kept", "proceeds", "basis", "loss_st",
                 "loss_lt", "returns", "value", "parts", "cost")


class _HouseholdScan:
    def __init__(self, snapshot: HouseholdSnapshot, as_of: date):
        self.snap = snapshot
        self.as_of = as_of
        self.policy = snapshot.policy
        self.accounts = {a.id: a for a in snapshot.accounts}
        self.owners = {o.id: o for o in snapshot.owners}
        identity = snapshot.identity
        self.group_of = lambda ticker: identity.get(ticker, ticker)
        self.skipped: list[Skipped] = []
        self.refusals: dict[str, ScanRefusal] = {}
        self.quotes: dict[str, Quote | None] = {}
        self.long_until = last_long_term_start(as_of)
        self.profiles: dict[str, TaxProfile] = {}  # running profile per tax return
        self.before: dict[str, object] = {}  # running projection per tax return
        self.proposals: list[Proposal] = []
        self.owner_names: dict[str, str] = {}  # account -> "Alex and Jordan"

    # -- inputs -------------------------------------------------------------------------------------------
    def quote(self, ticker: str) -> Quote | None:
        """The ticker's close if fresh enough, else None and a ScanRefusal (once per ticker)."""
        if ticker in self.quotes:
            return self.quotes[ticker]
        quote = self.snap.prices.get(ticker)
        limit = self.policy.max_price_age_days
        reason = None
        if quote is None:
            reason = f"no closing price for {ticker}"
        elif quote.date > self.as_of:
            reason = f"the close of {ticker} is dated {quote.date}, after the scan date {self.as_of}"
        elif quote.close <= 0:
            reason = f"the close of {ticker} on {quote.date} is not a positive price"
        else:
            age = trading_days_between(quote.date, self.as_of)
            if age > limit:
                reason = (f"the latest close of {ticker} is from {quote.date}, {age} trading days before "
                          f"{self.as_of}; the limit is {limit}")
        if reason is not None:
            self.refusals[ticker] = ScanRefusal(ticker, reason, quote.date if quote is not None else None)
            quote = None
        self.quotes[ticker] = quote
        return quote

    def term(self, start: date) -> str:
        return "long" if start <= self.long_until else "short"

    def returns_of(self, account: str) -> list[str] | str:
        """The tax returns an account's gains go on, or a reason why it cannot be valued."""
        ids = []
        for owner_id in self.accounts[account].owners:
            owner = self.owners[owner_id]
            if owner.profile is None:
                return f"{owner.name} has no tax profile for {self.as_of.year}"
            if owner.profile.year != self.as_of.year:
                return f"{owner.name}'s tax profile is for {owner.profile.year}, the scan is for {self.as_of.year}"
            rid = owner.return_id
            if rid not in ids:
                ids.append(rid)
                if rid not in self.profiles:
                    try:
                        check_profile(owner.profile)
                    except TaxInputError as exc:
                        return f"{owner.name}'s tax profile is not usable ({exc})"
                    self.profiles[rid] = owner.profile
        if not ids:
            return "the account has no owner"
        return ids

    def value(self, returns: list[str], loss_st: Decimal, loss_lt: Decimal) -> tuple[Decimal, list]:
        """Tax saved this year across the account's returns (the loss shared equally), exact rates, and
        the projections behind it: [(return, before, after, short loss, long loss)]."""
        share = len(returns)
        st, lt = (loss_st, loss_lt) if share == 1 else (loss_st / share, loss_lt / share)
        total = ZERO
        parts = []
        for rid in returns:
            profile = self.profiles[rid]
            tables = load_year(profile.year)
            before = self.before.get(rid)
            if before is None:
                before = self.before[rid] = projection(profile, tables)
            after = projection(profile, tables, -st, -lt)
            total += before.total() - after.total()
            parts.append((rid, before, after, st, lt))
        return total, parts

    def realize(self, parts: list) -> None:
        """The accepted loss is now part of each return's year: later candidates are valued after it."""
        for rid, _, after, st, lt in parts:
            self.profiles[rid] = self.profiles[rid].with_realized(-st, -lt)
            self.before[rid] = after

    def skip(self, kind: str, account: str, ticker: str, reason: str, detail: str, loss=None) -> None:
        self.skipped.append(Skipped(kind, account, ticker, reason, detail, cents(loss) if loss is not None else None))

    # -- the scan -----------------------------------------------------------------------------------------
    def run(self) -> ScanResult:
        snap, as_of = self.snap, self.as_of
        taxable = {a.id for a in snap.accounts if a.kind == TAXABLE}
        window_start = as_of - timedelta(days=30)
        recent_ids = {row.trade_id for row in snap.acquisitions if window_start <= row.date <= as_of}
        held_by_origin: dict[str, list[str]] = defaultdict(list)
        positions: dict[tuple[str, str], list[HeldLot]] = {}
        for lot in snap.lots:
            if recent_ids:
                origin = lot.origin or lot.lot_id
                if origin in recent_ids:
                    held_by_origin[origin].append(lot.lot_id)
            if lot.account in taxable:
                key = (lot.account, lot.ticker)
                rows = positions.get(key)
                if rows is None:
                    positions[key] = [lot]
                else:
                    rows.append(lot)
        self.ctx = GuardContext(snap, as_of, self.group_of, held_by_origin, self.accounts)

        candidates = self.candidates(positions)
        self.harvest(candidates)
        self.switch_back(positions)
        return ScanResult(snap.household, as_of, tuple(self.proposals), tuple(self.skipped),
                          tuple(self.refusals[t] for t in sorted(self.refusals)))

    def candidates(self, positions) -> list[_Candidate]:
        """Positions whose loss lots reach both thresholds and that can be valued, ranked by tax value."""
        policy = self.policy
        min_amount, min_percent = policy.min_loss_amount, policy.min_loss_percent
        found = []
        for (account, ticker), lots in positions.items():
            quote = self.quote(ticker)
            if quote is None:
                self.skip(HARVEST, account, ticker, STALE_PRICE, self.refusals[ticker].reason)
                continue
            close = quote.close
            loss_lots = []
            for lot in lots:
                value = lot.quantity * close
                if value < lot.basis:
                    proceeds = value.quantize(CENT, ROUND_HALF_UP)  # cents(), inlined: the hot loop
                    if proceeds < lot.basis:
                        loss_lots.append((lot, proceeds))
            if not loss_lots:
                continue
            basis = proceeds = ZERO
            for lot, lot_proceeds in loss_lots:
                basis += lot.basis
                proceeds += lot_proceeds
            loss = basis - proceeds
            loss_percent = loss * HUNDRED / basis
            if loss < min_amount or loss_percent < min_percent:
                amount_words, percent_words = _minimum_words(min_amount, min_percent)
                short = [amount_words if loss < min_amount else "", percent_words if loss_percent < min_percent else ""]
                self.skip(HARVEST, account, ticker, BELOW_THRESHOLD,
                          f"The loss lots of {ticker} are down {usd(loss)}, "
                          f"{percent(loss_percent, '0.01', ROUND_DOWN)} of their cost: below the household's minimum "
                          f"of {' and '.join(x for x in short if x)} (a harvest needs both minimums).", loss)
                continue
            loss_st = loss_lt = ZERO
            long_until = self.long_until
            for lot, lot_proceeds in loss_lots:
                if (lot.holding_start or lot.acquired) <= long_until:
                    loss_lt += lot.basis - lot_proceeds
                else:
                    loss_st += lot.basis - lot_proceeds
            returns = self.returns_of(account)
            if isinstance(returns, str):
                self.skip(HARVEST, account, ticker, NO_TAX_PROFILE, f"Cannot value the loss: {returns}.", loss)
                continue
            try:
                value, parts = self.value(returns, loss_st, loss_lt)
            except TaxTableError as exc:
                self.skip(HARVEST, account, ticker, NO_TAX_TABLES, f"Cannot value the loss: {exc}.", loss)
                continue
            c = _Candidate()
            c.account, c.ticker, c.group, c.quote = account, ticker, self.group_of(ticker), quote
            c.scope = self.ctx.scope_of(account)
            c.loss_lots, c.kept = loss_lots, len(lots) - len(loss_lots)
            c.basis, c.proceeds, c.loss_st, c.loss_lt = basis, proceeds, loss_st, loss_lt
            c.returns, c.value, c.parts = returns, value, parts
            per_trade = proceeds * policy.spread_bps / TEN_THOUSAND + policy.commission
            c.cost = per_trade + per_trade  # the sell and the buy of the same dollars
            found.append(c)
        found.sort(key=lambda c: (-c.value, c.account, c.ticker))
        return found

    def harvest(self, candidates: list[_Candidate]) -> None:
        """Accept candidates in order of value; each is re-valued and re-checked against those before it."""
        ctx, policy = self.ctx, self.policy
        pending: dict[tuple[str, str], int] = {}  # (scope, group) -> candidates not yet considered
        by_group: dict[str, list[_Candidate]] = {}
        for c in candidates:
            key = (c.scope, c.group)
            pending[key] = pending.get(key, 0) + 1
            by_group.setdefault(c.group, []).append(c)
        touched: set[str] = set()
        for c in candidates:
            pending[c.scope, c.group] -= 1
            loss = c.basis - c.proceeds
            value, parts = c.value, c.parts
            revalued = any(rid in touched for rid in c.returns)
            if revalued:
                value, parts = self.value(c.returns, c.loss_st, c.loss_lt)
            if not value > c.cost * policy.benefit_cost_margin:
                after = " after the harvests ranked above it" if revalued else ""
                self.skip(HARVEST, c.account, c.ticker, COST_EXCEEDS_VALUE,
                          f"Harvesting {usd(loss)} of {c.ticker} is worth about {usd(value)} in tax this year"
                          f"{after}, not more than {policy.benefit_cost_margin.normalize():f} times the trading cost "
                          f"of {usd(c.cost)}.", loss)
                continue
            sold = {lot.lot_id for lot, _ in c.loss_lots}
            recent = check_recent_purchases(ctx, c.account, c.ticker, sold)
            if not recent.passed:
                reason = WASHED_BY_THIS_SCAN if ctx.planned_buys.get((c.scope, c.group)) else GUARD_FAILED
                self.skip(HARVEST, c.account, c.ticker, reason, recent.detail, loss)
                continue
            scheduled, actions = check_scheduled(ctx, c.account, c.ticker)
            if not scheduled.passed:
                self.skip(HARVEST, c.account, c.ticker, GUARD_FAILED, scheduled.detail, loss)
                continue
            avoid = {g for (scope, g), n in pending.items() if n and scope == c.scope and g != c.group}
            choice = choose_replacement(ctx, c.account, c.ticker, self.snap.asset_classes, self.snap.chains,
                                        self.snap.exclusions, avoid)
            if choice.ticker is None:
                tried = describe_passed_over(choice) or "the asset class has no replacement chain"
                self.skip(HARVEST, c.account, c.ticker, NO_CLEAN_REPLACEMENT,
                          f"No clean replacement for {c.ticker}: {tried}.", loss)
                continue
            checks = (recent, scheduled, *choice.checks)
            lots = self._lots(c.loss_lots, c.quote.close)
            rivals = [(self.accounts[o.account].name, self._owner_names(o.account), o.value)
                      for o in by_group[c.group] if o is not c]
            explanation = Explanation(
                why_lots=explain.why_lots(c.ticker, lots, c.kept),
                why_account=explain.why_account(self.accounts[c.account].name, self._owner_names(c.account),
                                                c.ticker, rivals, c.value),
                why_replacement=explain.why_replacement(
                    c.ticker, choice, c.proceeds, self.group_of, self.snap.names,
                    self.snap.asset_classes.get(c.ticker), self.snap.target_allocation),
                checks=explain.checks_summary(checks, actions),
                tax=self._value_words(parts) + " " + explain.cost_words(value, c.cost, policy.benefit_cost_margin),
            )
            self._propose(HARVEST, c.account, c.ticker, c.quote, lots, c.proceeds, c.basis, c.loss_st, c.loss_lt,
                          value, c.cost, choice.ticker, checks, actions, explanation)
            ctx.plan(c.account, c.ticker, True, choice.ticker)
            self.realize(parts)
            touched.update(c.returns)

    def switch_back(self, positions) -> None:
        """Return replacements bought 31+ days ago to the chain's primary when the gain is small enough."""
        snap, ctx, policy, as_of = self.snap, self.ctx, self.policy, self.as_of
        harvested = {(p.account, p.sell_ticker) for p in self.proposals}
        cutoff = as_of - timedelta(days=SWITCH_BACK_DAYS)
        chains, classes = snap.chains, snap.asset_classes
        secondary = {t for chain in chains.values() for t in chain[1:]}
        for account, ticker in sorted(k for k in positions if k[1] in secondary):
            held = positions[account, ticker]
            asset_class = classes.get(ticker)
            chain = chains.get(asset_class, ())
            if ticker not in chain[1:] or (account, ticker) in harvested:
                continue
            eligible = [lot for lot in held if lot.from_harvest and lot.acquired <= cutoff]
            if not eligible:
                continue
            primary = chain[0]
            quote = self.quote(ticker)
            if quote is None:
                self.skip(SWITCH_BACK, account, ticker, STALE_PRICE, self.refusals[ticker].reason)
                continue
            lots = self._lots([(lot, cents(lot.quantity * quote.close)) for lot in eligible], quote.close)
            gain_st = -sum((x.loss for x in lots if x.term == "short"), ZERO)
            gain_lt = -sum((x.loss for x in lots if x.term == "long"), ZERO)
            gain = gain_st + gain_lt
            counted = gain_st + (min(gain_lt, ZERO) if policy.switchback_accept_long_term else gain_lt)
            limit = policy.switchback_gain_limit
            if counted > 0 and not counted < limit:
                self.skip(SWITCH_BACK, account, ticker, SWITCHBACK_GAIN_OVER_LIMIT,
                          f"Switching {ticker} back to {primary} would realize a gain of {usd(counted)}; the "
                          f"household's limit is below {usd(limit)}.", -gain)
                continue
            returns = self.returns_of(account)
            if isinstance(returns, str):
                self.skip(SWITCH_BACK, account, ticker, NO_TAX_PROFILE, f"Cannot value the switch-back: {returns}.")
                continue
            choice = choose_replacement(ctx, account, ticker, classes, {asset_class: (primary,)}, snap.exclusions)
            at_loss = any(x.loss > 0 for x in lots)
            if at_loss:
                recent = check_recent_purchases(ctx, account, ticker, {x.lot_id for x in lots})
                scheduled, actions = check_scheduled(ctx, account, ticker)
            else:
                quiet = f"No lot is sold at a loss, so there is no loss a purchase of {ticker} could wash."
                recent, scheduled, actions = (Check(RECENT_PURCHASES, True, quiet),
                                              Check(SCHEDULED_PURCHASES, True, quiet), ())
            failed = next((c for c in (recent, scheduled) if not c.passed), None)
            if failed is not None or choice.ticker != primary:
                detail = failed.detail if failed is not None else (
                    f"{primary} cannot be bought back yet: {describe_passed_over(choice)}.")
                self.skip(SWITCH_BACK, account, ticker, GUARD_FAILED, detail, -gain)
                continue
            try:
                value, parts = self.value(returns, -gain_st, -gain_lt)
            except TaxTableError as exc:
                self.skip(SWITCH_BACK, account, ticker, NO_TAX_TABLES, f"Cannot value the switch-back: {exc}.")
                continue
            checks = (recent, scheduled, *choice.checks)
            proceeds = sum((x.proceeds for x in lots), ZERO)
            basis = sum((x.basis for x in lots), ZERO)
            per_trade = proceeds * policy.spread_bps / TEN_THOUSAND + policy.commission
            cost = per_trade + per_trade
            if gain <= 0:
                gain_words = "realizes no gain"
            elif counted == gain:
                gain_words = f"realizes a gain of {usd(gain)}, within the household's limit of {usd(limit)}"
            else:
                gain_words = f"realizes a gain of {usd(gain)}, mostly long-term, which the household accepts"
            tax = self._value_words(parts)
            if value > 0:
                tax += " " + explain.cost_words(value, cost, policy.benefit_cost_margin)
            explanation = Explanation(
                why_lots=(f"{'This lot' if len(lots) == 1 else f'These {len(lots)} lots'} of {ticker} "
                          f"{'was' if len(lots) == 1 else 'were'} bought as a harvest replacement on or before {cutoff}, "
                          f"so the 30-day wash-sale window of that harvest has closed. Selling "
                          f"{'it' if len(lots) == 1 else 'them'} {gain_words}."),
                why_account=f"They are held in {self.accounts[account].name} ({self._owner_names(account)}).",
                why_replacement=(f"{primary} is the primary fund of the {(asset_class or '').replace('_', ' ')} "
                                 f"chain, the household's preferred fund: buy the same {usd(proceeds)} of it."),
                checks=explain.checks_summary(checks, actions),
                tax=tax,
            )
            self._propose(SWITCH_BACK, account, ticker, quote, lots, proceeds, basis, -gain_st, -gain_lt,
                          value, cost, primary, checks, actions, explanation)
            ctx.plan(account, ticker, at_loss, primary)
            self.realize(parts)

    # -- helpers ------------------------------------------------------------------------------------------
    def _owner_names(self, account: str) -> str:
        names = self.owner_names.get(account)
        if names is None:
            names = self.owner_names[account] = " and ".join(self.owners[o].name for o in self.accounts[account].owners)
        return names

    def _value_words(self, parts: list) -> str:
        """The plain-words value for the explanation, from the projections behind the value."""
        words = []
        for rid, before, after, st, lt in parts:
            text = value_words(self.profiles[rid], before, after, st, lt)
            if len(parts) > 1:
                text = f"For the return of {self._return_names(rid)} (an equal share of the loss): {text}"
            words.append(text)
        return " ".join(words)

    def _lots(self, rows, close: Decimal) -> tuple[ProposalLot, ...]:
        """Proposal lots from (lot, proceeds), largest loss per share first (ties: earlier, then lot id)."""
        lots = []
        for lot, proceeds in rows:
            basis = cents(lot.basis)
            lots.append(ProposalLot(lot.lot_id, lot.origin or lot.lot_id, lot.quantity, basis, close, proceeds,
                                    basis - proceeds, self.term(lot.holding_start or lot.acquired), lot.acquired))
        lots.sort(key=lambda x: (-(x.loss / x.quantity), x.acquired, x.lot_id))
        return tuple(lots)

    def _return_names(self, rid: str) -> str:
        return " and ".join(o.name for o in self.snap.owners if o.return_id == rid)

    def _sell_orders(self, account: str, ticker: str, lots) -> tuple[SellOrder, ...]:
        """One sell per originating buy (specific identification names the buy), in the lots' order, except
        that a lot bought in the last 30 days is sold first: once sold, it cannot replace the others."""
        recent = {row.trade_id for row in recent_purchases(self.ctx, account, ticker)}
        grouped: dict[str, list] = {}
        for lot in lots:
            entry = grouped.get(lot.origin)
            if entry is None:
                grouped[lot.origin] = [lot.quantity, [lot.lot_id]]
            else:
                entry[0] += lot.quantity
                entry[1].append(lot.lot_id)
        order = sorted(grouped, key=lambda origin: origin not in recent)  # stable: otherwise the lots' order
        return tuple(SellOrder(o, grouped[o][0], tuple(grouped[o][1])) for o in order)

    def _propose(self, kind, account, ticker, quote, lots, proceeds, basis, loss_st, loss_lt, value, cost, buy,
                 checks, actions, explanation) -> None:
        self.proposals.append(Proposal(
            kind=kind,
            household=self.snap.household,
            account=account,
            account_name=self.accounts[account].name,
            owners=tuple(self.accounts[account].owners),
            sell_ticker=ticker,
            lots=tuple(lots),
            sell_orders=self._sell_orders(account, ticker, lots),
            sell_quantity=sum((lot.quantity for lot in lots), ZERO),
            price=quote.close,
            price_date=quote.date,
            proceeds=cents(proceeds),
            basis=cents(basis),
            loss_short=cents(loss_st),
            loss_long=cents(loss_lt),
            tax_value=cents(value),
            trading_cost=cents(cost),
            buy_ticker=buy,
            buy_amount=cents(proceeds),
            checks=tuple(checks),
            required_actions=tuple(actions),
            explanation=explanation,
            fingerprint=fingerprint(account, ticker, [lot.lot_id for lot in lots], buy),
            rank=len(self.proposals) + 1,
            sale_date=self.as_of,
        ))

"""compute(): realized gains and losses with household-wide wash sales (IRC 1091).

The rules are PRODUCT.md "Wash sales"; where the law leaves room, the choice made is written in
docs/wash_sales.md and pinned by a test in tests/engine/.

Design: trades can only wash trades of the same taxpayer unit in the same identity group, so each
trade belongs to one independent bucket (taxpayer unit, identity group) holding that state: its
positions and its replacement candidates sorted by acquisition date. One pass files every trade in
its bucket; then each bucket runs its trades in execution order. A loss binary-searches its window
and walks the candidates, skipping used-up ones through a path-compressed "next" pointer, so the run
is O(n log n) overall.
"""

import gc
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal, localcontext
from itertools import chain
from operator import attrgetter, itemgetter

from .errors import (
    EngineError,
    InvalidAccountError,
    InvalidTradeError,
    OversellError,
    UnknownAccountError,
)
from .money import CENT, CONTEXT, anniversary, cents
from .relief import Position, relieve_fifo, relieve_hifo, relieve_specific
from .types import (
    ACCOUNT_KINDS,
    ACTIONS,
    DEFERRED,
    HIFO,
    LONG,
    LOT_METHODS,
    MONEY_ZERO,
    PERMANENT,
    SELL,
    SHORT,
    TAX_ADVANTAGED_KINDS,
    TRANSFER_IN,
    WASH_CODE,
    ZERO,
    Account,
    Adjustment,
    OpenLot,
    Result,
    Sale,
    Trade,
)
from .universe import IdentityMap, default_identity

_NO_PIECES = ()  # the pieces of an acquisition that absorbed no loss (relief.py)
_row = tuple.__new__  # builds a NamedTuple row from all its fields, skipping the Python-level __new__

WINDOW_DAYS = 30  # IRC 1091(a): 30 days before to 30 days after the sale, calendar days


def _term(start: int, sold: int) -> str:
    """money.holding_term on ordinals: "long" if sold after the anniversary of the start. The
    anniversary is 365 or 366 days after the start, so only a sale exactly 366 days after the start
    needs the calendar (the engine makes that test inline and calls this only then)."""
    return LONG if sold > anniversary(date.fromordinal(start)).toordinal() else SHORT


class _Acq:
    """One acquisition (buy, reinvest, transfer_in): an originating lot and a replacement candidate.

    `avail` is the number of its shares that can still absorb a loss: not yet absorbed and, once
    executed, still held. It only ever goes down, which is what lets scans skip used-up candidates.
    `pieces` is None until the trade is executed, then its shares that absorbed a loss; the others
    (`avail` of them, basis `rest_basis`) are "the rest" (see relief.py for the layout)."""

    __slots__ = ("trade", "trade_id", "account", "ticker", "seq", "acquired", "acq_ord", "gkey", "permanent",
                 "avail", "pending", "pieces", "position", "rest_basis")

    def __init__(self, trade: Trade, seq: int, acquired: date, gkey: str, permanent: bool, position: Position):
        self.trade = trade
        self.trade_id = trade.trade_id
        self.account = trade.account
        self.ticker = trade.ticker
        self.seq = seq
        self.acquired = acquired
        self.acq_ord = acquired.toordinal()
        self.gkey = gkey
        self.permanent = permanent
        self.avail = trade.quantity
        self.pending: list | None = None  # (shares, disallowed, sold start, sale) absorbed before execution
        self.pieces: list | tuple | None = None
        self.position = position
        # rest_basis is set when the trade is executed


# The end marker of _Bucket.scan: an acquisition after every wash-sale window (only acq_ord is read).
_END = _Acq.__new__(_Acq)
_END.acq_ord = date.max.toordinal() + WINDOW_DAYS + 1


def _tacked_start(replacement_start: int, sold_start: int, sale_ord: int) -> int:
    """Holding-period start of replacement shares (IRC 1223(3), Treas. Reg. 1.1223-1(d)).

    The replacement's holding period includes the period the sold shares were held, (sold_start,
    sale]. Days the replacement shares were already held themselves (a purchase in the 30 days before
    the sale) are not counted twice; for the usual purchase after the sale the start moves back by
    exactly the days the sold shares were held."""
    overlap = sale_ord - max(replacement_start, sold_start)
    added = sale_ord - sold_start - (overlap if overlap > 0 else 0)
    return replacement_start - added


def _tacked_fast(replacement_start: int, sold_start: int, sale_ord: int) -> int:
    """_tacked_start as the engine writes it inline (no max(), no call): when the sale comes after both
    starts, the replacement is held from the earlier of the two; otherwise (a replacement acquired on
    or after the sale) its start moves back by the days the sold shares were held.
    tests/engine/test_fast_paths.py checks that both agree."""
    later = replacement_start if replacement_start > sold_start else sold_start
    if sale_ord > later:
        return replacement_start if replacement_start < sold_start else sold_start
    return replacement_start - sale_ord + sold_start


class _Bucket:
    """The trades of one taxpayer unit in one identity group, run in execution order."""

    def __init__(self, default_method: str, advantaged: set[str]):
        self.default_method = default_method
        self.advantaged = advantaged  # the accounts whose sales are not reportable (IRA, Roth, ...)
        # (seq, trade, group, Position) in execution order; prepare() turns acquisitions into _Acq
        self.events: list = []
        self.cands: list[_Acq] = []  # replacement candidates in order of acquisition
        self.positions: list[Position] = []
        # the run's rows by seq of their sell (lists shared by all buckets, set before the bucket runs)
        self.sales_out: list = []
        self.adjustments_out: list = []
        self.dates: dict[int, date] = {}  # shared by all buckets too
        self.groups: set[str] = set()

    def prepare(self) -> bool:
        """Make the bucket's acquisitions and index its replacement candidates, just before it runs
        (so they sit together in memory while it does). Returns whether every trade passed the fast
        check (_is_plain); if not, the caller must run the full check before running the bucket."""
        events = self.events
        cands = self.cands
        advantaged = self.advantaged
        plain = True
        plain_actions = _PLAIN_ACTIONS
        for index, (seq, trade, gkey, position) in enumerate(events):
            action = trade.action
            if plain:  # _is_plain(trade), inline
                q = trade.quantity
                price = trade.price
                fees = trade.fees
                if (type(q) is not Decimal or type(price) is not Decimal or type(fees) is not Decimal
                        or not q.is_finite() or not price.is_finite() or not fees.is_finite()
                        or q <= ZERO or price < ZERO or fees < ZERO or action not in plain_actions
                        or trade.lot_method or trade.acquired_date or trade.basis is not None
                        or (trade.lot_id is not None and action != SELL)):
                    plain = False
            if action != SELL:
                acq = events[index] = _Acq(trade, seq, trade.acquired_date or trade.date, gkey,
                                            trade.account in advantaged, position)
                cands.append(acq)
        # Execution order is acquisition order, except for a transfer_in acquired earlier than its row.
        ords = self.cand_ords = [a.acq_ord for a in cands]
        if ords != sorted(ords):
            cands.sort(key=lambda a: (a.acq_ord, a.seq))
            self.cand_ords = [a.acq_ord for a in cands]
        # trade id -> acquisition, for sells naming their lot (a lot in another bucket is in another
        # position, so it could not be named anyway)
        self.acq_by_id = dict(zip(map(_TRADE_ID, cands), cands, strict=True))
        self.skip = list(range(len(cands) + 1))
        self.scan = cands + [_END]  # wash() reads past the last candidate: there is always one more
        # A fund whose group changed joins two groups in one bucket: then identity is checked per pair.
        self.mixed = len(self.groups) > 1
        return plain

    # -- acquisitions ---------------------------------------------------------------------------------
    def execute(self, acq: _Acq) -> None:
        """Create the lot; shares that absorbed earlier losses become pieces with the deferred loss
        added to their basis and a tacked holding period (IRC 1091(d), 1223(3))."""
        start = acq.acq_ord
        trade = acq.trade
        qty = trade.quantity
        if trade.basis is None:
            cost = (qty * trade.price + trade.fees).quantize(CENT)
        else:
            cost = cents(trade.basis)
        if acq.pending is None:
            # the usual lot: all its shares are the rest; a shared empty tuple saves a list per lot
            acq.pieces = _NO_PIECES
            acq.rest_basis = cost
        else:
            acq.pieces = pieces = []
            rem_cost = cost
            rem_qty = qty
            permanent = acq.permanent
            for take, disallowed, sold_start, sale_ord in acq.pending:
                # each piece its share of the whole cost, the last piece what is left (money.py)
                basis = rem_cost if take == rem_qty else (cost * take / qty).quantize(CENT)
                rem_cost -= basis
                rem_qty -= take
                if permanent:  # Rev. Rul. 2008-5: no basis increase in an IRA
                    pieces.append((take, basis, MONEY_ZERO, start, acq))
                else:
                    # _tacked_start(start, sold_start, sale_ord), inline (see _tacked_fast)
                    later = start if start > sold_start else sold_start
                    pieces.append((take, basis + disallowed, disallowed,
                                   (start if start < sold_start else sold_start) if sale_ord > later
                                   else start - sale_ord + sold_start, acq))
            # the rest: acq.avail shares, the same number as rem_qty (both took the same shares off qty)
            acq.rest_basis = rem_cost
            acq.pending = None
        position = acq.position
        acqs = position.acqs
        if acqs and acqs[-1].acq_ord > start:
            position.insert(acq)  # a transfer_in acquired before lots already held
        else:
            acqs.append(acq)
        position.held += qty

    # -- sales ----------------------------------------------------------------------------------------
    def sell(self, seq: int, trade: Trade, gkey: str, position: Position) -> None:
        """Relieve the sell's lots (Treas. Reg. 1.1012-1(c)), give each its share of the net proceeds,
        wash each lot sold at a loss (IRC 1091) and file one Sale row per lot relieved (sales_out)."""
        qty = trade.quantity
        held = position.held
        if held < qty:
            raise OversellError(
                f"sell of {qty} {trade.ticker} in account {trade.account}, which holds only {held}",
                trade_id=trade.trade_id, field="quantity",
            )
        if trade.lot_id is not None:
            pieces = relieve_specific(position, qty, trade, self.acq_by_id.get(trade.lot_id))
        else:
            # Treas. Reg. 1.1012-1(c)(1): shares not adequately identified are the earliest acquired,
            # so "specific" without a lot_id relieves first in, first out.
            method = trade.lot_method or self.default_method
            pieces = (relieve_hifo if method == HIFO else relieve_fifo)(position, qty, trade)
        position.held = held - qty

        account = trade.account
        reportable = account not in self.advantaged
        sold = trade.date
        sale_ord = sold.toordinal()
        year = sold.year
        sell_id = trade.trade_id
        ticker = trade.ticker
        wash = self.wash
        dates = self.dates
        total_proceeds = rem_proceeds = (qty * trade.price - trade.fees).quantize(CENT)
        last = pieces[-1]  # pieces have positive quantities adding up to qty: the last one takes the rest
        sales: list = []
        adjustments: list = []
        for piece in pieces:
            pqty, basis, adj, hps, acq = piece
            if piece is last:
                proceeds = rem_proceeds
            else:
                # each lot its share of the sale's proceeds, the last lot what is left (money.py)
                proceeds = (total_proceeds * pqty / qty).quantize(CENT)
                rem_proceeds -= proceeds
            # IRC 1091 disallows losses only; sales inside an IRA have no deductible loss to disallow.
            if reportable and proceeds < basis:
                loss = basis - proceeds
                disallowed = wash(pqty, hps, acq, loss, sale_ord, trade, gkey, adjustments)
                # (a loss disallowed in full, the usual case, leaves exactly 0.00: no arithmetic needed)
                gain_loss = MONEY_ZERO if disallowed == loss else proceeds - basis + disallowed
            else:
                disallowed = MONEY_ZERO
                gain_loss = proceeds - basis
            acquired = acq.acquired
            if hps == acq.acq_ord:
                start = acquired
            else:  # a tacked holding period: its start, once per date and run
                start = dates.get(hps)
                if start is None:
                    start = dates[hps] = date.fromordinal(hps)
            # money.holding_term (_term): the anniversary of the start is 365 or 366 days after it
            held_days = sale_ord - hps
            sales.append(_row(Sale, (
                sell_id, acq.trade_id, account, ticker, pqty, acquired, sold, proceeds, basis, disallowed,
                WASH_CODE if disallowed else "", gain_loss,
                LONG if held_days > 366 else SHORT if held_days < 366 else _term(hps, sale_ord), year, reportable,
                start, adj,
            )))
        self.sales_out[seq] = sales
        if adjustments:
            self.adjustments_out[seq] = adjustments

    def wash(self, sold_qty: Decimal, sold_start: int, origin: _Acq, loss: Decimal, sale_ord: int, trade: Trade,
             gkey: str, adjustments: list) -> Decimal:
        """Disallow the loss on `sold_qty` shares of `origin` held since `sold_start` to the extent of
        replacement shares; returns the amount.

        Treas. Reg. 1.1091-1(b)-(c) and PRODUCT.md "Wash sales" 2-3: replacement shares are those
        acquired 30 days before to 30 days after the sale by the same taxpayer unit, in the same identity
        group, matched in order of acquisition, share for share, each absorbing at most one loss; shares
        from the purchase being sold are not replacements for it (Rev. Rul. 56-602). Shares bought
        before the sale count only while still held after it (docs/wash_sales.md)."""
        scan = self.scan  # the candidates, then an end marker acquired after any window
        skip = self.skip
        hi = sale_ord + WINDOW_DAYS
        i = bisect_left(self.cand_ords, sale_ord - WINDOW_DAYS)
        need = sold_qty
        done = MONEY_ZERO
        mixed = self.mixed
        while True:
            # the next candidate not used up (path halving over the "next" pointers)
            while skip[i] != i:
                skip[i] = skip[skip[i]]
                i = skip[i]
            cand = scan[i]
            if cand.acq_ord > hi:
                break
            avail = cand.avail
            if not avail:
                skip[i] = i + 1
                continue
            pieces = cand.pieces
            if (cand is not origin and (pieces is not None or cand.trade.action != TRANSFER_IN)
                    and (not mixed or cand.ticker == trade.ticker or cand.gkey == gkey)):
                # each replacement its share of the loss; when every share is replaced the last one
                # gets what is left, so the amounts add up to exactly the loss (money.py)
                if avail < need:
                    take = avail
                    need -= avail
                    amount = (loss * take / sold_qty).quantize(CENT)
                else:  # the last replacement needed (`need` is not used again)
                    take = need
                    need = ZERO
                    amount = loss if done is MONEY_ZERO else loss - done
                # (0.00 + amount is amount, digit for digit: skipping the addition keeps one Decimal)
                done = amount if done is MONEY_ZERO else done + amount
                # IRC 1091(d): the replacement shares take the disallowed loss
                cand.avail = avail - take
                permanent = cand.permanent
                if pieces is None:  # not executed yet: the lot takes it when it is created
                    if cand.pending is None:
                        cand.pending = [(take, amount, sold_start, sale_ord)]
                    else:
                        cand.pending.append((take, amount, sold_start, sale_ord))
                else:
                    # held shares: carve them out of the rest (the `avail` shares that absorbed nothing)
                    if take == avail:  # all of it, keeping the quantity as written on the lot
                        shares = avail
                        basis = cand.rest_basis
                        cand.rest_basis = MONEY_ZERO
                    else:
                        shares = take
                        basis = (cand.rest_basis * take / avail).quantize(CENT)
                        cand.rest_basis -= basis
                    if permanent:  # Rev. Rul. 2008-5: no basis increase in an IRA
                        piece = (shares, basis, MONEY_ZERO, cand.acq_ord, cand)
                    else:
                        # _tacked_start(cand.acq_ord, sold_start, sale_ord), inline (see _tacked_fast)
                        start = cand.acq_ord
                        later = start if start > sold_start else sold_start
                        piece = (shares, basis + amount, amount,
                                 (start if start < sold_start else sold_start) if sale_ord > later
                                 else start - sale_ord + sold_start, cand)
                    if pieces:
                        pieces.append(piece)
                    else:
                        cand.pieces = [piece]
                adjustments.append(_row(Adjustment, (
                    trade.trade_id, origin.trade_id, cand.trade_id, cand.account, take, amount,
                    PERMANENT if permanent else DEFERRED, trade.account, trade.ticker, cand.ticker,
                    trade.date, cand.acquired, gkey,
                )))
                if not need:
                    break
            i += 1
        return done


def _check_accounts(accounts: Sequence[Account]) -> dict[str, Account]:
    by_id: dict[str, Account] = {}
    for account in accounts:
        if account.account in by_id:
            raise InvalidAccountError(f"duplicate account {account.account!r}", account=account.account,
                                      field="account")
        if account.kind not in ACCOUNT_KINDS:
            raise InvalidAccountError(
                f"unknown account kind {account.kind!r} (expected one of {', '.join(sorted(ACCOUNT_KINDS))})",
                account=account.account, field="kind",
            )
        if not account.taxpayer:
            raise InvalidAccountError("empty taxpayer unit", account=account.account, field="taxpayer")
        by_id[account.account] = account
    return by_id


def _is_plain(trade: Trade) -> bool:
    """The fast check of the usual trade: a buy, reinvest or sell with finite Decimal amounts, a positive
    quantity, no negative price or fees, and none of the fields that need the full check. (Comparing
    with the Decimal ZERO, not the int 0, saves converting the int on every trade.)"""
    q = trade.quantity
    price = trade.price
    fees = trade.fees
    action = trade.action
    return not (type(q) is not Decimal or type(price) is not Decimal or type(fees) is not Decimal
                or not q.is_finite() or not price.is_finite() or not fees.is_finite()
                or q <= ZERO or price < ZERO or fees < ZERO or action not in _PLAIN_ACTIONS
                or trade.lot_method or trade.acquired_date or trade.basis is not None
                or (trade.lot_id is not None and action != SELL))


def _check_in_order(trades: Sequence[Trade], accounts: Mapping[str, Account]) -> None:
    """Check `trades` in order and raise the error of the first invalid one (the full check of each
    trade that is not plain, or whose account or id is unknown or repeated). The engine's fast checks
    are spread over its passes; whenever one of them finds something unusual, this decides, so the
    error raised is always the one of the first invalid trade in execution order."""
    seen: set[str] = set()
    for trade in trades:
        if not _is_plain(trade) or trade.account not in accounts or trade.trade_id in seen:
            _check_trade(trade, accounts, seen)
        seen.add(trade.trade_id)


def _raise_first_invalid(trades: Sequence[Trade], accounts: Mapping[str, Account]) -> None:
    """_check_in_order, for a handler: its error is raised on its own, not "during handling of" the
    failure that an invalid trade explains."""
    try:
        _check_in_order(trades, accounts)
    except EngineError as error:
        raise error from None


def _check_trade(trade: Trade, accounts: Mapping[str, Account], seen) -> None:
    """The full check of one trade, raising the error that names what is wrong (`seen`: earlier ids)."""
    tid = trade.trade_id
    if tid in seen:
        raise InvalidTradeError(f"duplicate trade_id {tid!r}", trade_id=tid, field="trade_id")
    if trade.account not in accounts:
        raise UnknownAccountError(f"unknown account {trade.account!r}", trade_id=tid, field="account")
    action = trade.action
    if action not in ACTIONS:
        raise InvalidTradeError(
            f"unknown action {action!r} (expected buy, sell, reinvest or transfer_in)", trade_id=tid,
            field="action",
        )
    for name in ("quantity", "price", "fees"):
        value = getattr(trade, name)
        if type(value) is not Decimal or not value.is_finite():
            raise InvalidTradeError(f"{name} must be a finite Decimal, not {value!r}", trade_id=tid,
                                    field=name)
    if trade.quantity <= 0:
        raise InvalidTradeError(f"quantity must be positive, got {trade.quantity}", trade_id=tid,
                                field="quantity")
    if trade.price < 0:
        raise InvalidTradeError(f"price must not be negative, got {trade.price}", trade_id=tid, field="price")
    if trade.fees < 0:
        raise InvalidTradeError(f"fees must not be negative, got {trade.fees}", trade_id=tid, field="fees")
    if action != SELL and trade.lot_id is not None:
        raise InvalidTradeError("lot_id is only allowed on a sell", trade_id=tid, field="lot_id")
    if trade.lot_method is not None and trade.lot_method not in LOT_METHODS:
        raise InvalidTradeError(f"unknown lot method {trade.lot_method!r}", trade_id=tid, field="lot_method")
    if action != TRANSFER_IN and (trade.acquired_date is not None or trade.basis is not None):
        raise InvalidTradeError("acquired_date and basis are only allowed on a transfer_in", trade_id=tid,
                                field="acquired_date" if trade.acquired_date is not None else "basis")
    if trade.acquired_date is not None and trade.acquired_date > trade.date:
        raise InvalidTradeError("acquired_date is after the trade date", trade_id=tid, field="acquired_date")
    if trade.basis is not None and (type(trade.basis) is not Decimal or not trade.basis.is_finite()
                                    or trade.basis < 0):
        raise InvalidTradeError(f"basis must be a non-negative Decimal, got {trade.basis!r}", trade_id=tid,
                                field="basis")


def compute(
    accounts: Sequence[Account],
    trades: Sequence[Trade],
    identity: Mapping[str, str] | IdentityMap | None = None,
    lot_method: str = "fifo",
) -> Result:
    """Realized gains and losses, wash-sale adjustments and open lots of a household.

    IRC 1091 and Treas. Reg. 1.1091-1/-2 as written in PRODUCT.md "Wash sales": a loss is disallowed
    to the extent the same taxpayer unit acquires substantially identical shares (same identity group)
    within 30 days before or after the sale, in any of its accounts; the loss is added to the basis of
    taxable replacement shares (1091(d)) or lost for good when they are bought in an IRA, Roth IRA,
    401(k) or HSA (Rev. Rul. 2008-5).

    `trades` are in execution order; rows are stably sorted by date, so rows of one date keep their
    order. `identity` maps ticker -> group (default: the built-in ETF universe, see universe.py);
    unknown tickers are their own group. `lot_method` (fifo, hifo, specific) relieves sells that name no
    lot_id and have no lot_method of their own. Raises an EngineError subclass on invalid input;
    never returns a partial result."""
    # The run allocates millions of small objects and frees them itself (see _release), so the cyclic
    # garbage collector has nothing to find; pausing it saves about a third of the time at 1M trades.
    paused = gc.isenabled()
    gc.disable()
    try:
        with localcontext(CONTEXT):
            return _compute(accounts, trades, identity, lot_method)
    finally:
        if paused:
            gc.enable()


def _compute(accounts, trades, identity, lot_method) -> Result:
    if lot_method not in LOT_METHODS:
        raise ValueError(f"unknown lot method {lot_method!r} (expected fifo, hifo or specific)")
    by_account = _check_accounts(accounts)
    kinds = {a: acc.kind for a, acc in by_account.items()}
    if identity is None:
        identity = default_identity()
    elif not isinstance(identity, IdentityMap):
        identity = IdentityMap.from_mapping(identity)

    try:
        ordered = sorted(trades, key=_DATE)  # stable: same-date rows keep execution order
    except TypeError:  # a date that is not a date: let the full check say which trade
        seen: set[str] = set()
        for trade in trades:
            _check_trade(trade, by_account, seen)
            seen.add(trade.trade_id)
        raise
    # The trades are checked (and their lots made) bucket by bucket, just before each bucket runs and
    # reads them anyway, not in this pass in date order across households: with both done here, this
    # pass took a fifth of the run at a million trades, most of it waiting on memory. Whenever a check
    # finds something unusual, or anything fails, _check_in_order decides, so the error is still the
    # one of the first invalid trade in execution order.
    checked = False  # whether _check_in_order has run (it raises at the first invalid trade)

    # Buckets: (taxpayer unit, identity bucket). A fund whose group changes joins its groups into one
    # bucket; inside such a "mixed" bucket, identity is checked per pair of trades.
    roots: dict[str, str] = {}

    def root(key: str) -> str:
        while roots.get(key, key) != key:
            key = roots[key]
        return key

    static_group: dict[str, str] = {}
    for ticker in set(map(_TICKER, ordered)):
        if identity.is_static(ticker):
            static_group[ticker] = identity.group_on(ticker, date.min)
        else:
            groups = sorted(identity.groups_of(ticker))
            first = root(groups[0])
            for other in groups[1:]:
                other = root(other)
                if other != first:
                    roots[other] = first

    taxpayer_of = {a: acc.taxpayer for a, acc in by_account.items()}
    advantaged = {a for a, kind in kinds.items() if kind in TAX_ADVANTAGED_KINDS}
    # (account, ticker) -> (its bucket's events.append, its Position, its group if it never changes, its
    # bucket). All the groups a ticker can have share one root, so a position always falls in one bucket.
    where: dict[tuple[str, str], tuple[Callable, Position, str | None, _Bucket]] = {}
    buckets: dict[tuple[str, str], _Bucket] = {}
    seq = -1
    try:
        for seq, trade in enumerate(ordered):
            ticker = trade.ticker
            info = where.get((trade.account, ticker))
            if info is None:
                account = trade.account
                if account not in by_account:
                    checked = True
                    _check_in_order(ordered[:seq + 1], by_account)  # raises
                group = static_group.get(ticker)
                key = (taxpayer_of[account], root(group or identity.group_on(ticker, trade.date)))
                bucket = buckets.get(key)
                if bucket is None:
                    bucket = buckets[key] = _Bucket(lot_method, advantaged)
                position = Position()
                bucket.positions.append(position)
                if group is not None:
                    bucket.groups.add(group)
                info = where[account, ticker] = (bucket.events.append, position, group, bucket)
            file, position, gkey, bucket = info
            if gkey is None:  # a fund whose group changes: its group on the day (of acquisition)
                gkey = identity.group_on(ticker, trade.date if trade.action == SELL
                                         else trade.acquired_date or trade.date)
                bucket.groups.add(gkey)
            file((seq, trade, gkey, position))
    except Exception:
        # Had the trades up to this one been checked as they came, would an invalid one have been
        # found first? Then that is the error.
        if not checked:
            _raise_first_invalid(ordered[:seq + 1], by_account)
        raise

    where = info = None  # they hold each bucket's events (through events.append): let the run free them

    # Buckets are independent: run each to the end in turn, which keeps its state hot in the CPU cache
    # (a third faster at 300,000 trades than interleaving them). Each sell files its rows under its
    # place in execution order, so the output needs no sort.
    sales_by_seq: list = [None] * len(ordered)
    adjustments_by_seq: list = [None] * len(ordered)
    ids: set[str] = set()  # trade ids must be unique; a repeated one is reported after the run
    dates: dict[int, date] = {}  # ordinal -> date, for the holding-period starts of the rows
    try:
        for bucket in buckets.values():
            ids.update(map(_TRADE_ID, map(_TRADE_OF_EVENT, bucket.events)))
            if not bucket.prepare() and not checked:
                checked = True
                _check_in_order(ordered, by_account)  # raises at the first invalid trade, if any
            bucket.sales_out = sales_by_seq
            bucket.dates = dates
            bucket.adjustments_out = adjustments_by_seq
            execute, sell = bucket.execute, bucket.sell
            for event in bucket.events:
                if type(event) is not _Acq:
                    sell(*event)
                elif event.pending is None and event.trade.basis is None:
                    # execute(event) for the usual lot, inline: all its shares are the rest
                    trade = event.trade
                    qty = trade.quantity
                    event.rest_basis = (qty * trade.price + trade.fees).quantize(CENT)
                    event.pieces = _NO_PIECES
                    position = event.position
                    acqs = position.acqs
                    if acqs and acqs[-1].acq_ord > event.acq_ord:
                        position.insert(event)  # a transfer_in acquired before lots already held
                    else:
                        acqs.append(event)
                    position.held += qty
                else:
                    execute(event)
            # Done with its candidates: the acquisitions used up go now (reference counting: they are in
            # no cycle, see _release), so that the next buckets reuse their memory rather than new pages.
            bucket.events = bucket.cands = bucket.scan = bucket.skip = bucket.cand_ords = bucket.acq_by_id = None
        if len(ids) != len(ordered) and not checked:
            checked = True
            _check_in_order(ordered, by_account)  # raises: some trade id repeats
    except Exception:
        if not checked:  # an invalid trade in a bucket not yet checked is the error to report
            _raise_first_invalid(ordered, by_account)
        raise
    del ids

    open_rows = []
    for bucket in buckets.values():
        for position in bucket.positions:
            for acq in position.acqs:
                index = -1
                for index, piece in enumerate(acq.pieces):
                    open_rows.append(((acq.account, acq.ticker, acq.acq_ord, acq.seq, index), piece))
                if acq.avail:  # the rest comes after the pieces
                    open_rows.append(((acq.account, acq.ticker, acq.acq_ord, acq.seq, index + 1),
                                      (acq.avail, acq.rest_basis, MONEY_ZERO, acq.acq_ord, acq)))
    open_rows.sort(key=_first)
    result = Result(
        sales=tuple(chain.from_iterable(filter(None, sales_by_seq))),
        adjustments=tuple(chain.from_iterable(filter(None, adjustments_by_seq))),
        open_lots=tuple([_open_lot(piece) for _, piece in open_rows]),
    )
    _release(buckets.values())
    return result


def _release(buckets) -> None:
    """Break the acquisition <-> piece <-> position reference cycles, so that reference counting frees
    the working state as soon as compute() returns (the cyclic collector is paused). Only acquisitions
    still in a position can be in a cycle: one with pieces left is always there (relief drops only
    emptied ones), and the others no longer reach their position's deque."""
    for bucket in buckets:
        for position in bucket.positions:
            for acq in position.acqs:
                acq.pieces = acq.position = None
        bucket.positions = None


_DATE = attrgetter("date")
_TRADE_ID = attrgetter("trade_id")
_TICKER = attrgetter("ticker")
_TRADE_OF_EVENT = itemgetter(1)  # (seq, trade, group, Position) -> trade
_PLAIN_ACTIONS = frozenset({"buy", "sell", "reinvest"})




def _first(item):
    return item[0]


def _open_lot(piece: tuple) -> OpenLot:
    qty, basis, adj, hps, acq = piece
    return OpenLot(
        acq.account, acq.ticker, acq.trade_id, acq.acquired, qty, basis,
        acq.acquired if hps == acq.acq_ord else date.fromordinal(hps), adj,
    )


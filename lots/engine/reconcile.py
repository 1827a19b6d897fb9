"""Reconcile the household engine's sales with a broker's realized gain/loss (1099-B) report.

PRODUCT.md "Wash sales" 8: a broker's 1099-B box 1g only covers wash sales inside that account and
the same security (CUSIP). Wash sales across accounts, with a spouse, with an IRA purchase, or
between substantially identical funds are the taxpayer's to report. reconcile() lines the broker's
rows up against the engine's and says, per sale, what each found and why they differ.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .types import MONEY_ZERO, PERMANENT, Account, Adjustment, Result, Sale

MATCH = "match"  # same quantity, proceeds, basis and disallowed amount
ADDITIONAL = "additional"  # the engine disallows more than the broker reported: report the difference
LESS = "less"  # the broker disallowed more than the engine finds
DIFFERS = "differs"  # same disallowed amount, but quantity, proceeds or basis differ
BROKER_ONLY = "broker_only"
ENGINE_ONLY = "engine_only"


@dataclass(frozen=True, slots=True)
class BrokerRow:
    """One row of a broker's realized gain/loss report. `date_acquired` is None in transaction-level
    reports (Schwab GainLoss_Realized) and for "Various"; `account` is the report's account (ours, once
    the caller has mapped it); `line` is the row number in the file."""

    account: str | None
    ticker: str
    date_sold: date
    quantity: Decimal
    proceeds: Decimal | None
    cost_basis: Decimal | None
    wash_sale_disallowed: Decimal = MONEY_ZERO
    date_acquired: date | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class ReconciliationRow:
    status: str
    account: str
    ticker: str
    date_sold: date
    date_acquired: date | None
    engine_qty: Decimal
    broker_qty: Decimal
    engine_proceeds: Decimal
    broker_proceeds: Decimal | None
    engine_cost_basis: Decimal
    broker_cost_basis: Decimal | None
    engine_disallowed: Decimal
    broker_disallowed: Decimal
    additional_disallowed: Decimal  # engine - broker: positive = the taxpayer reports this much more
    reasons: tuple[str, ...]
    sell_trades: tuple[str, ...]
    broker_lines: tuple[int, ...]
    sales: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # (sell_trade, buy_trade) keys


@dataclass(frozen=True, slots=True)
class Reconciliation:
    accounts: tuple[str, ...]
    period: tuple[date, date]
    rows: tuple[ReconciliationRow, ...]

    @property
    def additional_disallowed(self) -> Decimal:
        """Disallowed losses the household must report beyond the broker's box 1g."""
        return sum((r.additional_disallowed for r in self.rows if r.additional_disallowed > 0), MONEY_ZERO)

    @property
    def reported(self) -> frozenset[tuple[str, str]]:
        """(sell_trade, buy_trade) of the engine's sales the broker reported (for Form 8949 boxes)."""
        return frozenset(k for r in self.rows if r.status not in (BROKER_ONLY, ENGINE_ONLY) for k in r.sales)


def reconcile(
    result: Result,
    broker_rows: Iterable[BrokerRow],
    account: str | None = None,
    *,
    accounts: Sequence[Account] = (),
    period: tuple[date, date] | None = None,
    tolerance: Decimal = Decimal("0.01"),
) -> Reconciliation:
    """Line up a broker's realized gain/loss rows with the engine's sales of the same account.

    `account` is our account the report is for; it fills rows that name none. `period` limits the
    engine's sales to the report's dates (default: the calendar years of the broker's rows).
    Lot-level rows (with a date acquired) match the engine's sales of that lot, trying the actual and
    then the wash-adjusted acquisition date; what is left, and transaction-level rows, match per
    (account, ticker, date sold). Amounts within `tolerance` per row count as equal (brokers split
    cents between lots their own way). `accounts` lets the reasons say "spouse" instead of "other
    account". IRS Form 1099-B instructions (box 1g) and PRODUCT.md "Wash sales" 8."""
    broker = [r if r.account else _with_account(r, account) for r in broker_rows]
    in_scope = {r.account for r in broker}
    if period is None:
        years = sorted({r.date_sold.year for r in broker}) or [0]
        period = (date(max(years[0], 1), 1, 1), date(max(years[-1], 1), 12, 31))
    sales = [s for s in result.sales if s.account in in_scope and period[0] <= s.date_sold <= period[1]]
    why = _Reasons(result, accounts)

    rows: list[ReconciliationRow] = []
    b_lot = defaultdict(list)
    b_txn = defaultdict(list)
    for r in broker:
        (b_lot[_lot_key(r, r.date_acquired)] if r.date_acquired else b_txn[_txn_key(r)]).append(r)
    left = list(sales)
    for use_hps in (False, True):
        e_lot = defaultdict(list)
        for s in left:
            e_lot[_lot_key(s, s.holding_period_start if use_hps else s.date_acquired)].append(s)
        for key in [k for k in b_lot if k in e_lot]:
            rows.append(_compare(key, e_lot.pop(key), b_lot.pop(key), why, tolerance))
        left = [s for group in e_lot.values() for s in group]
    for key, group in b_lot.items():
        b_txn[key[:3]].extend(group)
    e_txn = defaultdict(list)
    for s in left:
        e_txn[_txn_key(s)].append(s)
    for key in set(b_txn) | set(e_txn):
        rows.append(_compare(key, e_txn.get(key, []), b_txn.get(key, []), why, tolerance))
    rows.sort(key=lambda r: (r.date_sold, r.account, r.ticker, r.date_acquired or date.min, r.broker_lines))
    return Reconciliation(tuple(sorted(in_scope)), period, tuple(rows))


def _with_account(row: BrokerRow, account: str | None) -> BrokerRow:
    if account is None:
        raise ValueError(f"broker row {row.line} names no account and no account was given")
    return BrokerRow(account, row.ticker, row.date_sold, row.quantity, row.proceeds, row.cost_basis,
                     row.wash_sale_disallowed, row.date_acquired, row.line)


def _txn_key(row) -> tuple:
    return (row.account, row.ticker, row.date_sold)


def _lot_key(row, acquired) -> tuple:
    return (row.account, row.ticker, row.date_sold, acquired)


def _total(values) -> Decimal | None:
    values = list(values)
    if any(v is None for v in values):
        return None
    return sum(values, MONEY_ZERO)


def _compare(key, mine: list[Sale], theirs: list[BrokerRow], why: "_Reasons", tolerance: Decimal):
    account, ticker, sold = key[:3]
    acquired = key[3] if len(key) > 3 else None
    e_qty = sum((s.qty for s in mine), Decimal(0))
    b_qty = sum((r.quantity for r in theirs), Decimal(0))
    e_proceeds = sum((s.proceeds for s in mine), MONEY_ZERO)
    e_basis = sum((s.cost_basis for s in mine), MONEY_ZERO)
    e_dis = sum((s.wash_sale_disallowed for s in mine), MONEY_ZERO)
    b_proceeds = _total(r.proceeds for r in theirs) if theirs else None
    b_basis = _total(r.cost_basis for r in theirs) if theirs else None
    b_dis = sum((r.wash_sale_disallowed for r in theirs), MONEY_ZERO)
    slack = tolerance * max(len(mine), len(theirs), 1)
    if not theirs:
        status = ENGINE_ONLY
    elif not mine:
        status = BROKER_ONLY
    elif e_dis - b_dis > slack:
        status = ADDITIONAL
    elif b_dis - e_dis > slack:
        status = LESS
    elif e_qty != b_qty or any(
        b is not None and abs(e - b) > slack for e, b in ((e_proceeds, b_proceeds), (e_basis, b_basis))
    ):
        status = DIFFERS
    else:
        status = MATCH
    reasons = why.explain(mine) if mine and status != MATCH else ()
    return ReconciliationRow(
        status=status, account=account, ticker=ticker, date_sold=sold, date_acquired=acquired,
        engine_qty=e_qty, broker_qty=b_qty, engine_proceeds=e_proceeds, broker_proceeds=b_proceeds,
        engine_cost_basis=e_basis, broker_cost_basis=b_basis, engine_disallowed=e_dis, broker_disallowed=b_dis,
        additional_disallowed=e_dis - b_dis if mine else MONEY_ZERO - b_dis,
        reasons=reasons, sell_trades=tuple(dict.fromkeys(s.sell_trade for s in mine)),
        broker_lines=tuple(r.line for r in theirs), sales=tuple((s.sell_trade, s.buy_trade) for s in mine),
    )


class _Reasons:
    """Why the engine's wash sales for a sale differ from what one broker account can see."""

    def __init__(self, result: Result, accounts: Sequence[Account]):
        self.owner: Mapping[str, str] = {a.account: a.owner for a in accounts}
        self.by_loss: dict[tuple[str, str], list[Adjustment]] = defaultdict(list)
        self.by_replacement: dict[str, list[Adjustment]] = defaultdict(list)
        for adj in result.adjustments:
            self.by_loss[adj.sell_trade, adj.buy_trade].append(adj)
            self.by_replacement[adj.replacement_trade].append(adj)

    def _where(self, adj: Adjustment, account: str, ticker: str) -> str | None:
        parts = []
        if adj.replacement_account != account:
            owner, other = self.owner.get(account), self.owner.get(adj.replacement_account)
            whose = "spouse's account" if owner and other and owner != other else "another account"
            parts.append(f"{whose} {adj.replacement_account}")
        if adj.replacement_ticker and adj.replacement_ticker != ticker:
            parts.append(f"substantially identical {adj.replacement_ticker} (group {adj.group})")
        return ", ".join(parts) or None

    def explain(self, sales: Iterable[Sale]) -> tuple[str, ...]:
        out: dict[str, None] = {}
        for sale in sales:
            for adj in self.by_loss.get((sale.sell_trade, sale.buy_trade), ()):
                where = self._where(adj, sale.account, sale.ticker)
                if adj.kind == PERMANENT:
                    out[f"{adj.disallowed} lost for good: replacement {adj.replacement_trade} bought in IRA-type "
                        f"account {adj.replacement_account}"] = None
                elif where:
                    out[f"{adj.disallowed} disallowed: replacement {adj.replacement_trade} in {where}"] = None
            if sale.wash_basis_adjustment:
                for adj in self.by_replacement.get(sale.buy_trade, ()):
                    if adj.account != sale.account or adj.ticker != sale.ticker:
                        out[f"basis includes {adj.disallowed} deferred from loss sale {adj.sell_trade} in "
                            f"{adj.account} {adj.ticker}"] = None
        return tuple(out)

"""The only module that turns ORM rows into engine values and engine results back into rows."""

from collections.abc import Iterable

from accounts.models import Account, Household
from lots import engine
from lots.models import Disposal, IdentityOverride, Lot, Security, Transaction, WashSaleAdjustment

ENGINE_ACTIONS = {
    Transaction.Action.BUY: "buy",
    Transaction.Action.SELL: "sell",
    Transaction.Action.REINVEST: "reinvest",
    Transaction.Action.TRANSFER_IN: "transfer_in",
}


def account_to_engine(account: Account) -> engine.Account:
    owners = sorted(o.pk for o in account.owners.all())
    units = {o.taxpayer_unit_id for o in account.owners.all()}
    if len(units) != 1:
        raise ValueError(f"Account {account} must have owners in exactly one taxpayer unit (has {len(units)}).")
    return engine.Account(
        account=str(account.pk), owner=str(owners[0]), taxpayer=str(units.pop()), kind=account.engine_kind
    )


def identity_map(household: Household, securities: Iterable[Security]) -> engine.IdentityMap:
    """ticker -> identity group over time: the index tracked from each date (SecurityIndex), unless the
    household overrode the security's group (then that group, at all dates). Prefetch index_history."""
    overrides = dict(
        IdentityOverride.objects.filter(household=household).values_list("security__ticker", "group")
    )
    periods = {}
    for s in securities:
        if s.ticker in overrides:
            periods[s.ticker] = [(None, overrides[s.ticker])]
        else:
            periods[s.ticker] = [(entry.since, entry.index_name) for entry in s.index_history.all()]
    return engine.IdentityMap({t: p for t, p in periods.items() if p})


def transaction_to_engine(txn: Transaction, account_method: str) -> engine.Trade:
    method = txn.lot_selection or account_method
    return engine.Trade(
        trade_id=str(txn.pk),
        date=txn.trade_date,
        account=str(txn.account_id),
        ticker=txn.security.ticker,
        action=ENGINE_ACTIONS[txn.action],
        quantity=txn.quantity,
        price=txn.price,
        fees=txn.fees,
        lot_id=str(txn.specific_lot_id) if txn.specific_lot_id else None,
        lot_method=method if txn.action == Transaction.Action.SELL else None,
        acquired_date=txn.acquired_date,
        basis=txn.basis,
    )


# The derived tables' columns (name, PostgreSQL type) in the order of the tuples of result_rows(); the
# ledger writes them with harvester.rawsql.pg_insert on PostgreSQL. A disposal's id is set by the writer.
LOT_COLUMNS = (
    ("account_id", "bigint"), ("security_id", "bigint"), ("origin_id", "bigint"), ("piece", "smallint"),
    ("quantity", "numeric"), ("cost_basis", "numeric"), ("wash_sale_adjustment", "numeric"),
    ("acquired_date", "date"), ("holding_period_start", "date"),
)
DISPOSAL_COLUMNS = (
    ("account_id", "bigint"), ("security_id", "bigint"), ("sale_id", "bigint"), ("origin_id", "bigint"),
    ("quantity", "numeric"), ("date_acquired", "date"), ("date_sold", "date"), ("proceeds", "numeric"),
    ("cost_basis", "numeric"), ("disallowed", "numeric"), ("code", "text"), ("gain_loss", "numeric"),
    ("term", "text"), ("holding_period_start", "date"), ("wash_basis_adjustment", "numeric"),
    ("tax_year", "smallint"), ("reportable", "boolean"),
)
ADJUSTMENT_COLUMNS = (
    ("disposal_id", "bigint"), ("replacement_id", "bigint"), ("replacement_account_id", "bigint"),
    ("quantity", "numeric"), ("disallowed", "numeric"), ("kind", "text"), ("identity_group", "text"),
)


def result_rows(result: engine.Result, *, security_ids: dict[str, int]) -> tuple[list, list, list]:
    """Engine result -> the rows of Lot, Disposal and WashSaleAdjustment as tuples in the order of
    LOT_COLUMNS, DISPOSAL_COLUMNS and ADJUSTMENT_COLUMNS; an adjustment's disposal_id is the index of its
    disposal in the disposals (the writer gives the disposals their ids). The pieces of one buy that are
    still open are numbered 0, 1, ... in the engine's order."""
    lots = []
    pieces: dict[str, int] = {}
    for ol in result.open_lots:
        piece = pieces[ol.buy_trade] = pieces.get(ol.buy_trade, -1) + 1
        lots.append((int(ol.account), security_ids[ol.ticker], int(ol.buy_trade), piece, ol.qty, ol.adjusted_basis,
                     ol.wash_sale_adjustment, ol.acquired_date, ol.holding_period_start))
    disposals = []
    by_key: dict[tuple[str, str], int] = {}
    for sale in result.sales:
        by_key[(sale.sell_trade, sale.buy_trade)] = len(disposals)
        disposals.append((
            int(sale.account), security_ids[sale.ticker], int(sale.sell_trade), int(sale.buy_trade), sale.qty,
            sale.date_acquired, sale.date_sold, sale.proceeds, sale.cost_basis, sale.wash_sale_disallowed, sale.code,
            sale.gain_loss, sale.term, sale.holding_period_start, sale.wash_basis_adjustment, sale.tax_year,
            sale.reportable,
        ))
    adjustments = [
        (by_key[(adj.sell_trade, adj.buy_trade)], int(adj.replacement_trade), int(adj.replacement_account), adj.qty,
         adj.disallowed, adj.kind, adj.group)
        for adj in result.adjustments
    ]
    return lots, disposals, adjustments


def _names(columns) -> tuple[str, ...]:
    return tuple(name for name, _ in columns)


def result_to_rows(result: engine.Result, *, securities: dict[str, Security]) -> tuple[list, list, list]:
    """Engine result -> unsaved Lot, Disposal and (disposal index, WashSaleAdjustment) instances."""
    lots, disposals, adjustments = result_rows(result, security_ids={t: s.pk for t, s in securities.items()})
    lot_names, disposal_names, adjustment_names = _names(LOT_COLUMNS), _names(DISPOSAL_COLUMNS), _names(
        ADJUSTMENT_COLUMNS[1:])
    return (
        [Lot(**dict(zip(lot_names, row, strict=True))) for row in lots],
        [Disposal(**dict(zip(disposal_names, row, strict=True))) for row in disposals],
        [(row[0], WashSaleAdjustment(**dict(zip(adjustment_names, row[1:], strict=True)))) for row in adjustments],
    )


def disposal_to_sale(d: Disposal) -> engine.Sale:
    return engine.Sale(
        sell_trade=str(d.sale_id),
        buy_trade=str(d.origin_id),
        account=str(d.account_id),
        ticker=d.security.ticker,
        qty=d.quantity,
        date_acquired=d.date_acquired,
        date_sold=d.date_sold,
        proceeds=d.proceeds,
        cost_basis=d.cost_basis,
        wash_sale_disallowed=d.disallowed,
        code=d.code,
        gain_loss=d.gain_loss,
        term=d.term,
        tax_year=d.tax_year,
        reportable=d.reportable,
        holding_period_start=d.holding_period_start,
        wash_basis_adjustment=d.wash_basis_adjustment,
    )


def adjustment_to_engine(a: WashSaleAdjustment) -> engine.Adjustment:
    d = a.disposal
    return engine.Adjustment(
        sell_trade=str(d.sale_id),
        buy_trade=str(d.origin_id),
        replacement_trade=str(a.replacement_id),
        replacement_account=str(a.replacement_account_id),
        qty=a.quantity,
        disallowed=a.disallowed,
        kind=a.kind,
        account=str(d.account_id),
        ticker=d.security.ticker,
        replacement_ticker=a.replacement.security.ticker,
        date_sold=d.date_sold,
        replacement_date=a.replacement.trade_date,
        group=a.identity_group,
    )


def stored_result(disposals, adjustments) -> engine.Result:
    """Stored disposals and adjustments as an engine Result, so reports reuse the engine's own functions."""
    return engine.Result(
        sales=tuple(disposal_to_sale(d) for d in disposals),
        adjustments=tuple(adjustment_to_engine(a) for a in adjustments),
        open_lots=(),
    )

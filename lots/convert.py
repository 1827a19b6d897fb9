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


def result_to_rows(result: engine.Result, *, securities: dict[str, Security]) -> tuple[list, list, list]:
    """Engine result -> unsaved Lot, Disposal and (disposal-index, WashSaleAdjustment) rows."""
    lots = []
    pieces: dict[str, int] = {}
    for ol in result.open_lots:
        piece = pieces[ol.buy_trade] = pieces.get(ol.buy_trade, -1) + 1
        lots.append(
            Lot(
                account_id=int(ol.account),
                security=securities[ol.ticker],
                origin_id=int(ol.buy_trade),
                piece=piece,
                quantity=ol.qty,
                cost_basis=ol.adjusted_basis,
                wash_sale_adjustment=ol.wash_sale_adjustment,
                acquired_date=ol.acquired_date,
                holding_period_start=ol.holding_period_start,
            )
        )
    disposals = []
    by_key: dict[tuple[str, str], int] = {}
    for sale in result.sales:
        by_key[(sale.sell_trade, sale.buy_trade)] = len(disposals)
        disposals.append(
            Disposal(
                account_id=int(sale.account),
                security=securities[sale.ticker],
                sale_id=int(sale.sell_trade),
                origin_id=int(sale.buy_trade),
                quantity=sale.qty,
                date_acquired=sale.date_acquired,
                date_sold=sale.date_sold,
                proceeds=sale.proceeds,
                cost_basis=sale.cost_basis,
                disallowed=sale.wash_sale_disallowed,
                code=sale.code,
                gain_loss=sale.gain_loss,
                term=sale.term,
                holding_period_start=sale.holding_period_start,
                wash_basis_adjustment=sale.wash_basis_adjustment,
                tax_year=sale.tax_year,
                reportable=sale.reportable,
            )
        )
    adjustments = [
        (
            by_key[(adj.sell_trade, adj.buy_trade)],
            WashSaleAdjustment(
                replacement_id=int(adj.replacement_trade),
                replacement_account_id=int(adj.replacement_account),
                quantity=adj.qty,
                disallowed=adj.disallowed,
                kind=adj.kind,
                identity_group=adj.group,
            ),
        )
        for adj in result.adjustments
    ]
    return lots, disposals, adjustments


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

"""The ledger service: recompute a household's lots, disposals and wash-sale adjustments from its trades.

Transactions are the source of truth; everything here is derived by the pure engine, so a recompute
is idempotent (same trades -> same rows) and atomic (readers never see a half-written ledger).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

from accounts.models import Account, Household
from harvester.rawsql import fetch, pg_copy
from lots import convert, engine
from lots.models import Disposal, Lot, Security, Transaction, WashSaleAdjustment


@dataclass(frozen=True)
class LedgerSummary:
    household_id: int
    trades: int
    open_lots: int
    disposals: int
    adjustments: int
    disallowed: Decimal


def ledger_inputs(household: Household) -> tuple[list, list, engine.IdentityMap, dict]:
    """Read a household's accounts and trades as engine values (also used by the reconciliation view)."""
    accounts = list(Account.objects.filter(household=household).prefetch_related("owners"))
    methods = {a.pk: a.lot_method for a in accounts}
    txns = list(
        Transaction.objects.filter(account__household=household)
        .exclude(action=Transaction.Action.SPLIT)
        .select_related("security")
        .order_by("trade_date", "seq", "id")
    )
    securities = {
        s.ticker: s
        for s in Security.objects.filter(transactions__account__household=household)
        .distinct()
        .prefetch_related("index_history")
    }
    engine_accounts = [convert.account_to_engine(a) for a in accounts]
    trades = [convert.transaction_to_engine(t, methods[t.account_id]) for t in txns]
    identity = convert.identity_map(household, securities.values())
    return engine_accounts, trades, identity, securities


@transaction.atomic
def ledger_recompute(*, household_id: int) -> LedgerSummary:
    """Replace the household's derived rows with the engine's result for its current trades.

    Locks the household row so two recomputes of one household run one after the other.
    Raises engine.EngineError (nothing changed) when the trades are inconsistent, e.g. an oversell.
    """
    household = Household.objects.select_for_update().get(pk=household_id)
    engine_accounts, trades, identity, securities = ledger_inputs(household)
    result = engine.compute(engine_accounts, trades, identity=identity)

    _delete_derived(household.pk)
    (_write_postgresql if connection.vendor == "postgresql" else _write_orm)(result, securities)
    return LedgerSummary(
        household_id=household.pk,
        trades=len(trades),
        open_lots=len(result.open_lots),
        disposals=len(result.sales),
        adjustments=len(result.adjustments),
        disallowed=sum((s.wash_sale_disallowed for s in result.sales), Decimal("0")),
    )


def _delete_derived(household_id: int) -> None:
    """Delete the household's lots, disposals and wash-sale adjustments: three DELETE statements. (The ORM's
    delete of the disposals reads every one of them into a model instance to cascade to the adjustments,
    in batches: most of the time of replacing a large ledger.)"""
    accounts = f"SELECT id FROM {Account._meta.db_table} WHERE household_id = %s"
    disposals = f"SELECT id FROM {Disposal._meta.db_table} WHERE account_id IN ({accounts})"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {WashSaleAdjustment._meta.db_table} WHERE disposal_id IN ({disposals})",
                       [household_id])
        cursor.execute(f"DELETE FROM {Disposal._meta.db_table} WHERE account_id IN ({accounts})", [household_id])
        cursor.execute(f"DELETE FROM {Lot._meta.db_table} WHERE account_id IN ({accounts})", [household_id])


def _write_orm(result: engine.Result, securities: dict) -> None:
    """The derived rows through bulk_create (SQLite, the embedded default)."""
    lots, disposals, adjustments = convert.result_to_rows(result, securities=securities)
    Lot.objects.bulk_create(lots, batch_size=1000)
    Disposal.objects.bulk_create(disposals, batch_size=1000)
    for index, adjustment in adjustments:
        adjustment.disposal = disposals[index]
    WashSaleAdjustment.objects.bulk_create([a for _, a in adjustments], batch_size=1000)


def _write_postgresql(result: engine.Result, securities: dict) -> None:
    """The derived rows with one COPY per table (harvester.rawsql.pg_copy): bulk_create's quoting of each
    value took most of a large recompute. The disposals' ids are drawn from their sequence first, so the
    adjustments can name their disposal without reading the ids back."""
    lots, disposals, adjustments = convert.result_rows(
        result, security_ids={ticker: s.pk for ticker, s in securities.items()})
    pg_copy(Lot._meta.db_table, convert.LOT_COLUMNS, lots)
    if not disposals:
        return
    ids = [row[0] for row in fetch("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                                   [Disposal._meta.db_table, len(disposals)])]
    pg_copy(Disposal._meta.db_table, (("id", "bigint"), *convert.DISPOSAL_COLUMNS),
            [(pk, *row) for pk, row in zip(ids, disposals, strict=True)])
    pg_copy(WashSaleAdjustment._meta.db_table, convert.ADJUSTMENT_COLUMNS,
            [(ids[row[0]], *row[1:]) for row in adjustments])


def ledger_recompute_on_commit(household_id: int) -> None:
    """Enqueue a recompute to run after the current transaction commits (imports, executions)."""
    from lots.tasks import ledger_recompute_task

    ledger_recompute_task.delay_on_commit(household_id)

"""The ledger service: recompute a household's lots, disposals and wash-sale adjustments from its trades.

Transactions are the source of truth; everything here is derived by the pure engine, so a recompute
is idempotent (same trades -> same rows) and atomic (readers never see a half-written ledger).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from accounts.models import Account, Household
from lots import convert, engine
from lots.models import Disposal, Lot, Security, Transaction


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

    Lot.objects.filter(account__household=household).delete()
    Disposal.objects.filter(account__household=household).delete()  # cascades to adjustments
    lots, disposals, adjustments = convert.result_to_rows(result, securities=securities)
    Lot.objects.bulk_create(lots, batch_size=1000)
    Disposal.objects.bulk_create(disposals, batch_size=1000)
    for index, adjustment in adjustments:
        adjustment.disposal = disposals[index]
    from lots.models import WashSaleAdjustment

    WashSaleAdjustment.objects.bulk_create([a for _, a in adjustments], batch_size=1000)
    return LedgerSummary(
        household_id=household.pk,
        trades=len(trades),
        open_lots=len(lots),
        disposals=len(disposals),
        adjustments=len(adjustments),
        disallowed=sum((d.disallowed for d in disposals), Decimal("0")),
    )


def ledger_recompute_on_commit(household_id: int) -> None:
    """Enqueue a recompute to run after the current transaction commits (imports, executions)."""
    from lots.tasks import ledger_recompute_task

    ledger_recompute_task.delay_on_commit(household_id)

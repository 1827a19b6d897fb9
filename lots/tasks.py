"""Celery tasks of the lots app: take ids, call one service, stay idempotent."""

from celery import shared_task
from django.db import OperationalError

from lots.ledger import ledger_recompute


@shared_task(
    acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5
)
def ledger_recompute_task(household_id: int) -> dict:
    """Recompute one household's ledger from its trades (idempotent: safe to run twice or concurrently)."""
    summary = ledger_recompute(household_id=household_id)
    return {"household_id": summary.household_id, "open_lots": summary.open_lots, "disposals": summary.disposals}

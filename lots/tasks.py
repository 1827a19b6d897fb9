"""Celery tasks of the lots app: take ids, call one service, stay idempotent."""

from celery import shared_task
from django.utils import timezone

from lots.ledger import ledger_recompute


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def ledger_recompute_task(self, household_id: int) -> dict:
    summary = ledger_recompute(household_id=household_id, as_of=timezone.localdate())
    return {"household_id": summary.household_id, "open_lots": summary.open_lots, "disposals": summary.disposals}

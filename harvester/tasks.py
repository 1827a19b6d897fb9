"""Celery tasks of harvest scans: take ids, call one service of harvester.scanning, stay idempotent.

The database is the source of truth (docs/scans.md): a chunk is claimed with a conditional UPDATE, so a
message delivered twice (acks_late redelivery, the reaper, a retry) runs the work at most once at a time,
and a chunk whose worker died is found by `scan_reap_stalled_task` and enqueued again.
"""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from harvester import scanning

MAX_RETRIES = 5


def backoff(retries: int) -> int:
    """Seconds before retry n (0-based): 2, 4, 8, 16, 32, capped at two minutes."""
    return min(2 ** (retries + 1), 120)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def scan_chunk_task(self, chunk_id: int) -> dict:
    """Run one chunk of a scan; retry with backoff when the database is briefly unavailable."""
    try:
        return scanning.scan_run_chunk(chunk_id=chunk_id)
    except OperationalError as exc:
        if self.request.retries >= self.max_retries:
            scanning.scan_chunk_fail(chunk_id=chunk_id, error=f"database unavailable: {exc}")
            raise
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def scan_household_task(self, scan_id: int) -> dict:
    """Run a one-household scan ("Scan now"): its single chunk, in this worker."""
    try:
        return scanning.scan_run(scan_id=scan_id)
    except OperationalError as exc:
        if self.request.retries >= self.max_retries:
            scanning.scan_fail(scan_id=scan_id, error=f"database unavailable: {exc}")
            raise
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def scan_firm_task(self, scan_id: int) -> dict:
    """Split a firm-wide scan into chunks of SCAN_CHUNK_SIZE households and enqueue each (after commit)."""
    try:
        return scanning.scan_fan_out(scan_id=scan_id)
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(acks_late=True)
def scan_daily_task() -> dict:
    """The beat schedule's daily firm-wide scan after market close (New York date)."""
    scan = scanning.scan_start(as_of=scanning.market_date(timezone.now()))
    return {"scan_id": scan.pk}


@shared_task(acks_late=True)
def scan_reap_stalled_task() -> dict:
    """Re-enqueue chunks whose worker died (left 'running' too long) or whose message was lost."""
    return scanning.scan_reap_stalled()


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def proposals_submit_task(self, proposal_ids: list[int]) -> dict:
    """Send new proposals for approval (notifications) once the scan that wrote them has committed."""
    try:
        return scanning.proposals_submit(proposal_ids=proposal_ids)
    except OperationalError as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc

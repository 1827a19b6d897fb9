"""Through a real Celery worker and the real Redis broker: a scan end to end, and a chunk whose worker
died (left 'running' with an old claim) found by the reaper and redone, with no duplicate proposals."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from harvester import scanning
from harvester.models import HarvestProposal, HarvestScan, ScanChunk
from tests.scans.conftest import SCAN_DATE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def worker_idle_after(celery_worker_thread):
    """Let the worker finish what the test started (approval submits, emails) before the tables are flushed."""
    yield
    from celery.worker import state

    from harvester.celery import app

    with app.connection_for_write() as conn:
        client = conn.default_channel.client
        quiet = 0
        deadline = time.monotonic() + 30
        while quiet < 5 and time.monotonic() < deadline:
            busy = state.active_requests or state.reserved_requests or client.llen("celery")
            quiet = 0 if busy else quiet + 1
            time.sleep(0.05)


def wait_for(condition, timeout: float = 40.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


def scan_finished(scan_id):
    scan = HarvestScan.objects.get(pk=scan_id)
    return scan if scan.status in ("done", "failed") else None


def test_it_scans_a_household_end_to_end_in_the_worker(harvest, celery_worker_thread):
    from harvester.models import Notification

    with transaction.atomic():  # enqueued when this commits (delay_on_commit)
        scan = scanning.scan_start(household=harvest.household, user=harvest.world.advisor, as_of=SCAN_DATE)
        assert scan.status == "queued"
    scan = wait_for(lambda: scan_finished(scan.pk))
    assert scan.status == "done" and scan.households_done == 1 and scan.proposals_created == 2
    assert ScanChunk.objects.get(scan=scan).attempts == 1
    # After the scan committed, each new proposal went to the approvals flow: awaiting its approvers.
    wait_for(lambda: not HarvestProposal.objects.filter(status="proposed").exists())
    vti = HarvestProposal.objects.get(sell_security__ticker="VTI")
    assert vti.status == "awaiting_approval"
    assert Notification.objects.filter(proposal=vti, user=harvest.world.alex).exists()


def test_a_chunk_whose_worker_died_is_reenqueued_by_the_reaper_and_done_once(harvest, celery_worker_thread):
    # An earlier scan left two open proposals.
    with transaction.atomic():
        first = scanning.scan_start(household=harvest.household, user=harvest.world.advisor, as_of=SCAN_DATE)
    wait_for(lambda: scan_finished(first.pk))
    open_before = set(HarvestProposal.objects.values_list("pk", "fingerprint"))
    assert len(open_before) == 2

    # The daily scan's chunk was claimed by a worker that was then killed: 'running', claimed an hour ago.
    scan = HarvestScan.objects.create(household=None, as_of=SCAN_DATE, status="running", households_total=1,
                                      started_at=timezone.now() - timedelta(hours=1))
    chunk = ScanChunk.objects.create(scan=scan, index=0, household_ids=[harvest.household.pk], status="running",
                                      attempts=1, claimed_at=timezone.now() - timedelta(hours=1))
    assert scanning.scan_reap_stalled(older_than=600)["requeued"] == [chunk.pk]

    scan = wait_for(lambda: scan_finished(scan.pk))
    chunk.refresh_from_db()
    assert scan.status == "done" and scan.households_done == 1 and (chunk.status, chunk.attempts) == ("done", 2)
    assert scan.proposals_created == 0 and scan.proposals_superseded == 0
    assert set(HarvestProposal.objects.values_list("pk", "fingerprint")) == open_before  # no duplicates

    # The killed worker's message comes back (acks_late redelivery) and the reaper runs again: no-ops.
    from harvester.tasks import scan_chunk_task

    assert scan_chunk_task.delay(chunk.pk).get(timeout=30) == {"chunk_id": chunk.pk, "claimed": False}
    assert scanning.scan_reap_stalled(older_than=600) == {"requeued": [], "failed": [], "resent": [], "fanned_out": [], "resubmitted": []}
    assert HarvestProposal.objects.count() == 2


def test_the_firm_wide_scan_fans_out_in_chunks(harvest, celery_worker_thread, settings):
    from harvester.models import HarvestPolicy

    settings.SCAN_CHUNK_SIZE = 1
    HarvestPolicy.objects.create(household=harvest.world.other_household, version=1)
    with transaction.atomic():
        scan = scanning.scan_start(as_of=SCAN_DATE)
    scan = wait_for(lambda: scan_finished(scan.pk))
    assert scan.status == "done" and (scan.households_total, scan.households_done) == (2, 2)
    assert ScanChunk.objects.filter(scan=scan, status="done").count() == 2
    assert scan.proposals_created == 2
    assert [e["name"] for e in scan.errors] == ["Chen household"]  # no acknowledged policy: said, not scanned

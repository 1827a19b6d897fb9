"""Chunks: claimed once with a conditional update; a chunk taken back while it ran rolls its work back;
failures are recorded, not lost; the reaper gives up after SCAN_CHUNK_MAX_ATTEMPTS."""

import gc
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from harvester import scanning
from harvester.models import HarvestProposal, HarvestScan, ScanChunk
from tests.scans.conftest import SCAN_DATE

pytestmark = pytest.mark.django_db


def start(harvest):
    scan = scanning.scan_start(household=harvest.household, user=harvest.world.advisor, as_of=SCAN_DATE)
    return scan, scan.chunks.get()


def test_a_chunk_is_claimed_once(harvest):
    scan, chunk = start(harvest)
    assert scanning.scan_chunk_claim(chunk_id=chunk.pk) == 1
    assert scanning.scan_chunk_claim(chunk_id=chunk.pk) is None
    chunk.refresh_from_db()
    scan.refresh_from_db()
    assert (chunk.status, chunk.attempts, scan.status) == ("running", 1, "running") and chunk.claimed_at
    assert scanning.scan_run_chunk(chunk_id=chunk.pk) == {"chunk_id": chunk.pk, "claimed": False}


def test_work_of_a_chunk_taken_back_while_it_ran_is_rolled_back(harvest):
    scan, chunk = start(harvest)
    first = scanning.scan_chunk_claim(chunk_id=chunk.pk)
    # The reaper decided the first worker was dead; a second worker claimed the chunk.
    ScanChunk.objects.filter(pk=chunk.pk).update(status="queued")
    assert scanning.scan_chunk_claim(chunk_id=chunk.pk) == 2
    with pytest.raises(scanning.ChunkLost):
        scanning._chunk_complete(chunk_id=chunk.pk, attempt=first)
    assert not HarvestProposal.objects.exists()
    assert scanning._chunk_complete(chunk_id=chunk.pk, attempt=2)["created"] == 2


def test_a_database_error_hands_the_chunk_back_for_the_retry(harvest, monkeypatch):
    scan, chunk = start(harvest)

    def away(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(scanning, "_chunk_complete", away)
    with pytest.raises(OperationalError):
        scanning.scan_run_chunk(chunk_id=chunk.pk)
    chunk.refresh_from_db()
    assert (chunk.status, chunk.attempts, chunk.claimed_at) == ("queued", 1, None)


def test_a_bug_fails_the_chunk_and_the_scan_with_the_error(harvest, monkeypatch):
    scan, chunk = start(harvest)

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(scanning, "_proposals_write_many", broken)
    with pytest.raises(RuntimeError):
        scanning.scan_run_chunk(chunk_id=chunk.pk)
    chunk.refresh_from_db()
    scan.refresh_from_db()
    assert (chunk.status, chunk.error) == ("failed", "RuntimeError: boom")
    assert scan.status == "failed" and "This part of the scan failed: RuntimeError: boom" in scan.errors[0]["message"]
    assert gc.isenabled()  # paused while the chunk ran, back on even though it failed


def test_one_households_core_error_does_not_stop_the_others(harvest, monkeypatch):
    scan, chunk = start(harvest)

    def crash(snapshot, as_of):
        raise ZeroDivisionError

    monkeypatch.setattr(scanning, "core_scan", crash)
    scanning.scan_run_chunk(chunk_id=chunk.pk)
    scan.refresh_from_db()
    assert scan.status == "done" and scan.errors[0]["message"].startswith("Cannot scan: an internal error")


def test_the_reaper_requeues_then_gives_up_after_the_maximum_attempts(harvest, settings):
    settings.SCAN_CHUNK_MAX_ATTEMPTS = 2
    scan, chunk = start(harvest)
    old = timezone.now() - timedelta(hours=2)
    ScanChunk.objects.filter(pk=chunk.pk).update(status="running", attempts=1, claimed_at=old)
    assert scanning.scan_reap_stalled()["requeued"] == [chunk.pk]
    ScanChunk.objects.filter(pk=chunk.pk).update(status="running", attempts=2, claimed_at=old)
    assert scanning.scan_reap_stalled()["failed"] == [chunk.pk]
    scan.refresh_from_db()
    assert scan.status == "failed" and "its worker was lost 2 times" in scan.errors[0]["message"]


def test_the_reaper_leaves_recent_claims_alone(harvest):
    scan, chunk = start(harvest)
    scanning.scan_chunk_claim(chunk_id=chunk.pk)
    assert scanning.scan_reap_stalled() == {"requeued": [], "failed": [], "resent": [], "fanned_out": [], "resubmitted": []}


def test_the_reaper_resubmits_proposals_whose_submit_message_was_lost(harvest):
    scan, chunk = start(harvest)
    scanning.scan_run_chunk(chunk_id=chunk.pk)  # its submit message is sent on commit: never, in this test
    written = list(HarvestProposal.objects.filter(status="proposed").order_by("pk").values_list("pk", flat=True))
    assert written
    assert scanning.scan_reap_stalled()["resubmitted"] == []  # just written: the message may be on its way
    HarvestProposal.objects.filter(pk=written[0]).update(created_at=timezone.now() - timedelta(hours=2))
    assert scanning.scan_reap_stalled()["resubmitted"] == [written[0]]


def submitted(callbacks) -> list[list[int]]:
    """The proposal ids of each approvals-flow task enqueued on commit (delay_on_commit: a partial of delay)."""
    from harvester.tasks import proposals_submit_task

    return [cb.args[0] for cb in callbacks
            if getattr(getattr(getattr(cb, "func", None), "__self__", None), "name", None) == proposals_submit_task.name]


def two_chunk_firm_scan(harvest, settings):
    """A firm-wide scan of two chunks, the main household's (which proposes two harvests) first."""
    from harvester.models import HarvestPolicy

    settings.SCAN_CHUNK_SIZE = 1
    HarvestPolicy.objects.create(household=harvest.world.other_household, version=1)
    scan = scanning.scan_start(as_of=SCAN_DATE)
    scanning.scan_fan_out(scan_id=scan.pk)
    first = scan.chunks.get(household_ids=[harvest.household.pk])
    return scan, first, scan.chunks.exclude(pk=first.pk).get()


def test_a_firm_scan_submits_its_proposals_once_its_last_chunk_is_done(harvest, settings,
                                                                       django_capture_on_commit_callbacks):
    scan, first, last = two_chunk_firm_scan(harvest, settings)
    with django_capture_on_commit_callbacks() as callbacks:
        assert scanning.scan_run_chunk(chunk_id=first.pk)["created"] == 2
    # Not yet: an approvals task now would take a core from the chunks still running.
    assert submitted(callbacks) == []
    written = sorted(HarvestProposal.objects.filter(scan=scan, status="proposed").values_list("pk", flat=True))
    assert len(written) == 2
    with django_capture_on_commit_callbacks() as callbacks:
        assert scanning.scan_run_chunk(chunk_id=last.pk)["created"] == 0
    assert submitted(callbacks) == [written]
    scan.refresh_from_db()
    assert scan.status == "done"


def test_a_household_scan_submits_its_proposals_when_it_commits(harvest, django_capture_on_commit_callbacks):
    scan, chunk = start(harvest)
    with django_capture_on_commit_callbacks() as callbacks:
        scanning.scan_run_chunk(chunk_id=chunk.pk)
    assert submitted(callbacks) == [sorted(HarvestProposal.objects.values_list("pk", flat=True))]


def test_the_reaper_leaves_the_proposals_of_a_running_scan_to_its_last_chunk(harvest, settings):
    scan, first, last = two_chunk_firm_scan(harvest, settings)
    scanning.scan_run_chunk(chunk_id=first.pk)
    HarvestProposal.objects.update(created_at=timezone.now() - timedelta(hours=2))
    assert scanning.scan_reap_stalled()["resubmitted"] == []  # its last chunk will submit them
    scanning.scan_run_chunk(chunk_id=last.pk)  # (its submit message is never sent: no commit in this test)
    assert sorted(scanning.scan_reap_stalled()["resubmitted"]) == sorted(HarvestProposal.objects.values_list("pk", flat=True))


def test_the_firm_scan_fans_out_once(harvest, settings):
    from harvester.models import HarvestPolicy

    settings.SCAN_CHUNK_SIZE = 1
    HarvestPolicy.objects.create(household=harvest.world.other_household, version=1)
    scan = scanning.scan_start(as_of=SCAN_DATE)
    assert scanning.scan_fan_out(scan_id=scan.pk) == {"scan_id": scan.pk, "chunks": 2, "households": 2}
    assert scanning.scan_fan_out(scan_id=scan.pk)["chunks"] == 2  # the same chunks, enqueued again
    assert ScanChunk.objects.filter(scan=scan).count() == 2
    scanning.scan_run(scan_id=scan.pk)
    scan.refresh_from_db()
    assert scan.status == "done" and scan.households_done == 2 and HarvestScan.objects.count() == 1


def test_the_daily_task_scans_every_household_on_the_new_york_date():
    from datetime import UTC, datetime

    assert scanning.market_date(datetime(2026, 12, 11, 2, 0, tzinfo=UTC)).isoformat() == "2026-12-10"


@pytest.mark.parametrize(
    ("households", "expected"),
    [
        (10_000, 500),  # the largest chunk: 20 chunks
        (4_000, 500),  # 8 chunks of 500
        (1_000, 125),  # 8 chunks, not 2 of 500 for 2 workers to share unevenly
        (200, 50),  # 4 chunks: none smaller than 50 households to make 8
        (30, 50),  # one chunk
        (0, 50),
    ],
)
def test_a_firm_scan_has_big_chunks_but_enough_of_them(settings, households, expected):
    settings.SCAN_CHUNK_SIZE, settings.SCAN_MIN_CHUNKS = 500, 8
    assert scanning.chunk_size(households) == expected


def test_a_smaller_chunk_setting_wins(settings):
    settings.SCAN_CHUNK_SIZE, settings.SCAN_MIN_CHUNKS = 10, 8
    assert scanning.chunk_size(10_000) == 10 and scanning.chunk_size(3) == 10
    settings.SCAN_CHUNK_SIZE = 1
    assert scanning.chunk_size(2) == 1

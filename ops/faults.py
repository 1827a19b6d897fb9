"""The fault drill: real workers, web server and databases are killed and restarted while they work, and
the outcome is checked against a clean run. scripts/faults starts PostgreSQL and Redis and runs
`python -m ops.faults`; docs/operations.md explains what each phase proves and how to read a failure.

Phases (each prints its checks; the summary lists the failures and the time of each phase):

  migrate          manage.py migrate (static files are collected meanwhile, for gunicorn)
  data             households with harvestable losses (ops/drill_data.py), a few with a realized ledger
  baseline         a firm-wide scan through a real `celery -A harvester worker`, undisturbed: the expected
                   proposals, one per (household, fingerprint)
  worker-kill      two chunks are made to hang on household row locks the drill holds, the worker and its
                   pool children get SIGKILL, a new worker starts; the reaper re-queues the two chunks
  redis-flush      the same hang, then FLUSHALL: every queued message is gone; the reaper re-sends
  redis-restart    the same hang, then Redis restarts empty; workers reconnect, the reaper re-sends
  web-concurrency  gunicorn (4 processes, production settings): 20 simultaneous approvals of one joint
                   proposal, then a double-submitted execution (ops/faults_web.py)
  web-postgres     PostgreSQL crashes, then restarts, while an execution is being written (ops/faults_web.py)
  backup           scripts/backup during writes, scripts/restore into a new database, manifests compared

After every scan: it ended 'done' with every chunk done, it created exactly the baseline's proposals
(none lost, none extra, none duplicated: also checked in the table directly and in the audit trail), and
each was handed to the approvals flow. The scan reaper runs every 2 s here (the drill plays celery beat,
whose schedule says every minute) with SCAN_STALLED_SECONDS=10.
"""

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from pathlib import Path

from ops.procs import BIN, ROOT, Proc, Report, services, wait_until

# Production settings on loopback HTTP. SCAN_STALLED_SECONDS is the smallest allowed, so a lost chunk is
# found in seconds; chunks of 10 households give a scan of 20 chunks to interrupt.
PRODUCTION_ENV = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
    "SCAN_STALLED_SECONDS": "10",
    "SCAN_CHUNK_SIZE": "10",
    "API_THROTTLE_USER": "100000/minute",
    "API_THROTTLE_ANON": "100000/minute",
}
REAP_EVERY = 2.0
HUNG_CHUNKS = (2, 3)  # the worker has concurrency 2: both of its processes hang, one chunk each


def configure(work: Path) -> None:
    """The environment of the driver, its workers and gunicorn: production settings, never the test ones."""
    for name in ("DATABASE_URL", "REDIS_URL", "PGBIN", "PGDATA", "PGPORT", "PGSOCKDIR", "REDIS_DIR", "REDIS_PORT"):
        if not os.environ.get(name):
            raise SystemExit(f"{name} is not set: run the drill through scripts/faults")
    os.environ.pop("HARVESTER_TESTING", None)
    os.environ.update(PRODUCTION_ENV)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    os.environ["STATIC_ROOT"] = str(work / "static")
    os.environ["DJANGO_SETTINGS_MODULE"] = "harvester.settings"


class Drill:
    def __init__(self, report: Report, work: Path, *, households: int, lots: int):
        self.report, self.work = report, work
        self.collectstatic: Proc | None = None
        self.households, self.lots = households, lots
        self.workers: list[Proc] = []
        self.last_reap = 0.0
        self.baseline: dict | None = None
        self.as_of: date | None = None

    # ---- celery workers and the reaper

    def start_worker(self, *, wait: bool = True) -> Proc:
        """`celery -A harvester worker --concurrency 2`; with `wait`, until it answers a ping."""
        from harvester.celery import app

        n = len(self.workers) + 1
        node = f"drill{n}"
        worker = Proc(f"worker{n}", [BIN / "celery", "-A", "harvester", "worker", "--pool", "prefork", "--concurrency", "2",
                                     "-n", f"{node}@%h", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
                      self.work)
        worker.start()
        self.workers.append(worker)
        if not wait:
            return worker
        destination = f"{node}@{socket.gethostname()}"

        def answers():
            if worker.proc.poll() is not None:
                raise RuntimeError(f"celery worker {node} exited at start:\n{worker.tail()}")
            return bool(app.control.ping(destination=[destination], timeout=0.5))

        if not wait_until(answers, 120):
            raise RuntimeError(f"celery worker {node} did not answer a ping within 120 s:\n{worker.tail()}")
        return worker

    def tick(self) -> None:
        """Play celery beat for the reaper: send scan_reap_stalled_task every REAP_EVERY seconds."""
        if time.monotonic() - self.last_reap < REAP_EVERY:
            return
        self.last_reap = time.monotonic()
        from harvester.tasks import scan_reap_stalled_task

        try:
            scan_reap_stalled_task.delay()
        except Exception as exc:  # the broker is down for a moment: beat would retry next time too
            self.report.say(f"  (reaper not sent: {type(exc).__name__})")

    # ---- scans

    def chunk_households(self, index: int) -> list[int]:
        """Which households chunk `index` of the next firm-wide scan will hold (scanning.scan_fan_out's rule)."""
        from django.conf import settings

        from accounts.models import Household

        ids = list(Household.objects.filter(policies__isnull=False).distinct().order_by("pk").values_list("pk", flat=True))
        size = settings.SCAN_CHUNK_SIZE
        return ids[index * size:(index + 1) * size]

    def reset(self) -> None:
        """Supersede every open proposal, so the next scan must create the whole set again (a lost chunk
        then shows as missing proposals, not as old ones kept)."""
        from harvester.models import OPEN_PROPOSAL_STATES, HarvestProposal

        HarvestProposal.objects.filter(status__in=OPEN_PROPOSAL_STATES).update(status="superseded",
                                                                               status_reason="fault drill reset")

    @contextmanager
    def households_locked(self, ids: list[int]):
        """Hold FOR UPDATE locks on these households in a connection of our own: a chunk holding them
        claims (commits 'running'), then waits on the lock, mid-work, until we let go."""
        import psycopg

        from ops.backup import libpq_url

        conn = psycopg.connect(libpq_url(os.environ["DATABASE_URL"]))
        conn.execute("SELECT id FROM accounts_household WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [ids])
        try:
            yield conn.info.backend_pid
        finally:
            try:
                conn.rollback()
                conn.close()
            except Exception:  # PostgreSQL was restarted under it: the locks are gone anyway
                pass

    @staticmethod
    def blocked_by(pid: int) -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [pid])
            return cursor.fetchone()[0]

    def open_proposals(self) -> dict:
        """(household, fingerprint) -> what is proposed, for every open proposal."""
        from harvester.models import OPEN_PROPOSAL_STATES, HarvestProposal

        rows = HarvestProposal.objects.filter(status__in=OPEN_PROPOSAL_STATES).values_list(
            "household_id", "fingerprint", "kind", "account_id", "sell_security__ticker", "buy_security__ticker",
            "sell_quantity", "version", "scan_id")
        return {(h, f): (kind, account, sell, buy, f"{qty.normalize():f}", version, scan)
                for h, f, kind, account, sell, buy, qty, version, scan in rows}

    def scan(self, label: str, fault=None):
        """Run a firm-wide scan to its end; with `fault`, hang chunks HUNG_CHUNKS on row locks, call
        fault(scan) while they hang, then let go. Returns the scan row (or None if it never finished)."""
        from django.db import transaction

        from harvester import scanning
        from harvester.models import HarvestScan, ScanChunk

        self.reset()
        hung = [h for index in HUNG_CHUNKS for h in self.chunk_households(index)] if fault else []
        started = time.monotonic()
        with self.households_locked(hung) if fault else nullcontext() as lock_pid:
            with transaction.atomic():
                scan = scanning.scan_start(as_of=self.as_of)
            if fault:
                def hanging():
                    running = ScanChunk.objects.filter(scan=scan, index__in=HUNG_CHUNKS, status="running").count()
                    return running == len(HUNG_CHUNKS) and self.blocked_by(lock_pid) >= len(HUNG_CHUNKS)

                if not self.report.check(f"chunks {HUNG_CHUNKS} are mid-work (claimed, waiting on our row locks)",
                                         wait_until(hanging, 60, tick=self.tick),
                                         f"chunks: {list(ScanChunk.objects.filter(scan=scan).values_list('index', 'status'))}"):
                    return None
                chunks = dict(ScanChunk.objects.filter(scan=scan, index__in=HUNG_CHUNKS).values_list("index", "household_ids"))
                self.report.check("the hung chunks hold the households we locked",
                                  sorted(h for ids in chunks.values() for h in ids) == sorted(hung),
                                  f"chunks hold {chunks}, we locked {hung}")
                queued = ScanChunk.objects.filter(scan=scan, status="queued").count()
                fault(scan)
                self.report.say(f"  fault done {time.monotonic() - started:.1f} s after the scan started; "
                                f"{queued} chunks were still queued")
                fault_at = time.monotonic()
        finished = wait_until(lambda: HarvestScan.objects.get(pk=scan.pk).status in ("done", "failed"), 180,
                              every=0.2, tick=self.tick)
        scan.refresh_from_db()
        seconds = time.monotonic() - started
        if fault:
            self.report.say(f"  scan {scan.pk} {scan.status} {seconds:.1f} s after it started, "
                            f"{time.monotonic() - fault_at:.1f} s after the fault")
        else:
            self.report.say(f"  scan {scan.pk} {scan.status} in {seconds:.1f} s: {scan.households_done} households, "
                            f"{scan.proposals_created} proposals")
        if not self.report.check(f"{label}: the scan finished", finished,
                                 f"still {scan.status} after 180 s; chunks "
                                 f"{list(ScanChunk.objects.filter(scan=scan).values_list('index', 'status', 'attempts'))}"
                                 f"\n{self.workers[-1].tail()}"):
            return None
        return scan

    def verify(self, label: str, scan, *, expect_retried=()) -> None:
        """The scan's outcome equals the baseline's: no lost, no extra, no duplicated proposal."""
        from django.db import connection

        from harvester.models import OPEN_PROPOSAL_STATES, AuditEvent, HarvestProposal, ScanChunk

        check = self.report.check
        check(f"{label}: status done, no errors", scan.status == "done" and not scan.errors,
              f"status {scan.status}, errors {scan.errors[:3]}")
        chunks = list(ScanChunk.objects.filter(scan=scan).values_list("index", "status", "attempts"))
        check(f"{label}: every chunk done", all(s == "done" for _, s, _ in chunks),
              f"not done: {[c for c in chunks if c[1] != 'done']}")
        check(f"{label}: every household scanned once", scan.households_done == scan.households_total == self.households,
              f"households_done {scan.households_done}, households_total {scan.households_total}, "
              f"expected {self.households}")
        if expect_retried:
            attempts = {i: a for i, _, a in chunks if i in expect_retried}
            check(f"{label}: the interrupted chunks were re-claimed and finished",
                  all(a == 2 for a in attempts.values()) and len(attempts) == len(expect_retried),
                  f"attempts {attempts} (1 = never retried)")
        submitted = wait_until(lambda: not HarvestProposal.objects.filter(status="proposed").exists(), 30, every=0.2,
                               tick=self.tick)
        check(f"{label}: every new proposal was handed to the approvals flow (none left 'proposed')", submitted,
              f"{HarvestProposal.objects.filter(status='proposed').count()} still 'proposed' 30 s after the scan "
              "(their proposals_submit_task message was lost and nothing sends it again)")
        got = self.open_proposals()
        if self.baseline is None:
            check(f"{label}: the scan proposed harvests", len(got) > 0, "no proposal at all: the drill data is wrong")
            check(f"{label}: proposals_created counts them", scan.proposals_created == len(got),
                  f"proposals_created {scan.proposals_created}, open proposals {len(got)}")
            self.baseline = got
            self.control_lost_proposal()
            return
        expected = self.baseline
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        changed = sorted(k for k in set(got) & set(expected) if got[k][:6] != expected[k][:6])
        check(f"{label}: no proposal lost", not missing, f"{len(missing)} missing, e.g. {missing[:5]}")
        check(f"{label}: no extra proposal", not extra, f"{len(extra)} extra, e.g. {extra[:5]}")
        check(f"{label}: the same proposals (account, tickers, shares, version)", not changed,
              f"{len(changed)} differ, e.g. {[(k, expected[k], got[k]) for k in changed[:3]]}")
        others = [k for k, v in got.items() if v[6] != scan.pk]
        check(f"{label}: every open proposal comes from this scan", not others, f"{len(others)} from other scans")
        with connection.cursor() as cursor:
            cursor.execute("SELECT household_id, fingerprint, count(*) FROM harvester_harvestproposal "
                           "WHERE status = ANY(%s) GROUP BY 1, 2 HAVING count(*) > 1", [list(OPEN_PROPOSAL_STATES)])
            duplicates = cursor.fetchall()
            cursor.execute("SELECT count(*), count(DISTINCT (household_id, fingerprint)) FROM harvester_harvestproposal "
                           "WHERE scan_id = %s", [scan.pk])
            rows, distinct = cursor.fetchone()
        check(f"{label}: no duplicate open proposal per (household, fingerprint) in the table", not duplicates,
              f"{duplicates[:5]}")
        check(f"{label}: the scan wrote each of the {len(expected)} proposals once", rows == distinct == len(expected),
              f"{rows} rows, {distinct} distinct, {len(expected)} expected")
        check(f"{label}: proposals_created counts each once", scan.proposals_created == len(expected),
              f"proposals_created {scan.proposals_created}, expected {len(expected)}")
        audited = AuditEvent.objects.filter(action="proposal.create", summary__startswith=f"Scan #{scan.pk} proposed").count()
        check(f"{label}: one 'proposal.create' audit event per proposal", audited == len(expected),
              f"{audited} events, {len(expected)} proposals")

    def control_lost_proposal(self) -> None:
        """The comparison must be able to fail: a proposal superseded behind its back (rolled back after)
        shows as exactly one missing."""
        from django.db import transaction

        from harvester.models import HarvestProposal

        class Undo(Exception):
            pass

        victim = next(iter(sorted(self.baseline)))
        try:
            with transaction.atomic():
                HarvestProposal.objects.filter(household_id=victim[0], fingerprint=victim[1],
                                               status="awaiting_approval").update(status="superseded")
                missing = sorted(set(self.baseline) - set(self.open_proposals()))
                raise Undo
        except Undo:
            pass
        self.report.check("control: the comparison notices one lost proposal", missing == [victim], f"{missing}")

    # ---- phases

    def collect_static(self) -> None:
        """Production static files (hashed, compressed) take CPU seconds: collect them in the background."""
        self.collectstatic = Proc("collectstatic", [BIN / "python", "manage.py", "collectstatic", "--noinput", "-v0"],
                                  self.work)
        self.collectstatic.start()

    def phase_data(self) -> None:
        from django.utils import timezone

        from ops import drill_data

        self.as_of = timezone.localdate()
        started = time.monotonic()
        seeded = drill_data.seed(households=self.households, lots_per_household=self.lots, ledger_households=6,
                                 as_of=self.as_of)
        self.report.say(f"  {seeded.households} households, {seeded.lots} lots, ledgers of {seeded.ledger_households} "
                        f"in {time.monotonic() - started:.1f} s (as of {self.as_of})")
        from lots.models import Disposal

        self.report.check("the ledger households have realized sales", Disposal.objects.count() > 0,
                          "no disposal after the ledger recompute")

    def phase_baseline(self) -> None:
        started = time.monotonic()
        self.start_worker()
        self.report.say(f"  worker up in {time.monotonic() - started:.1f} s")
        scan = self.scan("baseline")
        if scan:
            self.verify("baseline", scan)

    def phase_worker_kill(self) -> None:
        from harvester.models import ScanChunk

        def kill(scan):
            worker = self.workers[-1]
            processes = worker.members()
            self.report.check("kill -9 ends the worker and its pool children", worker.kill9(),
                              f"still alive: {worker.members()}")
            self.report.say(f"  killed {len(processes)} processes (group {worker.pgid})")
            left = list(ScanChunk.objects.filter(scan=scan, index__in=HUNG_CHUNKS).values_list("index", "status", "attempts"))
            self.report.check("the killed worker left its chunks 'running' (attempt 1)",
                              sorted(left) == [(i, "running", 1) for i in HUNG_CHUNKS], f"{left}")
            self.start_worker(wait=False)  # it boots while the reaper's 10 s run down

        self._fault_scan("worker-kill", kill, expect_retried=HUNG_CHUNKS)

    def phase_redis_flush(self) -> None:
        import redis

        def flush(scan):
            r = redis.Redis.from_url(os.environ["REDIS_URL"])
            before = r.llen("celery")
            r.flushall()
            self.report.check("FLUSHALL dropped the queued chunk messages", before > 0 and r.llen("celery") == 0,
                              f"queue length {before} before, {r.llen('celery')} after")

        self._fault_scan("redis-flush", flush)

    def phase_redis_restart(self) -> None:
        import redis

        def restart(scan):
            r = redis.Redis.from_url(os.environ["REDIS_URL"])
            before = r.llen("celery")
            services("redis_restart")
            self.report.check("Redis restarted empty while chunks were queued",
                              before > 0 and r.ping() and r.dbsize() == 0, f"queue length {before} before, "
                                                                           f"{r.dbsize()} keys after")

        self._fault_scan("redis-restart", restart)

    def _fault_scan(self, label, fault, expect_retried=()) -> None:
        if self.baseline is None:
            self.report.check("the baseline exists", False, "the baseline scan failed: nothing to compare with")
            return
        scan = self.scan(label, fault)
        if scan:
            self.verify(label, scan, expect_retried=expect_retried)

    def phase_backup(self) -> None:
        run_backup_check(self.report, self.work)

    def stop(self) -> None:
        for proc in [*self.workers, self.collectstatic]:
            if proc is not None:
                proc.stop()


# ---- backup and restore


def run_backup_check(report: Report, work: Path) -> None:
    """scripts/backup while another connection writes, scripts/restore into a new database, then the
    restored database's manifest must equal the backup's; and the comparison must catch a difference."""
    import psycopg

    from ops import backup

    check = report.check
    url = backup.libpq_url(os.environ["DATABASE_URL"])
    folder = work / "backups"
    folder.mkdir(exist_ok=True)
    dump = folder / "harvester.dump"
    with psycopg.connect(url) as conn:
        disposals = conn.execute("SELECT count(*) FROM lots_disposal").fetchone()[0]
        washes = conn.execute("SELECT count(*) FROM lots_washsaleadjustment").fetchone()[0]
    check("the source has a realized ledger to back up", disposals > 0 and washes > 0,
          f"{disposals} disposals, {washes} wash-sale adjustments")

    stop, written = threading.Event(), []

    def writer():  # new closes of one fund, one a transaction, until the backup is done
        with psycopg.connect(url, autocommit=True) as conn:
            security = conn.execute("SELECT id FROM lots_security WHERE ticker = 'AGG'").fetchone()[0]
            day = date(1990, 1, 1)
            while not stop.is_set():
                conn.execute("INSERT INTO lots_price (security_id, date, close, source) VALUES (%s, %s, 100, 'drill')",
                             [security, day])
                written.append(day)
                day += timedelta(days=1)
                time.sleep(0.005)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    wait_until(lambda: len(written) > 0, 10)
    started, at_start = time.monotonic(), len(written)
    result = subprocess.run([ROOT / "scripts" / "backup", dump], capture_output=True, text=True, cwd=work)
    at_end = len(written)
    stop.set()
    thread.join(10)
    report.say(f"  scripts/backup in {time.monotonic() - started:.1f} s: {result.stdout.strip()}")
    if not check("scripts/backup succeeded", result.returncode == 0, result.stderr.strip()):
        return
    check(f"another connection wrote rows while the backup ran ({at_end - at_start})", at_end > at_start,
          f"{at_end - at_start} rows written during the backup")
    expected = json.loads(backup.manifest_path(dump).read_text())
    check("the manifest counts the ledger", bool(expected["ledger"]["disposals"] and expected["ledger"]["open_lots"]
                                                 and expected["ledger"]["wash_sale_adjustments"]), backup.summary(expected))

    target = url.rsplit("/", 1)[0] + "/harvester_restored"
    started = time.monotonic()
    result = subprocess.run([ROOT / "scripts" / "restore", dump, target, "--create"], capture_output=True, text=True)
    report.say(f"  scripts/restore in {time.monotonic() - started:.1f} s: {result.stdout.strip()}")
    if not check("scripts/restore succeeded and verified the manifest",
                 result.returncode == 0 and "verified" in result.stdout, f"exit {result.returncode}: {result.stderr.strip()}"):
        return
    with psycopg.connect(target) as conn:
        restored = backup.manifest(conn)
    problems = backup.compare(expected, restored)
    check("every table's row count, sequence, schema object and ledger total equals the backup's "
          "(one snapshot, though writes went on)", not problems, "; ".join(problems[:10]))
    totals = backup.ledger_totals(restored)
    report.say(f"  restored ledger: {totals['disposals']} disposals in {totals['households_with_disposals']} households, "
               f"gain/loss {totals['gain_loss']}, disallowed {totals['disallowed']}, open-lot basis {totals['open_lot_basis']}")

    # The comparison must be able to fail: change the restored copy and expect exactly these differences.
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("DELETE FROM lots_price WHERE id = (SELECT min(id) FROM lots_price)")
        household, year = conn.execute("""
            UPDATE lots_disposal d SET gain_loss = gain_loss + 0.01 FROM accounts_account a
            WHERE a.id = d.account_id AND d.id = (SELECT min(id) FROM lots_disposal)
            RETURNING a.household_id, d.tax_year""").fetchone()
        damaged = backup.manifest(conn)
    found = backup.compare(expected, damaged)
    check("the comparison catches a missing row and a changed gain/loss",
          len(found) == 2 and found[0].startswith("table lots_price:")
          and found[1].startswith(f"disposals household/year {household}/{year}: gain_loss"), f"{found}")
    result = subprocess.run([ROOT / "scripts" / "restore", dump, target], capture_output=True, text=True)
    check("scripts/restore refuses a database that has tables", result.returncode != 0 and "already has" in result.stderr,
          f"exit {result.returncode}: {result.stderr.strip()}")
    broken = folder / "broken.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    broken.write_bytes(bytes(data))
    backup.manifest_path(broken).write_text(backup.manifest_path(dump).read_text())
    result = subprocess.run([ROOT / "scripts" / "restore", broken, url.rsplit("/", 1)[0] + "/harvester_broken", "--create"],
                            capture_output=True, text=True)
    check("scripts/restore refuses a damaged backup file", result.returncode != 0 and "damaged" in result.stderr,
          f"exit {result.returncode}: {result.stderr.strip()}")


# ---- entry point

PHASES = ("data", "baseline", "worker-kill", "redis-flush", "redis-restart", "web-concurrency", "web-postgres", "backup")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.faults", description="Fault drill (run it with scripts/faults).")
    parser.add_argument("--work", type=Path, required=True, help="scratch directory (logs, backups, static files)")
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--lots", type=int, default=16, help="lots per household")
    parser.add_argument("--only", default="", help=f"comma-separated phases (data always runs): {', '.join(PHASES)}")
    args = parser.parse_args(argv)
    only = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = only - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}; known: {', '.join(PHASES)}")
    configure(args.work)
    report = Report()
    drill = Drill(report, args.work, households=args.households, lots=args.lots)
    web = None
    try:
        if not only or only & {"web-concurrency", "web-postgres"}:
            drill.collect_static()  # in the background, while the database is migrated
        with report.phase("migrate"):
            migrate = subprocess.run([BIN / "python", "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                                     capture_output=True, text=True)
            report.check("manage.py migrate", migrate.returncode == 0, migrate.stderr[-2000:])
        if report.failures:
            return report.summary()
        import django

        django.setup()
        from ops.faults_web import Web

        web = Web(report, args.work, drill)
        steps = {
            "data": drill.phase_data, "baseline": drill.phase_baseline, "worker-kill": drill.phase_worker_kill,
            "redis-flush": drill.phase_redis_flush, "redis-restart": drill.phase_redis_restart,
            "web-concurrency": web.phase_concurrency, "web-postgres": web.phase_postgres, "backup": drill.phase_backup,
        }
        needs_worker = {"worker-kill", "redis-flush", "redis-restart", "web-concurrency", "web-postgres"}
        for name in PHASES:
            if only and name not in only and name != "data":
                continue
            if name in needs_worker and not drill.workers:
                with report.phase("baseline"):
                    drill.phase_baseline()
            with report.phase(name):
                steps[name]()
            if name == "data" and report.failures:
                break
    finally:
        if web is not None:
            web.stop()
        drill.stop()
    return report.summary()


if __name__ == "__main__":
    sys.exit(main())

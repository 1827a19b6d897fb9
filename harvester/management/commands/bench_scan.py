"""python manage.py bench_scan --households 10000 --lots 1000000: time harvest scans on generated data.

Generates households in PostgreSQL (bulk_create for the small tables, COPY for transactions and lots),
then prints:
  (a) the time to merely read the same open lots with their latest prices in one plain query;
  (b) the full firm-wide scan through the Celery path: the scan is started, split into chunks of
      SCAN_CHUNK_SIZE households and run by real workers (`celery -A harvester worker --concurrency 2`,
      started here as subprocesses) until the scan row says done;
  (c) their ratio, proposals per second, and peak memory (the workers' VmHWM);
then, with --single-lots, the "Scan now" of one household of that many lots (in-process and through
the worker). Without REDIS_URL the chunks run in this process (and (b) says so). After a scan that
created proposals it also waits for the approvals flow to submit them (enqueued when the scan's last
chunk commits) and says how long that took. --chunk-size N overrides SCAN_CHUNK_SIZE for the run (this
process and the workers it starts); --concurrency sets the worker's prefork children (2 on 2 cores).

Data (seeded): each household is a married couple filing jointly with two individual accounts, a joint
account and two IRAs, a policy both acknowledged, a monthly contribution, and lots of 8 ETFs bought over
three years on a market rising 8% a year with -12%..+15% noise (about a quarter of the lots are at a
loss, most of them bought in the last year; 3% were bought in the last 30 days, which blocks harvests
of their group in the household). Run it on a throwaway database: it adds "Bench" households and never deletes them (audit rows are
append-only). --reuse times the data already there again (open proposals are reset first).
"""

import io
import os
import random
import resource
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Household, Owner, OwnerTaxProfile, TaxpayerUnit
from harvester import scanning
from harvester.models import (
    OPEN_PROPOSAL_STATES,
    HarvestPolicy,
    HarvestProposal,
    HarvestScan,
    PolicyAcknowledgment,
    ScanChunk,
)
from lots.models import Price, ScheduledPurchase, Security

PREFIX = "Bench "
HELD = {"VTI": "250", "ITOT": "110", "VOO": "500", "VEA": "50", "IEFA": "70", "VWO": "45", "IEMG": "55",
        "AGG": "98"}
ACCOUNTS = (("Taxable A", "individual", "A", 3), ("Taxable B", "individual", "B", 3), ("Joint", "joint", "AB", 2),
            ("IRA A", "ira", "A", 1), ("IRA B", "ira", "B", 1))  # name, kind, owners, weight for lots
CENT = Decimal("0.01")


class Command(BaseCommand):
    help = "Benchmark harvest scans: plain read vs the full scan through Celery, proposals/s, peak memory."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=1000)
        parser.add_argument("--lots", type=int, default=100_000)
        parser.add_argument("--single-lots", type=int, default=2000,
                            help="also time 'Scan now' of one household with this many lots (0: skip)")
        parser.add_argument("--as-of", default="2026-12-10", help="scan date (closes are from the weekday before)")
        parser.add_argument("--concurrency", type=int, default=2, help="prefork children of the worker")
        parser.add_argument("--chunk-size", type=int, default=None,
                            help="households per chunk for this run (default: the SCAN_CHUNK_SIZE setting)")
        parser.add_argument("--reruns", type=int, default=1, help="timed re-runs after the first scan")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--reuse", action="store_true", help="time the bench data already in the database")
        parser.add_argument("--keep-open", action="store_true",
                            help="with --reuse: keep the open proposals, so every timed scan is a re-run")

    def handle(self, *args, **o):
        if connection.vendor != "postgresql":
            raise CommandError("bench_scan needs PostgreSQL: set DATABASE_URL to a throwaway database.")
        if o["households"] < 1 or o["lots"] < o["households"]:
            raise CommandError("--households must be at least 1 and --lots at least --households")
        as_of = date.fromisoformat(o["as_of"])
        if o["chunk_size"]:
            if o["chunk_size"] < 1:
                raise CommandError("--chunk-size must be at least 1")
            settings.SCAN_CHUNK_SIZE = o["chunk_size"]  # this process (no REDIS_URL) and the workers' environment
        rng = random.Random(o["seed"])
        existing = Household.objects.filter(name__startswith=PREFIX).exclude(name=PREFIX + "single").count()
        if existing and not o["reuse"]:
            raise CommandError(f"{existing} bench households exist: use --reuse, or a fresh database.")
        if not existing:
            started = time.perf_counter()
            generate(rng, o["households"], o["lots"], as_of)
            self.say(f"generated {o['households']:,} households, {o['lots']:,} lots in "
                     f"{time.perf_counter() - started:.1f} s")
        others = Household.objects.filter(policies__isnull=False).exclude(name__startswith=PREFIX).distinct().count()
        if others:
            self.say(f"note: {others} other households with a policy are scanned too")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        read_s, read_rows = plain_read(as_of)
        self.say(f"(a) plain read of the open lots and latest prices: {read_rows:,} rows in {read_s:.3f} s")
        from harvester.scanning import chunk_size, firm_households

        scanned = firm_households().count()
        size = chunk_size(scanned)
        self.say(f"    {scanned:,} households in chunks of {size} (SCAN_CHUNK_SIZE={settings.SCAN_CHUNK_SIZE}, "
                 f"SCAN_MIN_CHUNKS={settings.SCAN_MIN_CHUNKS}): {-(-scanned // size)} chunks; load average "
                 f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine)")

        workers = Workers(o["concurrency"]) if settings.REDIS_URL else None
        try:
            if workers:
                workers.start()
                self.say(f"    workers: celery -A harvester worker --concurrency {o['concurrency']} (pid {workers.pid}),"
                         " warmed up (each child connected to the database)")
            else:
                self.say("    no REDIS_URL: the chunks run in this process (eager), not through workers")
            runs = []
            for n in range(1 + o["reruns"]):
                if n == 0 and not o["keep_open"]:
                    reset_open_proposals()
                cpu = workers.cpu_seconds() if workers else 0.0
                runs.append(timed_scan(as_of))
                scan, seconds = runs[-1]
                cpu = (workers.cpu_seconds() - cpu) if workers else 0.0
                label = "first scan" if n == 0 and not o["keep_open"] else f"re-run {n + o['keep_open']}"
                self.say(f"(b) {label}: {scan.households_done:,} households in {seconds:.3f} s, "
                         f"{scan.proposals_created:,} proposals created, status {scan.status}"
                         + (f", {len(scan.errors)} messages" if scan.errors else "")
                         + (f"; workers used {cpu:.1f} CPU-seconds" if workers else ""))
                if scan.proposals_created:
                    early = HarvestProposal.objects.filter(scan=scan).exclude(status="proposed").count()
                    drained = wait_submitted()
                    self.say(f"    then the approvals flow took {drained:.1f} s more to submit them "
                             f"(harvester.approvals.proposals_submit_many: approvers, notifications, audit); "
                             f"{early:,} were submitted while the scan ran")
            scan, seconds = runs[0]
            created = scan.proposals_created
            self.say(f"(c) ratio scan / plain read: {seconds / read_s:.2f}x (re-run "
                     f"{runs[-1][1] / read_s:.2f}x); {created / seconds:,.0f} proposals/s; "
                     f"{read_rows / seconds:,.0f} lots/s")
            if workers:
                self.say(f"    peak memory: workers {workers.peak_mib():.0f} MiB (VmHWM, main + children), "
                         f"this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
            if o["single_lots"]:
                self.single(rng, o["single_lots"], as_of, through_worker=workers is not None)
        finally:
            if workers:
                workers.stop()

    def single(self, rng, lots: int, as_of: date, *, through_worker: bool):
        household = Household.objects.filter(name=PREFIX + "single").first()
        if household is None:
            generate(rng, 1, lots, as_of, name=PREFIX + "single")
            household = Household.objects.get(name=PREFIX + "single")
        HarvestProposal.objects.filter(household=household, status__in=OPEN_PROPOSAL_STATES).update(
            status="superseded", status_reason="bench reset")
        advisor = bench_user()
        times, whole = [], []
        for _ in range(7):
            started = time.perf_counter()
            with transaction.atomic():  # no worker involved: the chunk runs right here
                scan = HarvestScan.objects.create(household=household, started_by=advisor, as_of=as_of,
                                                  households_total=1)
                ScanChunk.objects.create(scan=scan, index=0, household_ids=[household.pk])
            chunk_started = time.perf_counter()
            scanning.scan_run(scan_id=scan.pk)
            times.append(time.perf_counter() - chunk_started)
            whole.append(time.perf_counter() - started)
        n = household.accounts.values("lots").count()
        median = sorted(times[1:])[len(times[1:]) // 2]
        self.say(f"    one household, {n:,} lots, the scan (claim, read, core, write, finish) in-process: "
                 f"first {times[0] * 1000:.0f} ms, then median {median * 1000:.0f} ms, best "
                 f"{min(times) * 1000:.0f} ms; with creating the scan row "
                 f"{sorted(whole[1:])[len(whole[1:]) // 2] * 1000:.0f} ms")
        if through_worker:
            with transaction.atomic():
                scan = scanning.scan_start(household=household, user=advisor, as_of=as_of)
            started = time.perf_counter()
            wait_done(scan.pk)
            self.say(f"    ... through the worker (enqueue, claim, scan, write, poll): "
                     f"{(time.perf_counter() - started) * 1000:.0f} ms")

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()


# ---- timing


def plain_read(as_of: date) -> tuple[float, int]:
    """One plain query: every open lot of every household with its security's latest close on or before the
    scan date (what a scan must at least read)."""
    sql = """
        SELECT l.id, l.account_id, l.security_id, l.origin_id, l.piece, l.quantity, l.cost_basis,
               l.acquired_date, l.holding_period_start, p.close, p.date
        FROM lots_lot l
        LEFT JOIN (SELECT DISTINCT ON (security_id) security_id, close, date FROM lots_price
                   WHERE date <= %s ORDER BY security_id, date DESC) p ON p.security_id = l.security_id
    """
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(sql, [as_of])
        rows = cursor.fetchall()
        seconds = time.perf_counter() - started
    return seconds, len(rows)


def reset_open_proposals() -> None:
    """So the first timed scan writes its proposals again (a re-run would only keep them)."""
    HarvestProposal.objects.filter(status__in=OPEN_PROPOSAL_STATES).update(status="superseded",
                                                                           status_reason="bench reset")


def timed_scan(as_of: date) -> tuple[HarvestScan, float]:
    started = time.perf_counter()
    with transaction.atomic():
        scan = scanning.scan_start(as_of=as_of)
    if not settings.REDIS_URL:
        scanning.scan_fan_out(scan_id=scan.pk)
        scanning.scan_run(scan_id=scan.pk)
    scan = wait_done(scan.pk)
    return scan, time.perf_counter() - started


def wait_submitted(timeout: float = 3600) -> float:
    """Seconds until no proposal waits in 'proposed' (the approvals flow runs after the last chunk commits)."""
    try:
        import harvester.approvals  # noqa: F401
    except ImportError:
        return 0.0  # no approvals flow yet: the proposals stay 'proposed'
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    while HarvestProposal.objects.filter(status="proposed").exists():
        if time.monotonic() > deadline:
            raise CommandError("proposals were not submitted in time")
        time.sleep(0.1)
    return time.perf_counter() - started


def wait_done(scan_id: int, timeout: float = 3600) -> HarvestScan:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        scan = HarvestScan.objects.get(pk=scan_id)
        if scan.status in (HarvestScan.Status.DONE, HarvestScan.Status.FAILED):
            return scan
        time.sleep(0.02)
    raise CommandError(f"scan {scan_id} did not finish in {timeout} s")


class Workers:
    """`celery -A harvester worker` as a subprocess of the benchmark (same environment)."""

    def __init__(self, concurrency: int):
        self.concurrency = concurrency
        self.proc = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self) -> None:
        from harvester.celery import app

        celery = Path(sys.executable).with_name("celery")
        self.proc = subprocess.Popen(
            [str(celery), "-A", "harvester", "worker", "--pool", "prefork", "--concurrency", str(self.concurrency),
             "--loglevel", "WARNING", "-n", f"bench-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "harvester.settings",
                 "SCAN_CHUNK_SIZE": str(settings.SCAN_CHUNK_SIZE)},
            cwd=settings.BASE_DIR,
        )
        deadline = time.monotonic() + 60
        name = f"bench-{os.getpid()}@"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CommandError("the celery worker exited at start: is REDIS_URL reachable?")
            replies = app.control.ping(timeout=0.5) or []
            if any(name in key for reply in replies for key in reply):
                from harvester.tasks import scan_reap_stalled_task

                # Warm-up: every prefork child runs a small database task first (connection, imports).
                for result in [scan_reap_stalled_task.delay() for _ in range(4 * self.concurrency)]:
                    result.get(timeout=60)
                return
        raise CommandError("the celery worker did not answer a ping within 60 s")

    def pids(self) -> list[int]:
        pids = [self.proc.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    status = (entry / "status").read_text()
                except OSError:
                    continue
                if f"\nPPid:\t{self.proc.pid}\n" in status:
                    pids.append(int(entry.name))
        return pids

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the worker and its children have used so far: what a scan costs,
        whatever else the machine is doing."""
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")

    def peak_mib(self) -> float:
        """Peak resident memory (VmHWM) of the worker and its prefork children, summed."""
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- data


def bench_user():
    user, _ = get_user_model().objects.get_or_create(username="bench-advisor", defaults={"is_active": False})
    return user


def _next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 (a fixed table name)
        return cursor.fetchone()[0]


def _copy(table: str, columns: list[str], lines: list[str]) -> None:
    """COPY rows (tab-separated lines) into a table, then move its id sequence past them."""
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for i, line in enumerate(lines, 1):
                buffer.write(line)
                if i % 50_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


@transaction.atomic
def generate(rng: random.Random, households: int, lots: int, as_of: date, *, name: str = "") -> None:
    user = bench_user()
    close_day = as_of - timedelta(days=1)
    while close_day.weekday() >= 5:
        close_day -= timedelta(days=1)
    securities = {s.ticker: s for s in Security.objects.all()}
    closes = {t: Decimal(HELD.get(t, "100")) for t in securities}
    Price.objects.bulk_create(
        [Price(security=s, date=close_day, close=closes[t], source="synthetic") for t, s in securities.items()],
        ignore_conflicts=True,
    )
    closes = {t: p for t, p in Price.objects.filter(date=close_day).values_list("security__ticker", "close")}
    batch = 5000
    hh = Household.objects.bulk_create(
        [Household(name=name or f"{PREFIX}{i:06d}") for i in range(households)], batch_size=batch)
    units = TaxpayerUnit.objects.bulk_create([TaxpayerUnit(household=h, name="Couple") for h in hh], batch_size=batch)
    owners = Owner.objects.bulk_create(
        [Owner(household=h, name=f"Spouse {x}", taxpayer_unit=u) for h, u in zip(hh, units, strict=True) for x in "AB"],
        batch_size=batch)
    policies = HarvestPolicy.objects.bulk_create([HarvestPolicy(household=h, version=1) for h in hh],
                                                 batch_size=batch)
    PolicyAcknowledgment.objects.bulk_create(
        [PolicyAcknowledgment(policy=p, owner=o, user=user) for i, p in enumerate(policies)
         for o in owners[2 * i: 2 * i + 2]], batch_size=batch)
    OwnerTaxProfile.objects.bulk_create(
        [OwnerTaxProfile(owner=o, year=as_of.year, filing_status="mfj", ordinary_income=Decimal("250000"),
                         state_rate=Decimal("5"), outside_long_term_gains=Decimal("20000")) for o in owners],
        batch_size=batch)
    accounts = Account.objects.bulk_create(
        [Account(household=h, name=n, kind=k, lot_method="specific") for h in hh for n, k, _, _ in ACCOUNTS],
        batch_size=batch)
    links = []
    for i, account in enumerate(accounts):
        a, b = owners[2 * (i // len(ACCOUNTS))], owners[2 * (i // len(ACCOUNTS)) + 1]
        who = ACCOUNTS[i % len(ACCOUNTS)][2]
        links += [Account.owners.through(account=account, owner=o) for o, x in ((a, "A"), (b, "B")) if x in who]
    Account.owners.through.objects.bulk_create(links, batch_size=batch)
    tickers = list(HELD)
    ScheduledPurchase.objects.bulk_create(
        [ScheduledPurchase(account=accounts[i * len(ACCOUNTS)], security=securities[rng.choice(tickers)],
                           kind="contribution", frequency="monthly", amount=Decimal("1000"),
                           start_date=as_of - timedelta(days=400 + rng.randrange(28))) for i in range(households)],
        batch_size=batch)

    txn_id, lot_id = _next_id("lots_transaction"), _next_id("lots_lot")
    weights = [w for *_, w in ACCOUNTS]
    now = timezone.now().isoformat()
    txns, rows = [], []
    per, extra = divmod(lots, households)
    for h in range(households):
        household_accounts = accounts[h * len(ACCOUNTS):(h + 1) * len(ACCOUNTS)]
        for _ in range(per + (1 if h < extra else 0)):
            account = rng.choices(household_accounts, weights)[0]
            ticker = rng.choice(tickers)
            days = rng.randrange(1, 30) if rng.random() < 0.03 else rng.randrange(31, 1100)
            acquired = as_of - timedelta(days=days)
            # Markets rose about 8% a year: older lots were mostly bought lower; a lot's price is that trend
            # times noise of -12%..+15%, so about a quarter of the lots (most of the last year's) are at a loss.
            trend = Decimal(1.08 ** (-days / 365)).quantize(Decimal("0.0001"))
            price = (closes[ticker] * trend * Decimal(rng.randrange(88, 116)) / 100).quantize(CENT)
            qty = Decimal(rng.randrange(10_000, 2_000_000)) / 10_000
            basis = (qty * price).quantize(CENT)
            security_id = securities[ticker].pk
            txns.append(f"{txn_id}\t{account.pk}\t{security_id}\t{acquired}\t0\tbuy\t{qty}\t{price}\t0\t\t\t\t"
                        f"bench\t{now}\n")
            rows.append(f"{lot_id}\t{account.pk}\t{security_id}\t{txn_id}\t0\t{qty}\t{basis}\t0\t{acquired}\t{acquired}\n")
            txn_id += 1
            lot_id += 1
    _copy("lots_transaction", ["id", "account_id", "security_id", "trade_date", "seq", "action", "quantity", "price",
                               "fees", "lot_selection", "custodian_txn_id", "fingerprint", "source_file", "created_at"],
          txns)
    del txns
    _copy("lots_lot", ["id", "account_id", "security_id", "origin_id", "piece", "quantity", "cost_basis",
                       "wash_sale_adjustment", "acquired_date", "holding_period_start"], rows)

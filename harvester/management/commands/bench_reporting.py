"""python manage.py bench_reporting: time the reporting API and the dashboard under gunicorn on PostgreSQL.

Generates (once; later runs reuse it) one household with ten years of history: 50,000 disposals by
default (each sale relieves five lots), the buys behind them, open lots, wash-sale adjustments (deferred
and permanent), executed harvests, daily closes and tax profiles. Rows are written directly with
bulk_create, not through the ledger engine: the figures are synthetic, the sizes are what matter.
The household is never deleted (its membership's audit rows are append-only): run on a throwaway database.

Then it starts gunicorn with gunicorn.conf.py (DEBUG off; HARVESTER_TESTING=1 only so that
static files need no collectstatic and the API throttle does not cap the load) and measures, over real
HTTP on 127.0.0.1:
  1. one page of 100 open lots from the API, one request at a time: p50 / p95 (target p95 <= 40 ms);
  2. the same pages from 50 concurrent keep-alive connections for --load-seconds: requests per second
     (target >= 300). The load comes from wrk when it is installed (apt-get install wrk): a C client that
     leaves the cores to the server. Without it (or with --client python), from a thread pool of
     http.client connections in this process, which also stops after --load-requests and takes CPU from
     the server on a small machine. The output says which client ran. The 50 clients are 50 reporting
     tools, each with its own read-only login and token (--one-token: all of them with the bench user's);
  3. the dashboard page, one at a time (target p95 <= 150 ms);
  4. its htmx partials: the year panel, and the drill-down at each level (target p95 <= 50 ms).
It prints the figures and stops the gunicorn it started.
"""

import http.client
import os
import random
import runpy
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import Account, Household, Membership, Owner, OwnerTaxProfile, TaxpayerUnit
from lots.engine import holding_term

NAME = "Reporting bench household"
USERNAME = "reporting-bench"
TICKERS = ("VTI", "ITOT", "SCHB", "VEA", "IEFA", "SCHF", "VOO", "VTV")
LOTS_PER_SALE = 5
CENT = Decimal("0.01")


def _cents(x: float) -> Decimal:
    """Synthetic prices come from a float random walk; they become money here, rounded to the cent."""
    return Decimal(f"{x:.2f}")


class Command(BaseCommand):
    help = "Benchmark the reporting API and the dashboard under gunicorn (p95 latency, requests/s)."

    def add_arguments(self, parser):
        parser.add_argument("--disposals", type=int, default=50_000)
        parser.add_argument("--years", type=int, default=10)
        parser.add_argument("--open-lots", type=int, default=3_000)
        parser.add_argument("--requests", type=int, default=300, help="sequential requests per latency test")
        parser.add_argument("--concurrency", type=int, default=50)
        parser.add_argument("--load-requests", type=int, default=6_000,
                            help="the Python client stops the load test after this many")
        parser.add_argument("--load-seconds", type=float, default=15.0, help="length of the load test")
        parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto",
                            help="load generator: wrk if installed (auto), or the Python thread pool")
        parser.add_argument("--one-token", action="store_true",
                            help="every load client uses the bench user's token (default: one reporter each)")
        parser.add_argument("--workers", type=int, default=0,
                            help="gunicorn workers (default: gunicorn.conf.py's, one per core)")
        parser.add_argument("--threads", type=int, default=0,
                            help="threads per gunicorn worker (default: the config's; 1: sync workers)")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--server-side-binding", action="store_true",
                            help="run gunicorn with psycopg server-side binding (prepared statements)")

    def handle(self, *args, **o):
        if connection.vendor != "postgresql":
            raise CommandError("bench_reporting needs PostgreSQL: set DATABASE_URL to a throwaway database.")
        household = Household.objects.filter(name=NAME).first()
        if household is None:
            started = time.perf_counter()
            household = generate(random.Random(o["seed"]), o["disposals"], o["years"], o["open_lots"])
            self.say(f"generated the bench household in {time.perf_counter() - started:.1f} s")
        from lots.models import Disposal, Lot, Transaction

        counts = {
            "disposals": Disposal.objects.filter(account__household=household).count(),
            "transactions": Transaction.objects.filter(account__household=household).count(),
            "open lots": Lot.objects.filter(account__household=household).count(),
        }
        years = sorted(set(Disposal.objects.filter(account__household=household).values_list("tax_year", flat=True)))
        self.say(f"household {household.pk}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
                 + f", tax years {years[0]}-{years[-1]}")
        user = get_user_model().objects.get(username=USERNAME)
        token = Token.objects.get_or_create(user=user)[0].key
        o["tokens"] = [token] if o["one_token"] else reporter_tokens(household, o["concurrency"])
        cookie = f"sessionid={session_for(user)}"
        wrk = shutil.which("wrk")
        if o["client"] == "wrk" and not wrk:
            raise CommandError("wrk is not installed (apt-get install wrk), use --client python")
        o["wrk"] = wrk if o["client"] != "python" else None
        with Gunicorn(o["workers"], o["threads"], server_side_binding=o["server_side_binding"]) as server:
            binding = ", server-side binding" if o["server_side_binding"] else ""
            self.say(f"gunicorn: {server.describe()}{binding} on 127.0.0.1:{server.port}")
            o["warm"] = 3 * server.sizes()[0]  # each worker answers a few first: its caches (stamps) warm
            self.run_all(server.port, household, token, cookie, counts["open lots"], years[-1], o)

    def run_all(self, port, household, token, cookie, n_lots, year, o):
        api = {"Authorization": f"Token {token}", "Accept": "application/json"}
        pages = max(1, n_lots // 100)
        rng = random.Random(1)

        def lots_path():
            return f"/api/households/{household.pk}/open-lots/?limit=100&offset={rng.randrange(pages) * 100}"

        load_headers = [{**api, "Authorization": f"Token {key}"} for key in o["tokens"]]

        warm(port, [lots_path() for _ in range(max(30, o["warm"]))], api)
        results = []
        lat = sequential(port, [lots_path() for _ in range(o["requests"])], api)
        results.append(("API: page of 100 open lots, sequential", lat, "p95 <= 40 ms", lat["p95"] <= 40))
        tokens = "one token" if len(load_headers) == 1 else f"{len(load_headers)} reporters' tokens"
        if o["wrk"]:
            client = f"wrk ({o['wrk']}), {o['concurrency']} connections, {tokens}"
            load = wrk_load(o["wrk"], port, f"/api/households/{household.pk}/open-lots/?limit=100&offset=", pages,
                            load_headers, o["concurrency"], o["load_seconds"])
        else:
            client = f"Python thread pool, {o['concurrency']} http.client connections (wrk not used), {tokens}"
            load = concurrent(port, lots_path, load_headers, o["concurrency"], o["load_requests"], o["load_seconds"])
        self.say(
            f"load from {client}: {load['done']:,} requests in {load['seconds']:.1f} s, "
            f"{load['errors']} errors; latency under load p50 {load['p50']:.1f} ms, p95 {load['p95']:.1f} ms"
        )
        base = f"/households/{household.pk}/dashboard/"
        page_headers = {"Cookie": cookie, "Accept": "text/html"}
        n = max(20, o["requests"] // 6)
        warm(port, [f"{base}?year={year}"] * o["warm"], page_headers)
        dash = sequential(port, [f"{base}?year={year}"] * n, page_headers)
        results.append(("Dashboard page", dash, "p95 <= 150 ms", dash["p95"] <= 150))
        account = (
            Account.objects.filter(household=household, kind="individual").order_by("pk").values_list("pk", flat=True)[0]
        )
        group = "-".join(str(pk) for pk in Account.objects.get(pk=account).owners.order_by("pk").values_list("pk", flat=True))
        partials = [
            ("htmx: year panel", f"{base}?year={year - 1}", "focus"),
            ("htmx: drill-down, owners", f"{base}?year={year}", "drill"),
            ("htmx: drill-down, accounts", f"{base}?year={year}&group={group}", "drill"),
            ("htmx: drill-down, sales page", f"{base}?year={year}&account={account}&page=2", "drill"),
        ]
        for label, path, target in partials:
            headers = {**page_headers, "HX-Request": "true", "HX-Target": target}
            warm(port, [path] * o["warm"], headers)
            r = sequential(port, [path] * n, headers)
            results.append((label, r, "p95 <= 50 ms", r["p95"] <= 50))
        self.say("")
        self.say(f"{'measure':44} {'n':>5} {'p50 ms':>8} {'p95 ms':>8}  target")
        for label, r, target, ok in results:
            self.say(f"{label:44} {r['n']:>5} {r['p50']:>8.1f} {r['p95']:>8.1f}  {target} {'ok' if ok else 'MISSED'}")
        ok = load["rps"] >= 300
        self.say(f"{'API: open lots, ' + str(o['concurrency']) + ' concurrent clients':44} {load['done']:>5} "
                 f"{load['rps']:>8.0f} req/s      target >= 300 req/s {'ok' if ok else 'MISSED'}"
                 f" ({'wrk' if o['wrk'] else 'Python client'})")

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()


# ---- the data


def generate(rng: random.Random, n_disposals: int, n_years: int, n_open: int) -> Household:
    """One household, two spouses filing jointly, four accounts, n_years of synthetic trading."""
    from harvester.models import Execution, HarvestProposal
    from lots.models import Disposal, Lot, Price, Security, Transaction, WashSaleAdjustment

    today = timezone.localdate()
    first_year = today.year - n_years + 1
    start = date(first_year - 1, 12, 1)
    securities = {s.ticker: s for s in Security.objects.filter(ticker__in=TICKERS)}
    if len(securities) != len(TICKERS):
        raise CommandError("the ETF universe is not loaded: run manage.py migrate (it seeds it)")
    with transaction.atomic():
        user = get_user_model().objects.filter(username=USERNAME).first() or get_user_model().objects.create_user(
            USERNAME, f"{USERNAME}@example.com", secrets.token_urlsafe(16)
        )
        household = Household.objects.create(name=NAME)
        Membership.objects.create(household=household, user=user, role="advisor")
        unit = TaxpayerUnit.objects.create(household=household, name="Pat & Sam")
        pat = Owner.objects.create(household=household, name="Pat", taxpayer_unit=unit)
        sam = Owner.objects.create(household=household, name="Sam", taxpayer_unit=unit)
        accounts = []
        for name, kind, owners in (("Pat individual", "individual", [pat]), ("Sam individual", "individual", [sam]),
                                   ("Joint", "joint", [pat, sam]), ("Pat IRA", "ira", [pat])):
            account = Account.objects.create(household=household, name=name, kind=kind, custodian="Bench")
            account.owners.set(owners)
            accounts.append(account)
        for year in (today.year - 1, today.year):
            OwnerTaxProfile.objects.create(owner=pat, year=year, filing_status="mfj", ordinary_income=Decimal("180000"),
                                           state_rate=Decimal("5"))
            OwnerTaxProfile.objects.create(owner=sam, year=year, filing_status="mfj", ordinary_income=Decimal("90000"),
                                           carryforward_short_term=Decimal("2500"))

        # Daily closes (weekdays): a random walk per security.
        days = [start + timedelta(days=i) for i in range((today - start).days + 1)]
        days = [d for d in days if d.weekday() < 5]
        closes: dict[str, list[Decimal]] = {}
        prices = []
        for ticker, security in securities.items():
            level, series = rng.uniform(40, 300), []
            for d in days:
                level *= 1 + rng.gauss(0.0003, 0.011)
                close = _cents(max(level, 1.0))
                series.append(close)
                prices.append(Price(security=security, date=d, close=close, source="synthetic"))
            closes[ticker] = series
        Price.objects.bulk_create(prices, batch_size=5000)
        index = {d: i for i, d in enumerate(days)}
        trading = [d for d in days if d.year >= first_year]

        # Sales: each relieves LOTS_PER_SALE buys made 20 to 700 trading days earlier.
        n_sales = max(1, n_disposals // LOTS_PER_SALE)
        sale_days = sorted(rng.choice(trading[30:]) for _ in range(n_sales))
        buys, sells, plan = [], [], []
        for day in sale_days:
            account = rng.choice(accounts)
            ticker = rng.choice(TICKERS)
            lots = []
            for _ in range(LOTS_PER_SALE):
                back = rng.randrange(20, 700)
                bought = days[max(0, index[day] - back)]
                qty = Decimal(rng.randrange(1, 40))
                lots.append((bought, qty))
                buys.append(Transaction(account=account, security=securities[ticker], trade_date=bought, action="buy",
                                        quantity=qty, price=closes[ticker][index[bought]]))
            qty = sum(q for _, q in lots)
            sells.append(Transaction(account=account, security=securities[ticker], trade_date=day, seq=1, action="sell",
                                     quantity=qty, price=closes[ticker][index[day]]))
            plan.append((account, ticker, day, lots))
        # Open lots: recent buys still held.
        open_buys = []
        for _ in range(n_open):
            account, ticker = rng.choice(accounts), rng.choice(TICKERS)
            bought = rng.choice(trading[-500:])
            open_buys.append(Transaction(account=account, security=securities[ticker], trade_date=bought, action="buy",
                                         quantity=Decimal(rng.randrange(1, 60)), price=closes[ticker][index[bought]]))
        Transaction.objects.bulk_create(buys, batch_size=5000)
        Transaction.objects.bulk_create(sells, batch_size=5000)
        Transaction.objects.bulk_create(open_buys, batch_size=5000)
        Lot.objects.bulk_create(
            [Lot(account=t.account, security=t.security, origin=t, quantity=t.quantity,
                 cost_basis=(t.quantity * t.price).quantize(CENT), acquired_date=t.trade_date,
                 holding_period_start=t.trade_date) for t in open_buys],
            batch_size=5000,
        )
        disposals = []
        for i, (account, ticker, day, lots) in enumerate(plan):
            sale = sells[i]
            for j, (bought, qty) in enumerate(lots):
                origin = buys[i * LOTS_PER_SALE + j]
                proceeds = (qty * sale.price).quantize(CENT)
                basis = (qty * origin.price).quantize(CENT)
                disposals.append(Disposal(
                    account=account, security=securities[ticker], sale=sale, origin=origin, quantity=qty,
                    date_acquired=bought, date_sold=day, proceeds=proceeds, cost_basis=basis, gain_loss=proceeds - basis,
                    term=holding_term(bought, day), holding_period_start=bought, tax_year=day.year,
                    reportable=account.is_taxable,
                ))
        # Wash sales: one taxable loss in twenty has half of it disallowed, into a later buy (an IRA's: for good).
        adjustments = []
        for d in disposals:
            if d.reportable and d.gain_loss < 0 and rng.random() < 0.05:
                replacement = rng.choice(open_buys)
                disallowed = (-d.gain_loss / 2).quantize(CENT)
                d.disallowed, d.code, d.gain_loss = disallowed, "W", d.gain_loss + disallowed
                adjustments.append((d, replacement, disallowed))
        Disposal.objects.bulk_create(disposals, batch_size=5000)
        WashSaleAdjustment.objects.bulk_create(
            [WashSaleAdjustment(disposal=d, replacement=r, replacement_account=r.account, quantity=d.quantity,
                                disallowed=amount, kind="permanent" if not r.account.is_taxable else "deferred",
                                identity_group=d.security.ticker) for d, r, amount in adjustments],
            batch_size=5000,
        )
        # Executed harvests: about one taxable loss sale a week.
        loss_sales = {d.sale_id: d for d in disposals if d.reportable and d.gain_loss < 0}
        chosen = rng.sample(sorted(loss_sales), min(len(loss_sales), 52 * n_years))
        proposals = []
        for sale_id in chosen:
            d = loss_sales[sale_id]
            buy = TICKERS[(TICKERS.index(d.security.ticker) + 1) % len(TICKERS)]
            proposals.append(HarvestProposal(
                household=household, kind="harvest", status="executed", fingerprint=f"bench-{sale_id}",
                account=d.account, sell_security=d.security, buy_security=securities[buy], lots=[],
                sell_quantity=d.quantity, price=d.proceeds / d.quantity, price_date=d.date_sold, proceeds=d.proceeds,
                cost_basis=d.cost_basis, loss_short_term=-d.gain_loss if d.term == "short" else Decimal("0"),
                loss_long_term=-d.gain_loss if d.term == "long" else Decimal("0"), buy_amount=d.proceeds,
            ))
        HarvestProposal.objects.bulk_create(proposals, batch_size=2000)
        Execution.objects.bulk_create(
            [Execution(proposal=p, method="fills", executed_by=user, trade_date=loss_sales[sale_id].date_sold,
                       sell_transaction_id=sale_id, fills={"sell_transactions": [sale_id]})
             for p, sale_id in zip(proposals, chosen, strict=True)],
            batch_size=2000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return household


def session_for(user) -> str:
    """A logged-in session for the bench user, made directly (no login view, no CSRF), past the second
    factor an advisor must have: the session records a confirmed TOTP device, as a TOTP login would
    (tests/signin.py does the same for the test client)."""
    from importlib import import_module

    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Bench authenticator", confirmed=True)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.create()
    return store.session_key


def reporter_tokens(household, n: int) -> list[str]:
    """API tokens of n read-only reporters of the household (made on the first run), one per load client:
    50 concurrent clients are 50 reporting tools, each under its own throttle (API_THROTTLE_USER)."""
    users = get_user_model().objects
    keys = []
    for i in range(1, n + 1):
        name = f"{USERNAME}-client-{i}"
        user = users.filter(username=name).first() or users.create_user(name, f"{name}@example.com",
                                                                          secrets.token_urlsafe(16))
        Membership.objects.get_or_create(household=household, user=user, defaults={"role": "reporter"})
        keys.append(Token.objects.get_or_create(user=user)[0].key)
    return keys


# ---- the server and the clients


class Gunicorn:
    """gunicorn with gunicorn.conf.py on a free loopback port with this process's database, stopped on
    exit. Workers and threads: the config's unless given (0)."""

    CONFIG = "gunicorn.conf.py"

    def __init__(self, workers: int = 0, threads: int = 0, *, server_side_binding: bool = False):
        self.workers, self.threads, self.server_side_binding = workers, threads, server_side_binding
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = None

    def __enter__(self):
        env = {
            **os.environ,
            "DEBUG": "0",
            "HARVESTER_TESTING": "1",
            "SECRET_KEY": settings.SECRET_KEY,  # the bench's session cookie is signed with it
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "API_THROTTLE_USER": "10000000/minute",
            "LOG_LEVEL": "WARNING",
        }
        db = settings.DATABASES["default"]
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            + ("?server_side_binding=true" if self.server_side_binding else "")
        )
        sizes = []
        if self.workers:
            sizes += ["--workers", str(self.workers)]
        if self.threads:
            sizes += ["--threads", str(self.threads), "--worker-class", "gthread" if self.threads > 1 else "sync"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "harvester.wsgi:application", "--config", self.CONFIG,
             "--bind", f"127.0.0.1:{self.port}", *sizes],
            cwd=settings.BASE_DIR, env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CommandError(f"gunicorn exited with {self.proc.returncode}")
            try:
                status, _ = request(http.client.HTTPConnection("127.0.0.1", self.port, timeout=5), "/login/", {})
                if status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise CommandError("gunicorn did not answer within 60 s")

    def sizes(self) -> tuple[int, int]:
        """Workers and threads as gunicorn runs them (the config's defaults unless given)."""
        config = runpy.run_path(str(settings.BASE_DIR / self.CONFIG))  # the file gunicorn reads
        return self.workers or config["workers"], self.threads or config["threads"]

    def describe(self) -> str:
        workers, threads = self.sizes()
        kind = f"{threads} threads each (gthread)" if threads > 1 else "sync"
        return f"{workers} workers, {kind}, config {self.CONFIG}"

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def request(conn: http.client.HTTPConnection, path: str, headers: dict) -> tuple[int, bytes]:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _summary(times: list[float]) -> dict:
    ms = sorted(t * 1000 for t in times)
    if not ms:
        return {"n": 0, "p50": 0.0, "p95": 0.0}
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return {"n": len(ms), "p50": statistics.median(ms), "p95": p95}


def warm(port: int, paths: list[str], headers: dict) -> None:
    sequential(port, paths, headers)


def sequential(port: int, paths: list[str], headers: dict) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for path in paths:
        started = time.perf_counter()
        status, _ = request(conn, path, headers)
        times.append(time.perf_counter() - started)
        if status != 200:
            raise CommandError(f"GET {path} answered {status}")
    conn.close()
    return _summary(times)


def concurrent(port: int, make_path, headers: list[dict], clients: int, limit: int, seconds: float) -> dict:
    """`clients` threads, each with its own keep-alive connection and headers (round robin over `headers`),
    until `limit` requests or `seconds`."""
    lock = threading.Lock()
    issued = [0]
    times: list[float] = []
    errors = [0]
    stop_at = time.monotonic() + seconds

    def client(mine_headers: dict):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        while time.monotonic() < stop_at:
            with lock:
                if issued[0] >= limit:
                    break
                issued[0] += 1
                path = make_path()
            started = time.perf_counter()
            try:
                status, _ = request(conn, path, mine_headers)
            except (OSError, http.client.HTTPException):
                conn.close()
                bad += 1
                continue
            mine.append(time.perf_counter() - started)
            bad += status != 200
        conn.close()
        with lock:
            times.extend(mine)
            errors[0] += bad

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for i in range(clients):
            pool.submit(client, headers[i % len(headers)])
    elapsed = time.perf_counter() - started
    summary = _summary(times)
    return {**summary, "done": len(times), "errors": errors[0], "seconds": elapsed, "rps": len(times) / elapsed}


WRK_SCRIPT = """
math.randomseed(%(seed)d)
local clients = {%(headers)s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "%(path)s" .. (math.random(0, %(pages)d - 1) * 100), clients[n %% #clients + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk-result %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50), latency:percentile(95)))
end
"""


def wrk_load(wrk: str, port: int, path: str, pages: int, headers: list[dict], connections: int,
             seconds: float) -> dict:
    """`connections` keep-alive connections from wrk (one thread) for `seconds`, each GET a random page, the
    requests' headers taken in turn from `headers`."""
    tables = ("{" + ", ".join(f'["{k}"] = "{v}"' for k, v in h.items()) + "}" for h in headers)
    lua = WRK_SCRIPT % {"seed": 1, "path": path, "pages": pages, "headers": ", ".join(tables)}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua)
        script.flush()
        out = subprocess.run(
            [wrk, "--threads", "1", "--connections", str(connections), "--duration", f"{max(1, round(seconds))}s",
             "--timeout", "30s", "--script", script.name, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True,
        ).stdout
    line = next((x for x in out.splitlines() if x.startswith("wrk-result ")), None)
    if line is None:
        raise CommandError(f"wrk printed no result:\n{out}")
    done, micros, errors, p50, p95 = (int(x) for x in line.split()[1:])
    return {"n": done, "done": done, "errors": errors, "seconds": micros / 1e6, "rps": done / (micros / 1e6),
            "p50": p50 / 1000, "p95": p95 / 1000}

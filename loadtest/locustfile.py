"""The load test's three kinds of users (run by scripts/load; docs/load.md).

    locust -f loadtest/locustfile.py --headless -u 200 -r 20 -t 2m --host http://127.0.0.1:PORT

LOAD_DATA names the JSON file `manage.py load_seed` wrote (sessions, tokens, ids); LOAD_RESULTS, if set,
is where the exact latencies per request class are written when the run stops (loadtest/report.py reads
it). Every request is named by its endpoint class, so locust's own table reads the same.

Think times (seconds, drawn uniformly) stand for a person reading a page or a client processing one.
They follow common web-benchmark practice (TPC-W's browsing mix averages 7 s between page views) and
what each page asks of its reader:
- Owner (weight 2): opens the inbox; 3-8 to pick the first proposal waiting and open it; 10-30 to read
  it (loss, tax value, checks, wash-sale dates) and decide; approves it (85%) or declines it with a
  reason (15%) through the card's htmx POST, with the CSRF token the page carries (and the password if
  the 10-minute confirmation has lapsed); 5-15 before going back to the inbox. About one decision in 35 s.
- Advisor (weight 1): the household list, a household page of their book (about 33 households, the big
  one among them), a dashboard (the big household 70% of the time, else one of the book) in one of the
  last three years, two to four of its htmx partials (year panel, drill-down by owner group, by account,
  a page of one account's sales), the scans page of one of their owners' households and, one visit in
  five, the dashboard of the whole book: 3-10 between pages, 10-30 between visits.
- Reporting client (weight 1): a scheduled sync with a read-only token. Its first run starts at a random
  moment in the first half of the run (up to 60 s: clients' schedules are not aligned), then: the big
  household's open lots 100 at a time, 0.2-1 between pages (the client stores each), the realized
  totals, the disposals of one tax year 100 at a time (a run of at most 10 pages); 60-180 before the
  next run. Each client syncs once or twice in two minutes.
"""

import http.cookiejar
import itertools
import json
import os
import random
import re
import resource
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import gevent
from locust import FastHttpUser, between, events, task

from loadtest.spec import (  # run with the repository on PYTHONPATH (scripts/load does)
    ADVISOR_HOME,
    ADVISOR_HOUSEHOLD,
    API_DISPOSALS,
    API_LOTS,
    API_REALIZED,
    BOOK_DASHBOARD,
    DASHBOARD,
    OWNER_APPROVE,
    OWNER_DECLINE,
    OWNER_INBOX,
    OWNER_PROPOSAL,
    PARTIAL_ACCOUNTS,
    PARTIAL_GROUPS,
    PARTIAL_SALES,
    PARTIAL_YEAR,
    SCANS,
    WEIGHTS,
)

DATA = json.loads(Path(os.environ["LOAD_DATA"]).read_text())
BIG = DATA["big"]
LOTS_PAGE = 100
REALIZED = os.environ.get("LOAD_REALIZED", "1") != "0"  # scripts/load --no-realized: leave out the totals
APPROVE_ACTION = re.compile(r'hx-post="/proposals/(\d+)/approve/"')
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def think(low: float, high: float) -> None:
    gevent.sleep(random.uniform(low, high))


@contextmanager
def answered(name: str):
    """Around a request: when the run stops while it is still waiting for its answer, remember how long it
    had waited (locust records only answered requests, so the slowest would otherwise vanish)."""
    started = time.perf_counter()
    try:
        yield
    except gevent.GreenletExit:
        _unanswered.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        raise


def cookie(name: str, value: str, host: str) -> http.cookiejar.Cookie:
    return http.cookiejar.Cookie(
        version=0, name=name, value=value, port=None, port_specified=False, domain=host, domain_specified=False,
        domain_initial_dot=False, path="/", path_specified=True, secure=False, expires=None, discard=True,
        comment=None, comment_url=None, rest={},
    )


class BrowserUser(FastHttpUser):
    """A logged-in browser: the seeded session and CSRF cookies, one login per simulated user."""

    abstract = True
    kind = ""
    _counters: dict[str, itertools.count] = {}

    def on_start(self):
        logins = DATA[self.kind]
        n = next(BrowserUser._counters.setdefault(self.kind, itertools.count()))
        if n >= len(logins):
            raise RuntimeError(f"only {len(logins)} {self.kind} logins were seeded: run load_seed with more --users")
        self.me = logins[n]
        host = urlparse(self.host).hostname
        self.client.cookiejar.set_cookie(cookie(DATA["cookies"]["session"], self.me["session"], host))
        self.client.cookiejar.set_cookie(cookie(DATA["cookies"]["csrf"], self.me["csrf"], host))

    def page(self, path: str, name: str, **headers):
        with answered(name), self.client.get(path, name=name, headers={"Accept": "text/html", **headers},
                                             allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:  # a redirect here is to the login or second-factor page: a lost session
                r.failure(f"HTTP {r.status_code} {r.headers.get('Location') or ''}".strip())
            return r

    def partial(self, path: str, name: str, target: str):
        return self.page(path, name, **{"HX-Request": "true", "HX-Target": target,
                                        "HX-Current-URL": f"{self.host}{path}"})


class Owner(BrowserUser):
    weight = WEIGHTS["owner"]
    kind = "owners"
    wait_time = between(5, 15)

    @task
    def decide(self):
        inbox = self.page("/inbox/", OWNER_INBOX)
        waiting = APPROVE_ACTION.findall(inbox.text or "")
        if not waiting:
            return  # nothing waits (more decisions than seeded proposals): just a look at the inbox
        pid = waiting[0]
        think(3, 8)
        page = self.page(f"/proposals/{pid}/", OWNER_PROPOSAL)
        body = page.text or ""
        token = CSRF_FIELD.search(body)
        version = re.search(r'name="version" value="(\d+)"', body)
        if not (token and version):
            return  # the page failed (already counted) or no longer offers a decision
        think(10, 30)
        form = {"csrfmiddlewaretoken": token.group(1), "version": version.group(1)}
        approve = random.random() < 0.85
        if approve:
            form["comment"] = ""
            if 'name="password"' in body:  # the 10-minute password confirmation lapsed
                form["password"] = DATA["password"]
        else:
            form["reason"] = "Not this year: we expect gains to offset next year."
        path = f"/proposals/{pid}/{'approve' if approve else 'reject'}/"
        headers = {"HX-Request": "true", "HX-Target": f"proposal-{pid}", "HX-Current-URL": f"{self.host}/proposals/{pid}/",
                   "X-CSRFToken": token.group(1), "Accept": "text/html"}
        want = "approved" if approve else "rejected"
        name = OWNER_APPROVE if approve else OWNER_DECLINE
        with answered(name), self.client.post(path, data=form, headers=headers, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
            elif f'data-status="{want}"' not in (r.text or ""):
                r.failure(f"the card does not say {want}")


class Advisor(BrowserUser):
    weight = WEIGHTS["advisor"]
    kind = "advisors"
    wait_time = between(10, 30)

    @task
    def visit(self):
        self.page("/", ADVISOR_HOME)
        think(3, 10)
        self.page(f"/households/{random.choice(self.me['households'])}/", ADVISOR_HOUSEHOLD)
        think(3, 10)
        big = random.random() < 0.7
        household = BIG["household"] if big else random.choice(self.me["households"])
        years = BIG["years"]
        year = random.choice(years[-3:]) if big else years[-1]
        base = f"/households/{household}/dashboard/"
        self.page(f"{base}?year={year}", DASHBOARD)
        if big:
            account = random.choice(BIG["accounts"])
            partials = [
                (f"{base}?year={random.choice(years)}", PARTIAL_YEAR, "focus"),
                (f"{base}?year={year}", PARTIAL_GROUPS, "drill"),
                (f"{base}?year={year}&group={account['group']}", PARTIAL_ACCOUNTS, "drill"),
                (f"{base}?year={year}&account={account['id']}&page="
                 f"{random.randint(1, account['sales_pages'][str(year)])}", PARTIAL_SALES, "drill"),
            ]
            chosen = random.sample(partials, random.randint(2, 4))
        else:
            chosen = [(f"{base}?year={year - 1}", PARTIAL_YEAR, "focus")]
        for path, name, target in chosen:
            think(3, 10)
            self.partial(path, name, target)
        if self.me["owner_households"]:
            think(3, 10)
            self.page(f"/households/{random.choice(self.me['owner_households'])}/scan/", SCANS)
        if random.random() < 0.2:
            think(3, 10)
            self.page("/dashboard/", BOOK_DASHBOARD)


class ReportingClient(FastHttpUser):
    weight = WEIGHTS["reporting"]
    wait_time = between(60, 180)
    _counter = itertools.count()

    def on_start(self):
        n = next(ReportingClient._counter)
        if n >= len(DATA["reporters"]):
            raise RuntimeError(f"only {len(DATA['reporters'])} reporter tokens were seeded")
        self.headers = {"Authorization": f"Token {DATA['reporters'][n]['token']}", "Accept": "application/json"}
        self.base = f"/api/households/{BIG['household']}/"
        run_time = getattr(self.environment.parsed_options, "run_time", None) or 120
        gevent.sleep(random.uniform(0, min(60, run_time / 2)))

    def get_json(self, path: str, name: str):
        with answered(name), self.client.get(path, name=name, headers=self.headers, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
                return None
            try:
                return r.json()
            except ValueError:
                r.failure("not JSON")
                return None

    @task
    def sync(self):
        offset = 0
        while True:
            body = self.get_json(f"{self.base}open-lots/?limit={LOTS_PAGE}&offset={offset}", API_LOTS)
            if not body or not body.get("next"):
                break
            offset += LOTS_PAGE
            think(0.2, 1)
        if REALIZED:
            self.get_json(f"{self.base}realized/", API_REALIZED)
            think(0.2, 1)
        year = random.choice(BIG["years"])
        pages = -(-BIG["disposals_by_year"][str(year)] // LOTS_PAGE)
        start = random.randrange(max(1, pages - 9))
        for page in range(start, min(pages, start + 10)):
            self.get_json(f"{self.base}disposals/?year={year}&limit={LOTS_PAGE}&offset={page * LOTS_PAGE}", API_DISPOSALS)
            think(0.2, 1)


# ---- exact latencies per request class, for loadtest/report.py (locust's own percentiles are bucketed)

_samples: dict[str, list[float]] = {}
_failures: dict[str, int] = {}
_user_errors: list[str] = []
_unanswered: dict[str, list[float]] = {}
_clock = {"start": None, "stop": None, "cpu": 0.0}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@events.test_start.add_listener
def _started(**_kwargs):
    _clock["start"] = time.time()
    _clock["cpu"] = _cpu_seconds()


@events.request.add_listener
def _record(name, response_time, exception, **_kwargs):
    _samples.setdefault(name, []).append(response_time)
    if exception is not None:
        _failures[name] = _failures.get(name, 0) + 1


@events.user_error.add_listener
def _user_error(user_instance, exception, tb, **_kwargs):
    """An exception in a scenario's own code (not an HTTP failure): the run cannot be trusted."""
    _user_errors.append(f"{type(user_instance).__name__}: {exception!r}")


@events.test_stop.add_listener
def _stopped(**_kwargs):
    _clock["stop"] = time.time()
    path = os.environ.get("LOAD_RESULTS")
    if path:
        with open(path, "w") as f:
            json.dump({"start": _clock["start"], "stop": _clock["stop"], "client_cpu": _cpu_seconds() - _clock["cpu"],
                       "samples": _samples, "failures": _failures, "user_errors": _user_errors,
                       "unanswered": _unanswered}, f)

"""Shared fixtures: a small household built from named people, a real Celery worker, headless Chromium."""

import os
from datetime import date
from decimal import Decimal

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def celery_worker_thread(django_db_setup, django_db_blocker):
    """A real Celery worker (solo pool, in a thread) consuming from the real Redis broker.

    Session-scoped: a worker built inside a test's transaction closes that test's connection.
    Tests that need the worker to see their rows use django_db(transaction=True).
    """
    from django.conf import settings

    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: run the suite with scripts/test")
    from celery.contrib.testing.worker import start_worker

    from harvester.celery import app

    with django_db_blocker.unblock():
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING") as w:
            _worker_running.append(w)
            yield w
            _worker_running.clear()


_worker_running: list = []  # the session's worker, once a test has started it


@pytest.fixture(autouse=True)
def _no_task_outlives_its_test(request):
    """After a test with a real database transaction: let the tasks it enqueued finish (or drop them when no
    worker runs) before its tables are emptied. A ledger recompute still running while pytest-django
    truncates the tables deadlocks with it, and a task left in Redis would run in a later test, on that
    test's rows. (Autouse fixtures of conftest files are set up after pytest-django's own, so this
    teardown runs before the database's.)"""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    if not transactional:
        return
    from django.conf import settings

    if not settings.REDIS_URL:
        return  # tasks ran eagerly, inside the test
    import time

    import redis
    from celery.worker import state

    from harvester.celery import app

    if not _worker_running:
        app.control.purge()
        return
    queue = redis.Redis.from_url(settings.REDIS_URL)
    deadline, idle = time.monotonic() + 30, 0
    while time.monotonic() < deadline and idle < 2:
        busy = queue.llen(app.conf.task_default_queue) or state.active_requests or state.reserved_requests
        idle = 0 if busy else idle + 1
        time.sleep(0.05)
    queue.close()


class World:
    """Named people and one household: the Morgans (two spouses, a joint account, IRAs, a trust)."""

    def __init__(self, django_user_model):
        from accounts.models import Account, Household, Membership, Owner, TaxpayerUnit

        def user(name):
            return django_user_model.objects.create_user(name, f"{name}@example.com", "pw-" + name)

        self.advisor, self.alex, self.jordan = user("advisor"), user("alex"), user("jordan")
        self.taylor, self.reporter, self.outsider = user("taylor"), user("reporter"), user("outsider")
        hh = self.household = Household.objects.create(name="Morgan household")
        for u, role in [
            (self.advisor, "advisor"),
            (self.alex, "member"),
            (self.jordan, "member"),
            (self.taylor, "trustee"),
            (self.reporter, "reporter"),
        ]:
            Membership.objects.create(household=hh, user=u, role=role)
        family = TaxpayerUnit.objects.create(household=hh, name="Alex & Jordan")
        trust_unit = TaxpayerUnit.objects.create(household=hh, name="Trust")
        self.alex_owner = Owner.objects.create(household=hh, name="Alex", taxpayer_unit=family, user=self.alex)
        self.jordan_owner = Owner.objects.create(household=hh, name="Jordan", taxpayer_unit=family, user=self.jordan)
        self.trust_owner = Owner.objects.create(
            household=hh, name="Trust", kind="non_grantor_trust", taxpayer_unit=trust_unit
        )
        self.trust_owner.trustees.set([self.taylor])

        def account(name, kind, owners):
            a = Account.objects.create(household=hh, name=name, kind=kind)
            a.owners.set(owners)
            return a

        self.alex_ind = account("Alex individual", "individual", [self.alex_owner])
        self.alex_ira = account("Alex IRA", "ira", [self.alex_owner])
        self.jordan_ind = account("Jordan individual", "individual", [self.jordan_owner])
        self.joint = account("Joint", "joint", [self.alex_owner, self.jordan_owner])
        self.trust = account("Trust", "trust", [self.trust_owner])

        # Another household, with its own member: a stranger to the Morgans.
        other = self.other_household = Household.objects.create(name="Chen household")
        self.chen = user("chen")
        Membership.objects.create(household=other, user=self.chen, role="member")
        unit = TaxpayerUnit.objects.create(household=other, name="Chen")
        chen_owner = Owner.objects.create(household=other, name="Chen", taxpayer_unit=unit, user=self.chen)
        self.chen_account = Account.objects.create(household=other, name="Chen individual", kind="individual")
        self.chen_account.owners.set([chen_owner])

    def trade(self, account, ticker, day, action, qty, price, fees="0", **extra):
        from lots.models import Security, Transaction

        return Transaction.objects.create(
            account=account,
            security=Security.objects.get(ticker=ticker),
            trade_date=date.fromisoformat(day) if isinstance(day, str) else day,
            action=action,
            quantity=Decimal(qty),
            price=Decimal(price),
            fees=Decimal(fees),
            **extra,
        )

    def price(self, ticker, day, close):
        from lots.models import Price, Security

        return Price.objects.create(
            security=Security.objects.get(ticker=ticker), date=date.fromisoformat(day), close=Decimal(close)
        )


@pytest.fixture
def universe(db):
    """The ETF universe the migrations seed. A transactional test's flush empties every table, so put it
    back when it is gone (pytest-django runs transactional tests last; this costs one query otherwise)."""
    from lots.models import Security
    from lots.reference import load_universe

    if not Security.objects.exists():
        load_universe()


@pytest.fixture
def world(universe, django_user_model):
    return World(django_user_model)

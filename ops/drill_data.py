"""Data and sign-ins for the fault drill (ops/faults.py): households with harvestable losses, a few with a
ledger of sales and wash sales, and sessions created on the server (past the second factor).

Deterministic for a seed and a date. Each household is a married couple (two person owners, each with a
login, a member of the household) with two individual accounts, a joint account and two IRAs, a policy
both acknowledged, this year's tax profiles, a monthly contribution, and lots of eight ETFs bought over
three years on a market rising about 8% a year with noise; one joint lot per household is bought well
above today's close, so every household has a loss to harvest. One advisor manages every household.
"""

import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Household, Membership, Owner, OwnerTaxProfile, TaxpayerUnit
from harvester.models import HarvestPolicy, PolicyAcknowledgment
from lots.ledger import ledger_recompute
from lots.models import Lot, Price, ScheduledPurchase, Security, Transaction

PREFIX = "Drill "
CLOSES = {"VTI": "250", "ITOT": "110", "VOO": "500", "VEA": "50", "IEFA": "70", "VWO": "45", "IEMG": "55", "AGG": "98"}
ACCOUNTS = (("Taxable A", "individual", "A", 3), ("Taxable B", "individual", "B", 3), ("Joint", "joint", "AB", 2),
            ("IRA A", "ira", "A", 1), ("IRA B", "ira", "B", 1))  # name, kind, owners, weight for random lots
CENT = Decimal("0.01")
QUANTUM = Decimal("0.0001")


@dataclass(frozen=True)
class Seeded:
    households: int
    lots: int
    ledger_households: list[int]
    as_of: date


def last_weekday_before(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def advisor():
    user, _ = get_user_model().objects.get_or_create(username="drill-advisor", defaults={"first_name": "Drill"})
    return user


@transaction.atomic
def seed(*, households: int, lots_per_household: int, ledger_households: int, as_of: date, seed: int = 1) -> Seeded:
    """Write the drill's households (see the module docstring); the first `ledger_households` of them also
    get sales (a loss, a gain, a wash sale into an IRA) and a ledger recompute, so disposals exist."""
    rng = random.Random(seed)
    User = get_user_model()
    adv = advisor()
    securities = {s.ticker: s for s in Security.objects.filter(ticker__in=CLOSES)}
    missing = sorted(set(CLOSES) - set(securities))
    if missing:
        raise RuntimeError(f"the ETF universe lacks {missing}: run manage.py migrate on an empty database")
    close_day = last_weekday_before(as_of)
    Price.objects.bulk_create([Price(security=securities[t], date=close_day, close=Decimal(c), source="synthetic")
                               for t, c in CLOSES.items()], ignore_conflicts=True)
    closes = dict(Price.objects.filter(date=close_day, security__ticker__in=CLOSES)
                  .values_list("security__ticker", "close"))

    hh = Household.objects.bulk_create([Household(name=f"{PREFIX}{i:04d}") for i in range(households)])
    users = User.objects.bulk_create([User(username=f"drill-{i:04d}-{x.lower()}", first_name=f"Spouse {x}",
                                           password="!unusable") for i in range(households) for x in "AB"])
    units = TaxpayerUnit.objects.bulk_create([TaxpayerUnit(household=h, name="Couple") for h in hh])
    owners = Owner.objects.bulk_create([Owner(household=h, name=f"Spouse {x}", taxpayer_unit=u, user=users[2 * i + j])
                                        for i, (h, u) in enumerate(zip(hh, units, strict=True))
                                        for j, x in enumerate("AB")])
    Membership.objects.bulk_create([Membership(household=h, user=adv, role=Membership.Role.ADVISOR) for h in hh]
                                   + [Membership(household=o.household, user=o.user, role=Membership.Role.MEMBER)
                                      for o in owners])
    policies = HarvestPolicy.objects.bulk_create([HarvestPolicy(household=h, version=1, created_by=adv) for h in hh])
    PolicyAcknowledgment.objects.bulk_create([PolicyAcknowledgment(policy=p, owner=o, user=o.user)
                                              for i, p in enumerate(policies) for o in owners[2 * i: 2 * i + 2]])
    OwnerTaxProfile.objects.bulk_create([
        OwnerTaxProfile(owner=o, year=as_of.year, filing_status="mfj", ordinary_income=Decimal("250000"),
                        state_rate=Decimal("5"), outside_long_term_gains=Decimal("20000")) for o in owners])
    accounts = Account.objects.bulk_create([Account(household=h, name=n, kind=k, lot_method="specific")
                                            for h in hh for n, k, _, _ in ACCOUNTS])
    links = []
    for i, account in enumerate(accounts):
        a, b = owners[2 * (i // len(ACCOUNTS))], owners[2 * (i // len(ACCOUNTS)) + 1]
        links += [Account.owners.through(account=account, owner=o)
                  for o, x in ((a, "A"), (b, "B")) if x in ACCOUNTS[i % len(ACCOUNTS)][2]]
    Account.owners.through.objects.bulk_create(links)
    tickers = list(CLOSES)
    ScheduledPurchase.objects.bulk_create([
        ScheduledPurchase(account=accounts[i * len(ACCOUNTS)], security=securities[rng.choice(tickers)],
                          kind="contribution", frequency="monthly", amount=Decimal("1000"),
                          start_date=as_of - timedelta(days=400 + rng.randrange(28))) for i in range(households)])

    trades = []  # (account, ticker, days ago, quantity, price)
    weights = [w for *_, w in ACCOUNTS]
    for h in range(households):
        mine = accounts[h * len(ACCOUNTS):(h + 1) * len(ACCOUNTS)]
        # A sure loss: the joint account bought an international fund well above today's close.
        ticker = ("VEA", "VWO")[h % 2]
        trades.append((mine[2], ticker, 150 + h % 90, Decimal(200 + h % 50),
                       (closes[ticker] * Decimal("1.25")).quantize(CENT)))
        for _ in range(lots_per_household - 1):
            account = rng.choices(mine, weights)[0]
            ticker = rng.choice(("VTI", "VOO", "IEMG", "AGG", "ITOT", "IEFA"))
            days = rng.randrange(1, 30) if rng.random() < 0.03 else rng.randrange(31, 1100)
            trend = Decimal(1.08 ** (-days / 365)).quantize(QUANTUM)
            price = (closes[ticker] * trend * Decimal(rng.randrange(88, 116)) / 100).quantize(CENT)
            trades.append((account, ticker, days, Decimal(rng.randrange(10_000, 2_000_000)) / 10_000, price))
    buys = Transaction.objects.bulk_create([
        Transaction(account=a, security=securities[t], trade_date=as_of - timedelta(days=d), seq=0, action="buy",
                    quantity=q, price=p, source_file="drill") for a, t, d, q, p in trades], batch_size=2000)
    Lot.objects.bulk_create([
        Lot(account_id=b.account_id, security_id=b.security_id, origin=b, piece=0, quantity=b.quantity,
            cost_basis=(b.quantity * b.price).quantize(CENT), acquired_date=b.trade_date,
            holding_period_start=b.trade_date) for b in buys], batch_size=2000)

    ledger_ids = [h.pk for h in hh[:ledger_households]]
    for n, household_id in enumerate(ledger_ids):
        mine = accounts[n * len(ACCOUNTS):(n + 1) * len(ACCOUNTS)]
        _ledger_history(mine, securities, as_of, n)
        ledger_recompute(household_id=household_id)
    return Seeded(households=households, lots=len(trades), ledger_households=ledger_ids, as_of=as_of)


def _ledger_history(accounts, securities, as_of: date, n: int) -> None:
    """Sales with realized results: a long-term gain, a short-term loss washed by an IRA purchase 10 days
    later (permanently disallowed), and a loss sale last year (another tax year)."""
    taxable, ira = accounts[1], accounts[4]
    start = as_of - timedelta(days=700 + n)

    def trade(account, ticker, day, action, quantity, price, **extra):
        return Transaction.objects.create(account=account, security=securities[ticker], trade_date=day, action=action,
                                          quantity=Decimal(quantity), price=Decimal(price), source_file="drill-ledger",
                                          **extra)

    gain_lot = trade(taxable, "AGG", start, "buy", "40", "90.00")
    trade(taxable, "AGG", as_of - timedelta(days=120), "sell", "15", "97.50", lot_selection="specific",
          specific_lot=gain_lot)
    loss_lot = trade(taxable, "VOO", as_of - timedelta(days=200), "buy", "10", "540.00")
    trade(taxable, "VOO", as_of - timedelta(days=90), "sell", "6", "480.00", lot_selection="specific",
          specific_lot=loss_lot)
    trade(ira, "VOO", as_of - timedelta(days=80), "buy", "4", "485.00")
    old_lot = trade(taxable, "IEMG", date(as_of.year - 2, 3, 1), "buy", "30", "60.00")
    trade(taxable, "IEMG", date(as_of.year - 1, 6, 15), "sell", "30", "52.00", lot_selection="specific",
          specific_lot=old_lot)


# ---- sessions made on the server: what a login past the second factor leaves in the session


def device_for(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Drill authenticator", confirmed=True)


def session_for(user, *, csrf_secret: str) -> str:
    """A saved session of `user`, signed in with a confirmed TOTP device and a fresh password confirmation
    (the approval step-up): the session key for the cookie. Does not go through the login form, which is
    not what the drill tests."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from harvester.approvals import PASSWORD_SESSION_KEY

    backends = settings.AUTHENTICATION_BACKENDS
    backend = "django.contrib.auth.backends.ModelBackend"
    if backend not in backends:
        backend = backends[-1]
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = backend
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device_for(user).persistent_id
    store[PASSWORD_SESSION_KEY] = {"user": user.pk, "at": timezone.now().isoformat()}
    try:  # when the login happened and the session was last seen (accounts/middleware.py's expiry)
        from accounts.middleware import LOGIN_AT, SEEN_AT
    except ImportError:
        pass
    else:
        store[LOGIN_AT] = store[SEEN_AT] = int(time.time())
    if settings.CSRF_USE_SESSIONS:
        store["_csrftoken"] = csrf_secret
    store.save()
    return store.session_key

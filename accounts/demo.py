"""The demo: an advisor with three households, two years of trades and synthetic prices.

Everything is deterministic for a given `today` (seeded random walks in integer cents), and
`demo_seed` is idempotent: a household that already exists is left as it is. Prices are labelled
source="synthetic" so nobody mistakes them for market data.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.mfa import demo_device
from accounts.models import (
    Account,
    Household,
    Membership,
    Owner,
    OwnerTaxProfile,
    TargetAllocation,
    TaxpayerUnit,
)
from harvester.audit import audit_record
from harvester.models import HarvestPolicy
from lots.ledger import ledger_recompute
from lots.models import AssetClass, Price, ScheduledPurchase, Security, Transaction

DEMO_PASSWORD = "harvest-demo"
MAIN = "Morgan household"

# login, first name, last name, role in the main household (None: not a member of it)
DEMO_USERS = [
    ("advisor", "Avery", "Advisor"),
    ("alex", "Alex", "Morgan"),
    ("jordan", "Jordan", "Morgan"),
    ("taylor", "Taylor", "Reed"),
    ("reporter", "Riley", "Reporter"),
    ("chen", "Chris", "Chen"),
    ("patel", "Priya", "Patel"),
]

# Ticker -> (starting close in cents, yearly drift in basis points, daily volatility in basis points,
# drawdown depth in basis points applied around the last few months so some lots sit at a loss).
PRICE_SHAPES = {
    "VTI": (22000, 900, 90, 1400),
    "ITOT": (11000, 900, 90, 1400),
    "SCHB": (5600, 900, 90, 1400),
    "VOO": (44000, 1000, 90, 1300),
    "IVV": (48000, 1000, 90, 1300),
    "VEA": (4900, 300, 100, 1900),
    "IEFA": (7400, 300, 100, 1900),
    "VWO": (4300, 100, 120, 2300),
    "IEMG": (5300, 100, 120, 2300),
    "AGG": (9900, -100, 30, 500),
    "BND": (7300, -100, 30, 500),
    "VXUS": (6000, 300, 100, 1800),
    "IXUS": (6700, 300, 100, 1800),
}


def business_days(start: date, end: date):
    day = start
    while day <= end:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def synthetic_closes(ticker: str, start: date, end: date) -> dict[date, Decimal]:
    """A seeded random walk in integer cents with a drawdown that bottoms ~45 days before `end`."""
    base, drift_bp, vol_bp, dip_bp = PRICE_SHAPES[ticker]
    rng = random.Random(f"harvester-demo-{ticker}")
    days = list(business_days(start, end))
    n = len(days)
    closes = {}
    level = base * 10000  # cents * 1e4, integers only
    for i, day in enumerate(days):
        step = rng.randint(-vol_bp, vol_bp) + drift_bp // 252
        level = level * (10000 + step) // 10000
        # A V-shaped drawdown centred 45 trading-ish days before the end, 120 days wide.
        centre, half = n - 45, 60
        distance = abs(i - centre)
        dip = dip_bp * max(0, half - distance) // half if distance < half else 0
        if i > centre:  # only partial recovery, so recent buys are at a loss too
            dip = max(dip, dip_bp * 2 // 5)
        cents = level * (10000 - dip) // 10000 // 10000
        closes[day] = (Decimal(cents) / 100).quantize(Decimal("0.01"))
    return closes


@dataclass
class Book:
    """Tracks shares while generating trades, so the demo never sells what it does not hold."""

    prices: dict[str, dict[date, Decimal]]
    seq: int = 0
    held: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    pending: list[Transaction] = field(default_factory=list)

    def close(self, ticker: str, day: date) -> Decimal:
        series = self.prices[ticker]
        while day not in series:
            day -= timedelta(days=1)
        return series[day]

    def trade(self, account: Account, security: Security, day: date, action: str, qty: Decimal, **extra):
        while day.weekday() >= 5:
            day += timedelta(days=1)
        key = (account.pk, security.ticker)
        if action == Transaction.Action.SELL:
            qty = min(qty, self.held.get(key, Decimal(0)))
            if qty <= 0:
                return None
            self.held[key] -= qty
        else:
            self.held[key] = self.held.get(key, Decimal(0)) + qty
        self.seq += 1
        txn = Transaction(
            account=account,
            security=security,
            trade_date=day,
            seq=self.seq,
            action=action,
            quantity=qty,
            price=self.close(security.ticker, day),
            fees=extra.pop("fees", Decimal("0")),
            custodian_txn_id=f"DEMO-{account.pk}-{self.seq}",
            # Whole positions are sold, so first-in-first-out names the same shares as specific lots.
            lot_selection=Transaction.LotSelection.FIFO if action == Transaction.Action.SELL else "",
            source_file="seed_demo",
            **extra,
        )
        self.pending.append(txn)
        return txn

    def buy_amount(self, account, security, day, amount: Decimal, action=Transaction.Action.BUY):
        price = self.close(security.ticker, day)
        qty = (amount / price).quantize(Decimal("0.0001"))
        return self.trade(account, security, day, action, qty)

    def sell_all(self, account, security, day):
        return self.trade(account, security, day, Transaction.Action.SELL, self.held.get((account.pk, security.ticker), 0))


def _user(username: str, first: str, last: str):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _prices(tickers, start: date, end: date) -> dict[str, dict[date, Decimal]]:
    result = {}
    for ticker in tickers:
        series = synthetic_closes(ticker, start, end)
        result[ticker] = series
        security = Security.objects.get(ticker=ticker)
        existing = set(Price.objects.filter(security=security).values_list("date", flat=True))
        Price.objects.bulk_create(
            [Price(security=security, date=d, close=c, source="synthetic") for d, c in series.items() if d not in existing]
        )
    return result


def _policy(household, advisor, acknowledged_by):
    """Version 1 of the household policy, acknowledged by every owner (so it is in force)."""
    from harvester.policy import policy_acknowledge

    policy = HarvestPolicy.objects.create(household=household, version=1, created_by=advisor)
    for user in acknowledged_by:
        policy_acknowledge(policy=policy, user=user)


def _profiles(owner, status, income, state_rate, years, outside_long_term="0"):
    for year in years:
        OwnerTaxProfile.objects.create(
            owner=owner,
            year=year,
            filing_status=status,
            ordinary_income=Decimal(income),
            state_rate=Decimal(state_rate),
            outside_long_term_gains=Decimal(outside_long_term),
        )


@transaction.atomic
def demo_seed(*, today: date) -> dict[str, object]:
    """Create the demo (idempotent). Returns the logins and what was created."""
    users = {u: _user(u, f, last) for u, f, last in DEMO_USERS}
    Token.objects.get_or_create(user=users["reporter"])
    demo_device(users["advisor"])  # advisors must use a second factor; `manage.py totp_code advisor` (DEBUG)
    start = today - timedelta(days=730)
    prices = _prices(PRICE_SHAPES.keys(), start - timedelta(days=10), today)
    sec = {s.ticker: s for s in Security.objects.filter(ticker__in=PRICE_SHAPES.keys())}
    created = []
    if not Household.objects.filter(name=MAIN).exists():
        _seed_main(users, sec, prices, start, today)
        created.append(MAIN)
    for name, login, tickers in [("Chen household", "chen", ("VTI", "VEA", "AGG")), ("Patel household", "patel", ("VOO", "VWO", "BND"))]:
        if not Household.objects.filter(name=name).exists():
            _seed_small(name, users[login], users["advisor"], sec, prices, start, today, tickers)
            created.append(name)
    for household in Household.objects.filter(name__in=created):
        ledger_recompute(household_id=household.pk)
    return {"created": created, "password": DEMO_PASSWORD, "token": Token.objects.get(user=users["reporter"]).key}


def _seed_main(users, sec, prices, start: date, today: date) -> None:
    advisor = users["advisor"]
    hh = Household.objects.create(name=MAIN)
    for login, role in [("advisor", "advisor"), ("alex", "member"), ("jordan", "member"), ("taylor", "trustee"), ("reporter", "reporter")]:
        Membership.objects.create(household=hh, user=users[login], role=role)
    family = TaxpayerUnit.objects.create(household=hh, name="Alex & Jordan Morgan (married filing jointly)")
    trust_unit = TaxpayerUnit.objects.create(household=hh, name="Morgan Family Trust (separate taxpayer)")
    alex = Owner.objects.create(household=hh, name="Alex Morgan", taxpayer_unit=family, user=users["alex"])
    jordan = Owner.objects.create(household=hh, name="Jordan Morgan", taxpayer_unit=family, user=users["jordan"])
    trust = Owner.objects.create(
        household=hh, name="Morgan Family Trust", kind=Owner.Kind.NON_GRANTOR_TRUST, taxpayer_unit=trust_unit
    )
    trust.trustees.set([users["taylor"], users["alex"]])
    years = (today.year - 1, today.year)
    # A business sale this year: long-term gains from outside Harvester that harvested losses can offset.
    _profiles(alex, "mfj", "310000", "5.0000", years, outside_long_term="40000")
    _profiles(jordan, "mfj", "310000", "5.0000", years, outside_long_term="40000")
    _profiles(trust, "trust", "18000", "5.0000", years)

    def account(name, kind, owners, custodian, number, method=Account.LotMethod.FIFO):
        a = Account.objects.create(
            household=hh, name=name, kind=kind, custodian=custodian, number_masked=number, lot_method=method
        )
        a.owners.set(owners)
        return a

    a_ind = account("Alex individual", "individual", [alex], "Schwab", "****4821", Account.LotMethod.SPECIFIC)
    a_ira = account("Alex IRA", "ira", [alex], "Schwab", "****7730")
    j_ind = account("Jordan individual", "individual", [jordan], "Fidelity", "****1195", Account.LotMethod.SPECIFIC)
    j_ira = account("Jordan IRA", "ira", [jordan], "Fidelity", "****6602")
    joint = account("Alex & Jordan joint", "joint", [alex, jordan], "Vanguard", "****3307")
    t_acc = account("Morgan Family Trust", "trust", [trust], "Schwab", "****9154")

    for code, weight in [("us_total_market", "45"), ("intl_developed", "25"), ("emerging", "10"), ("us_bonds", "20")]:
        TargetAllocation.objects.create(household=hh, asset_class=AssetClass.objects.get(code=code), weight_percent=Decimal(weight))
    _policy(hh, advisor, [users["alex"], users["jordan"]])  # Alex also acts for the trust

    book = Book(prices)
    month_starts = []
    d = date(start.year, start.month, 1)
    while d <= today - timedelta(days=3):
        if d >= start:
            month_starts.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)

    # Events run in date order, so a sale only ever sells what is held on its date.
    events: list[tuple[date, int, object]] = []

    def on(day, fn):
        events.append((day, len(events), fn))

    # Monthly contributions in every taxable account, and IRA purchases; quarterly DRIP of VTI in Alex's IRA.
    for i, m in enumerate(month_starts):
        on(m + timedelta(days=2), lambda m=m: book.buy_amount(a_ind, sec["VTI"], m + timedelta(days=2), Decimal("1500")))
        on(m + timedelta(days=2), lambda m=m: book.buy_amount(a_ind, sec["VEA"], m + timedelta(days=2), Decimal("700")))
        on(m + timedelta(days=3), lambda m=m: book.buy_amount(j_ind, sec["VEA"], m + timedelta(days=3), Decimal("800")))
        on(m + timedelta(days=3), lambda m=m: book.buy_amount(j_ind, sec["VWO"], m + timedelta(days=3), Decimal("400")))
        if m + timedelta(days=4) < today - timedelta(days=45):  # the joint VTI plan stopped six weeks ago
            on(m + timedelta(days=4), lambda m=m: book.buy_amount(joint, sec["VTI"], m + timedelta(days=4), Decimal("1000")))
        on(m + timedelta(days=4), lambda m=m: book.buy_amount(joint, sec["AGG"], m + timedelta(days=4), Decimal("600")))
        if i % 3 == 0:
            on(m + timedelta(days=5), lambda m=m: book.buy_amount(t_acc, sec["VTI"], m + timedelta(days=5), Decimal("4000")))
            on(m + timedelta(days=5), lambda m=m: book.buy_amount(t_acc, sec["VWO"], m + timedelta(days=5), Decimal("1500")))
            on(m + timedelta(days=6), lambda m=m: book.buy_amount(a_ira, sec["VTI"], m + timedelta(days=6), Decimal("1500")))
            on(m + timedelta(days=6), lambda m=m: book.buy_amount(j_ira, sec["AGG"], m + timedelta(days=6), Decimal("1500")))
            on(m + timedelta(days=24), lambda m=m: book.buy_amount(
                a_ira, sec["VTI"], m + timedelta(days=24), Decimal("85"), action=Transaction.Action.REINVEST))

    # Realized gains: the trust trims VTI after a year; the joint account rebalances some AGG.
    on(start + timedelta(days=400), lambda: book.trade(t_acc, sec["VTI"], start + timedelta(days=400), "sell", Decimal("10")))
    on(start + timedelta(days=380), lambda: book.trade(joint, sec["AGG"], start + timedelta(days=380), "sell", Decimal("20")))

    def harvest(account, security, replacement, day):
        """Sell every share of `security` in `account` and buy the same dollars of `replacement`."""
        sold = book.sell_all(account, security, day)
        if sold is not None:
            book.buy_amount(account, replacement, day, sold.quantity * sold.price)

    # A clean harvest: the trust (a separate taxpayer) sells VWO near the bottom and buys IEMG.
    on(today - timedelta(days=60), lambda: harvest(t_acc, sec["VWO"], sec["IEMG"], today - timedelta(days=60)))
    # A cross-account wash sale the 1099-B misses: Alex harvests VEA into IEFA, and Jordan's monthly VEA
    # contribution (same taxpayer unit) lands within 30 days in another account.
    on(today - timedelta(days=75), lambda: harvest(a_ind, sec["VEA"], sec["IEFA"], today - timedelta(days=75)))
    # Jordan harvests VWO into IEMG, then Jordan's IRA buys VWO ten days later: that part is lost for good.
    on(today - timedelta(days=50), lambda: harvest(j_ind, sec["VWO"], sec["IEMG"], today - timedelta(days=50)))
    on(today - timedelta(days=40), lambda: book.buy_amount(j_ira, sec["VWO"], today - timedelta(days=40), Decimal("2000")))
    for _, _, fn in sorted(events, key=lambda e: (e[0], e[1])):
        fn()
    Transaction.objects.bulk_create(book.pending)

    ScheduledPurchase.objects.bulk_create(
        [
            ScheduledPurchase(account=a_ind, security=sec["VTI"], kind="contribution", frequency="monthly", amount=Decimal("1500"), start_date=start),
            ScheduledPurchase(account=j_ind, security=sec["VEA"], kind="contribution", frequency="monthly", amount=Decimal("800"), start_date=start),
            ScheduledPurchase(account=joint, security=sec["VTI"], kind="contribution", frequency="monthly", amount=Decimal("1000"), start_date=start, end_date=today - timedelta(days=45)),
            ScheduledPurchase(account=a_ira, security=sec["VTI"], kind="drip", frequency="quarterly", start_date=start),
        ]
    )
    audit_record(action="demo.seed", actor=advisor, household=hh, obj=hh, summary=f"Demo household created with {len(book.pending)} trades")


def _seed_small(name, member, advisor, sec, prices, start, today, tickers) -> None:
    hh = Household.objects.create(name=name)
    Membership.objects.create(household=hh, user=member, role="member")
    Membership.objects.create(household=hh, user=advisor, role="advisor")
    unit = TaxpayerUnit.objects.create(household=hh, name=f"{member.get_full_name()}")
    owner = Owner.objects.create(household=hh, name=member.get_full_name(), taxpayer_unit=unit, user=member)
    _profiles(owner, "single", "145000", "4.0000", (today.year - 1, today.year))
    acc = Account.objects.create(household=hh, name=f"{member.first_name} individual", kind="individual", custodian="Schwab", number_masked="****2040")
    acc.owners.set([owner])
    _policy(hh, advisor, [member])
    book = Book(prices)
    d = start
    while d <= today - timedelta(days=3):
        for ticker, amount in zip(tickers, ("900", "500", "300"), strict=True):
            book.buy_amount(acc, sec[ticker], d, Decimal(amount))
        d += timedelta(days=45)
    Transaction.objects.bulk_create(book.pending)
    audit_record(action="demo.seed", actor=advisor, household=hh, obj=hh, summary=f"Demo household created with {len(book.pending)} trades")

"""python manage.py load_seed --users 200 --out load.json: the data and the logins of the load test.

scripts/load runs it on a throwaway PostgreSQL database, then points locust (loadtest/locustfile.py) at
the JSON file it writes. It makes, for `--users` simulated users split as loadtest/spec.py says:

- the reporting bench's big household (harvester/management/commands/bench_reporting.py `generate`:
  ten years of history, 50,000 disposals by default, 3,000 open lots) for the API and the dashboard;
- one household per owner login: one taxable account holding `--proposals` lots bought 6 to 40 weeks ago
  above today's close, and one proposal awaiting the owner's approval per lot, made as a scan leaves them
  (tests/approvals/factories.py does the same), under a policy the owner acknowledged. Each passes the
  re-check an approval runs, so approving is the real work: lock, re-check (a scan of the household),
  approval row, audit event, notifications and their emails through the Celery worker;
- `--book` small households with two years of trades (buys and a few sales, run through the ledger) that
  every advisor advises, besides the big household and their share of the owners' households;
- a read-only reporter login with an API token per reporting client, a member of the big household.

Logins are not made through the login form (advisors must pass TOTP, the form is not what is measured):
each login runs Django's and django-otp's login functions on a request made here, with a confirmed TOTP
device, so the session holds what the login and code pages leave in it, and, for owners, the password
confirmation approving asks for every 10 minutes. The JSON holds the session keys, a CSRF secret
per session (sent as the CSRF cookie), the password (for an approval after that confirmation has lapsed),
the tokens and the ids the scenarios use. It is a credential file for a throwaway database only.
"""

import json
import math
import random
import secrets
import time
from datetime import date, timedelta
from decimal import Decimal
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count
from django.test import RequestFactory
from django.utils import timezone
from django.utils.crypto import get_random_string
from rest_framework.authtoken.models import Token

from accounts.models import Account, Household, Membership, Owner, OwnerTaxProfile, TaxpayerUnit
from harvester.approvals import PASSWORD_SESSION_KEY
from harvester.management.commands import bench_reporting as bench
from harvester.models import HarvestPolicy, HarvestProposal, Notification, PolicyAcknowledgment
from harvester.money import to_cents
from loadtest.spec import split
from lots.ledger import ledger_recompute
from lots.models import Disposal, Lot, Price, Security, Transaction

PREFIX = "load-"
# Sell -> replacement, as the scan chains them (different indexes in one asset class).
PAIRS = (("VTI", "ITOT"), ("VEA", "IEFA"))
BOOK_TICKERS = ("VTI", "VEA", "SCHB", "IEFA")
LOT_SHARES = Decimal("100")
ABOVE_CLOSE = Decimal("1.25")  # what the owners paid, against today's close: a 20% loss per lot
CSRF_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"  # django.middleware.csrf


def weekday_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


class Command(BaseCommand):
    help = "Seed a throwaway database for the load test (scripts/load) and write its logins to a JSON file."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=200, help="simulated users the logins are for")
        parser.add_argument("--out", required=True, help="the JSON file to write (sessions, tokens, ids)")
        parser.add_argument("--proposals", type=int, default=30, help="open proposals per owner")
        parser.add_argument("--book", type=int, default=30, help="small households every advisor advises")
        parser.add_argument("--disposals", type=int, default=50_000, help="the big household's disposals")
        parser.add_argument("--years", type=int, default=10)
        parser.add_argument("--open-lots", type=int, default=3_000)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **o):
        if connection.vendor != "postgresql":
            raise CommandError("load_seed needs PostgreSQL: set DATABASE_URL to a throwaway database.")
        User = get_user_model()
        if User.objects.filter(username__startswith=PREFIX).exists():
            raise CommandError("This database is already seeded for a load test: use a fresh one (scripts/load does).")
        rng = random.Random(o["seed"])
        counts = split(o["users"])
        started = time.perf_counter()

        big = Household.objects.filter(name=bench.NAME).first()
        if big is None:
            big = bench.generate(random.Random(o["seed"]), o["disposals"], o["years"], o["open_lots"])
        self.say(f"big household {big.pk} ready ({time.perf_counter() - started:.0f} s)")

        password = secrets.token_urlsafe(12)
        hashed = make_password(password)  # one slow hash for every login, not one each
        users = {
            kind: User.objects.bulk_create(
                [User(username=f"{PREFIX}{kind}-{i:03d}", first_name=kind.title(), last_name=f"{i:03d}",
                      email=f"{PREFIX}{kind}-{i:03d}@example.com", password=hashed) for i in range(1, n + 1)]
            )
            for kind, n in counts.items()
        }
        owners, advisors, reporters = users["owner"], users["advisor"], users["reporting"]

        owner_households = []
        for i, user in enumerate(owners):
            owner_households.append(self.owner_household(user, advisors[i % len(advisors)], o["proposals"]))
        self.say(f"{len(owners)} owner households, {o['proposals']} open proposals each "
                 f"({time.perf_counter() - started:.0f} s)")
        book = [self.book_household(i, rng) for i in range(1, o["book"] + 1)]
        self.say(f"{len(book)} book households ({time.perf_counter() - started:.0f} s)")
        Membership.objects.bulk_create(
            [Membership(household=h, user=a, role="advisor") for a in advisors for h in (big, *book)]
            + [Membership(household=big, user=r, role="reporter") for r in reporters]
        )
        tokens = Token.objects.bulk_create([Token(user=r, key=Token.generate_key()) for r in reporters])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        # Sessions last: the owners' password confirmation is good for 10 minutes from here.
        out = {
            "created": timezone.now().isoformat(),
            "cookies": {"session": settings.SESSION_COOKIE_NAME, "csrf": settings.CSRF_COOKIE_NAME},
            "password": password,
            "owners": [
                {"username": u.username, "household": h.pk, **self.browser_session(u, password_confirmed=True)}
                for u, h in zip(owners, owner_households, strict=True)
            ],
            "advisors": [
                {
                    "username": a.username,
                    "households": [h.pk for h in (big, *book)] + [h.pk for h in owner_households[i :: len(advisors)]],
                    "owner_households": [h.pk for h in owner_households[i :: len(advisors)]],
                    **self.browser_session(a),
                }
                for i, a in enumerate(advisors)
            ],
            "reporters": [{"username": t.user.username, "token": t.key} for t in tokens],
            "big": self.big_ids(big),
        }
        path = Path(o["out"])
        path.write_text(json.dumps(out, indent=1))
        path.chmod(0o600)
        self.say(f"seeded for {o['users']} users ({', '.join(f'{n} {k}' for k, n in counts.items())}) in "
                 f"{time.perf_counter() - started:.0f} s: {path}")

    # ---- households

    @transaction.atomic
    def owner_household(self, user, advisor, n_proposals: int) -> Household:
        """One owner, one taxable account, `n_proposals` lots at a loss and a proposal awaiting approval on each."""
        today = timezone.localdate()
        household = Household.objects.create(name=f"Load household {user.last_name}")
        Membership.objects.bulk_create(
            [Membership(household=household, user=user, role="member"),
             Membership(household=household, user=advisor, role="advisor")]
        )
        unit = TaxpayerUnit.objects.create(household=household, name=f"Owner {user.last_name}")
        owner = Owner.objects.create(household=household, name=f"Owner {user.last_name}", taxpayer_unit=unit, user=user)
        account = Account.objects.create(household=household, name=f"Owner {user.last_name} individual",
                                         kind="individual", custodian="Load", number_masked="****0000")
        account.owners.set([owner])
        OwnerTaxProfile.objects.bulk_create(
            [OwnerTaxProfile(owner=owner, year=y, filing_status="single", ordinary_income=Decimal("150000"),
                             state_rate=Decimal("5")) for y in (today.year - 1, today.year)]
        )
        policy = HarvestPolicy.objects.create(household=household, version=1, created_by=advisor)
        PolicyAcknowledgment.objects.create(policy=policy, owner=owner, user=user)
        closes = self.latest_closes()
        securities = {s.ticker: s for s in Security.objects.filter(ticker__in=[t for pair in PAIRS for t in pair])}
        buys = []
        for k in range(n_proposals):
            sell, _ = PAIRS[k % len(PAIRS)]
            day = weekday_before(today - timedelta(days=45 + 7 * k))
            buys.append(Transaction(account=account, security=securities[sell], trade_date=day, action="buy",
                                    quantity=LOT_SHARES, price=to_cents(closes[sell][1] * ABOVE_CLOSE),
                                    source_file="load_seed"))
        Transaction.objects.bulk_create(buys)
        ledger_recompute(household_id=household.pk)
        lots = {lot.origin_id: lot for lot in Lot.objects.filter(account=account)}
        expires = timezone.now() + timedelta(days=policy.proposal_expiry_days)
        proposals = []
        for k, trade in enumerate(buys):
            sell, buy = PAIRS[k % len(PAIRS)]
            lot = lots[trade.pk]
            price_date, price = closes[sell]
            proceeds = to_cents(lot.quantity * price)
            loss = lot.cost_basis - proceeds
            proposals.append(HarvestProposal(
                household=household, account=account, policy=policy, status="awaiting_approval",
                fingerprint=f"{account.pk}:{sell}:{trade.pk}:{buy}",
                sell_security=securities[sell], buy_security=securities[buy],
                lots=[{"lot": lot.pk, "origin": str(trade.pk), "quantity": str(lot.quantity),
                       "basis": str(lot.cost_basis), "price": str(price), "acquired": trade.trade_date.isoformat(),
                       "term": "short"}],
                sell_quantity=lot.quantity, price=price, price_date=price_date, proceeds=proceeds,
                cost_basis=lot.cost_basis, loss_short_term=loss, tax_value=to_cents(loss * Decimal("0.30")),
                trading_cost=Decimal("3.00"), buy_amount=proceeds,
                checks=[{"name": "no_recent_purchase", "title": f"No purchase of {sell}'s index in the last 30 days",
                         "passed": True, "detail": "None anywhere in the household."}],
                required_actions=[],
                explanation={"why_lots": f"These {sell} shares are worth less than they cost.",
                             "why_account": f"{account.name} is taxable.",
                             "why_replacement": f"{buy} tracks a different index in the same asset class."},
                expires_at=expires,
            ))
        HarvestProposal.objects.bulk_create(proposals)
        now = timezone.now()
        Notification.objects.bulk_create(
            [Notification(user=user, household=household, proposal=p, kind="awaiting_approval",
                          subject=f"Approval needed: harvest {p.sell_security.ticker} in {account.name}",
                          body="A tax-loss harvest waits for your decision.", url=f"/proposals/{p.pk}/", emailed_at=now)
             for p in proposals]
        )
        return household

    @transaction.atomic
    def book_household(self, i: int, rng: random.Random) -> Household:
        """A small household of the advisors' book: two years of buys every six weeks, a few sales."""
        today = timezone.localdate()
        household = Household.objects.create(name=f"Load book household {i:03d}")
        unit = TaxpayerUnit.objects.create(household=household, name=f"Book {i:03d}")
        owner = Owner.objects.create(household=household, name=f"Book owner {i:03d}", taxpayer_unit=unit)
        account = Account.objects.create(household=household, name=f"Book {i:03d} individual", kind="individual",
                                         custodian="Load", number_masked="****0001")
        account.owners.set([owner])
        OwnerTaxProfile.objects.create(owner=owner, year=today.year, filing_status="single",
                                       ordinary_income=Decimal("120000"), state_rate=Decimal("4"))
        securities = {s.ticker: s for s in Security.objects.filter(ticker__in=BOOK_TICKERS)}
        prices = {t: dict(Price.objects.filter(security=securities[t], date__gte=today - timedelta(days=740))
                          .values_list("date", "close")) for t in BOOK_TICKERS}
        trades, seq = [], 0
        for week in range(104, 0, -6):
            day = weekday_before(today - timedelta(weeks=week))
            for ticker in BOOK_TICKERS:
                if day in prices[ticker]:
                    seq += 1
                    trades.append(Transaction(account=account, security=securities[ticker], trade_date=day, seq=seq,
                                              action="buy", quantity=Decimal(rng.randrange(5, 50)),
                                              price=prices[ticker][day], source_file="load_seed"))
        sale_day = weekday_before(today - timedelta(weeks=20))
        for ticker in BOOK_TICKERS[:2]:  # FIFO sales of a few early shares: some realized history
            if sale_day in prices[ticker]:
                seq += 1
                trades.append(Transaction(account=account, security=securities[ticker], trade_date=sale_day, seq=seq,
                                          action="sell", quantity=Decimal("4"), price=prices[ticker][sale_day],
                                          lot_selection="fifo", source_file="load_seed"))
        Transaction.objects.bulk_create(trades)
        ledger_recompute(household_id=household.pk)
        return household

    def latest_closes(self) -> dict[str, tuple[date, Decimal]]:
        if not hasattr(self, "_closes"):
            self._closes = {}
            for ticker in {t for pair in PAIRS for t in pair}:
                row = Price.objects.filter(security__ticker=ticker).order_by("-date").values_list("date", "close").first()
                if row is None:
                    raise CommandError(f"no close for {ticker}: the big household's generator writes them")
                self._closes[ticker] = row
        return self._closes

    def big_ids(self, big: Household) -> dict:
        """What the dashboard and API scenarios of the big household need: years, accounts, owner groups."""
        years = sorted(set(Disposal.objects.filter(account__household=big).values_list("tax_year", flat=True)))
        accounts = []
        for account in Account.objects.filter(household=big).prefetch_related("owners").order_by("pk"):
            if not account.is_taxable:
                continue
            sales = dict(
                Transaction.objects.filter(account=account, action="sell", trade_date__year__in=years)
                .values_list("trade_date__year").annotate(n=Count("id"))
            )
            accounts.append({
                "id": account.pk,
                "group": "-".join(str(pk) for pk in sorted(o.pk for o in account.owners.all())),
                "sales_pages": {str(y): max(1, math.ceil(sales.get(y, 0) / 50)) for y in years},
            })
        return {
            "household": big.pk,
            "years": years,
            "accounts": accounts,
            "open_lots": Lot.objects.filter(account__household=big).count(),
            "disposals_by_year": {
                str(y): n for y, n in Disposal.objects.filter(account__household=big).values_list("tax_year")
                .annotate(n=Count("id"))
            },
        }

    # ---- sessions

    def browser_session(self, user, *, password_confirmed: bool = False) -> dict:
        """Log `user` in as the login and code pages do, without their forms: django.contrib.auth's login()
        (its receivers run: last login, audit, lockout bookkeeping, session stamps) and django-otp's, with a
        confirmed TOTP device, on a request from 127.0.0.1. Returns the session key and a CSRF secret."""
        from django_otp import login as otp_login
        from django_otp.plugins.otp_totp.models import TOTPDevice

        backend = "django.contrib.auth.backends.ModelBackend"
        if backend not in settings.AUTHENTICATION_BACKENDS:
            backend = settings.AUTHENTICATION_BACKENDS[-1]
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        request = RequestFactory().post("/login/", HTTP_USER_AGENT="load_seed")
        request.session = import_module(settings.SESSION_ENGINE).SessionStore()
        request.user = AnonymousUser()
        login(request, user, backend=backend)
        otp_login(request, device)
        request.session.cycle_key()  # as accounts.mfa.session_verify: a new key once verified
        if password_confirmed:
            request.session[PASSWORD_SESSION_KEY] = {"user": user.pk, "at": timezone.now().isoformat()}
        request.session.save()
        return {"session": request.session.session_key, "csrf": get_random_string(32, CSRF_CHARS)}

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

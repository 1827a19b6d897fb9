"""Two households with something behind every kind of id, and the callers of the access matrix.

Household A is the Morgans of tests/conftest.py (advisor, spouses Alex and Jordan, trustee Taylor of
the trust, a read-only reporter). Household B is the Chens, with a member and an advisor of their own
(an advisor of another firm, as far as the Morgans are concerned). Each household has a policy, an
open proposal, an approved one, a scan, an import preview and a scheduled purchase, so every URL
can be filled with real ids of either household.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone

FIXTURES = Path(__file__).parent.parent / "importers" / "fixtures"


def generic_csv(name: str = "trades.csv") -> SimpleUploadedFile:
    """A custodian export in the generic format (a fresh file object: an upload is read once)."""
    return SimpleUploadedFile(name, (FIXTURES / "generic_trades.csv").read_bytes(), content_type="text/csv")


def prices_csv() -> SimpleUploadedFile:
    return SimpleUploadedFile("prices.csv", (FIXTURES / "prices.csv").read_bytes(), content_type="text/csv")


def broker_report() -> SimpleUploadedFile:
    name = "Individual_GainLoss_Realized_Details_20260102-200338.csv"
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes(), content_type="text/csv")


@dataclass
class Objects:
    """One household's ids: what the URL patterns take."""

    household: object
    account: object
    proposal: object  # awaiting approval, on an account only one person owns
    approved: object  # approved by its owner, ready to execute
    scan: object
    batch: object  # an import preview (not committed)
    purchase: object  # a scheduled purchase
    policy: object  # the newest policy version
    calendar_key: str  # a live calendar address secret of one of its members

    def ids(self) -> dict:
        return {
            "household_id": self.household.pk,
            "account_id": self.account.pk,
            "proposal_id": self.proposal.pk,
            "scan_id": self.scan.pk,
            "batch_id": self.batch.pk,
            "purchase_id": self.purchase.pk,
            "token": self.calendar_key,
        }


class TwoHouseholds:
    """The Morgans (A) and the Chens (B), built on tests.conftest.World."""

    def __init__(self, django_user_model):
        from accounts.models import Membership
        from tests.conftest import World

        self.world = w = World(django_user_model)
        self.advisor_b = django_user_model.objects.create_user("advisor_b", "advisor_b@example.com", "pw-advisor_b")
        Membership.objects.create(household=w.other_household, user=self.advisor_b, role="advisor")
        self.a = self._morgans()
        self.b = self._chens()

    # ---- household A

    def _morgans(self) -> Objects:
        from harvester.models import HarvestScan
        from lots.models import ScheduledPurchase, Security
        from reporting.services import calendar_token_create
        from tests.approvals.factories import acknowledged_policy, make_proposal

        w = self.world
        acknowledged_policy(w)  # version 1, in force
        self.policy_a = acknowledged_policy(w, acknowledged=False)  # version 2, waiting for the owners
        # Proposals are made under version 1 (both joint owners, all trustees, no advisor discretion).
        in_force = w.household.policies.get(version=1)
        proposal = make_proposal(w, w.alex_ind, policy=in_force)
        approved = make_proposal(w, w.jordan_ind, ticker="VEA", buy="IEFA", lots=(("100", "60"),), price="45",
                                 status="approved", policy=in_force)
        # On the trust's account: its trustee decides, nobody else.
        self.trust_proposal = make_proposal(w, w.trust, ticker="VWO", buy="IEMG", lots=(("100", "60"),), price="45",
                                            policy=in_force)
        today = timezone.localdate()
        scan = HarvestScan.objects.create(household=w.household, started_by=w.advisor, as_of=today, status="done")
        purchase = ScheduledPurchase.objects.create(
            account=w.jordan_ind, security=Security.objects.get(ticker="BND"), kind="contribution",
            frequency="monthly", amount=Decimal("500"), start_date=today + timedelta(days=3),
        )
        batch = self._preview(w.alex_ind, w.advisor)
        key = calendar_token_create(user=w.alex)
        return Objects(w.household, w.alex_ind, proposal, approved, scan, batch, purchase, self.policy_a, key)

    # ---- household B

    def _chens(self) -> Objects:
        from harvester.models import HarvestPolicy, HarvestProposal, HarvestScan, PolicyAcknowledgment
        from lots.models import ScheduledPurchase, Security
        from reporting.services import calendar_token_create

        w = self.world
        hh, account = w.other_household, w.chen_account
        owner = hh.owners.get()
        policy = HarvestPolicy.objects.create(household=hh, version=1, created_by=self.advisor_b)
        PolicyAcknowledgment.objects.create(policy=policy, owner=owner, user=w.chen)
        self.policy_b = policy
        today = timezone.localdate()
        vti, itot = Security.objects.get(ticker="VTI"), Security.objects.get(ticker="ITOT")

        def proposal(status):
            return HarvestProposal.objects.create(
                household=hh, account=account, policy=policy, status=status, fingerprint=f"chen-{status}",
                sell_security=vti, buy_security=itot, lots=[], sell_quantity=Decimal("10"), price=Decimal("180"),
                price_date=today, proceeds=Decimal("1800"), cost_basis=Decimal("2000"), buy_amount=Decimal("1800"),
                expires_at=timezone.now() + timedelta(days=5),
            )

        scan = HarvestScan.objects.create(household=hh, started_by=self.advisor_b, as_of=today, status="done")
        purchase = ScheduledPurchase.objects.create(
            account=account, security=vti, kind="contribution", frequency="monthly", amount=Decimal("100"),
            start_date=today + timedelta(days=3),
        )
        batch = self._preview(account, self.advisor_b)
        key = calendar_token_create(user=w.chen)
        return Objects(hh, account, proposal("awaiting_approval"), proposal("approved"), scan, batch, purchase, policy,
                       key)

    @staticmethod
    def _preview(account, actor):
        from lots import imports
        from lots.imports import ImportOptions

        text = (FIXTURES / "generic_trades.csv").read_text(encoding="utf-8")
        return imports.import_preview(account=account, text=text, file_name="trades.csv", actor=actor,
                                      options=ImportOptions(format="auto", source_account="", as_of=None))


class Site(TwoHouseholds):
    """Both households, a session per caller, built once per test module (the `site` fixture).

    Callers: anon, member (Alex), trustee (Taylor), reporter (A's read-only reporter, in the browser), advisor
    (A's), member_b (Chen), advisor_b (B's only), token (the same reporter through the API token)."""

    def __init__(self, django_user_model):
        from rest_framework.authtoken.models import Token

        from lots.models import Security
        from tests.signin import sign_in

        super().__init__(django_user_model)
        w = self.world
        self.users = {"anon": None, "member": w.alex, "trustee": w.taylor, "reporter": w.reporter, "advisor": w.advisor,
                      "member_b": w.chen, "advisor_b": self.advisor_b, "token": w.reporter}
        self.sessions = {}
        for actor, user in {**self.users, "spouse": w.jordan}.items():
            if user is not None and actor != "token":
                client = sign_in(Client(), user)
                self.sessions[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.users["spouse"] = w.jordan
        self.token_key = Token.objects.create(user=w.reporter).key
        self.vti = Security.objects.get(ticker="VTI")
        self.baseline = None  # fingerprint() of what is built here, taken at the first request

    def client(self, actor: str) -> Client:
        """A fresh client per request: a logout or a rotated session cannot leak into the next caller."""
        if actor == "token":
            return Client(HTTP_AUTHORIZATION=f"Token {self.token_key}")
        client = Client()
        if actor in self.sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[actor]
        return client


def site_for_module(django_db_blocker):
    """The body of a module-scoped `site` fixture: the Site, built inside a transaction the module's tests run in
    (each test in a savepoint of it) and rolled back at the end, so nothing of it reaches other modules."""
    from django.contrib.auth import get_user_model

    from lots.models import Security
    from lots.reference import load_universe

    with django_db_blocker.unblock(), transaction.atomic():
        if not Security.objects.exists():
            load_universe()
        yield Site(get_user_model())
        transaction.set_rollback(True)

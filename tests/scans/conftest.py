"""The Morgans with losses to harvest: Alex's long-held VTI and Jordan's recent VEA are down, the policy is
acknowledged by every owner, the spouses file jointly with gains realized elsewhere this year."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

SCAN_DATE = date(2026, 12, 10)  # a Thursday; the closes below are from the day before


def last_close_before(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


class Harvest:
    def __init__(self, world, scan_date: date = SCAN_DATE):
        from accounts.models import OwnerTaxProfile
        from harvester.models import HarvestPolicy, PolicyAcknowledgment

        self.world = w = world
        self.scan_date = scan_date
        self.close_date = last_close_before(scan_date).isoformat()
        self.household = w.household
        self.policy = HarvestPolicy.objects.create(household=w.household, version=1, created_by=w.advisor)
        for owner, user in [(w.alex_owner, w.alex), (w.jordan_owner, w.jordan), (w.trust_owner, w.taylor)]:
            PolicyAcknowledgment.objects.create(policy=self.policy, owner=owner, user=user)
        for owner, status, income in [(w.alex_owner, "mfj", "250000"), (w.jordan_owner, "mfj", "250000"),
                                      (w.trust_owner, "trust", "20000")]:
            OwnerTaxProfile.objects.create(
                owner=owner, year=scan_date.year, filing_status=status, ordinary_income=Decimal(income),
                state_rate=Decimal("5"), outside_long_term_gains=Decimal("30000"),
            )
        # Alex's VTI is long-term (-5,000 at 200), Jordan's VEA short-term (-2,000 at 50).
        self.vti = w.trade(w.alex_ind, "VTI", scan_date - timedelta(days=645), "buy", "100", "250")
        self.vea = w.trade(w.jordan_ind, "VEA", scan_date - timedelta(days=192), "buy", "200", "60")
        self.prices({"VTI": "200", "VEA": "50", "ITOT": "100", "IEFA": "70"})
        self.recompute()

    def prices(self, closes: dict[str, str], day: str | None = None) -> None:
        from lots.models import Price, Security

        day = day or self.close_date
        for ticker, close in closes.items():
            Price.objects.update_or_create(
                security=Security.objects.get(ticker=ticker), date=date.fromisoformat(day),
                defaults={"close": Decimal(close)},
            )

    def recompute(self) -> None:
        from lots.ledger import ledger_recompute

        ledger_recompute(household_id=self.household.pk)

    def scan(self, user=None):
        """A "Scan now" run in this process (the worker's part called directly)."""
        from harvester import scanning

        scan = scanning.scan_start(household=self.household, user=user or self.world.advisor, as_of=self.scan_date)
        scanning.scan_run(scan_id=scan.pk)
        scan.refresh_from_db()
        return scan

    def open_proposals(self):
        from harvester.models import OPEN_PROPOSAL_STATES, HarvestProposal

        return HarvestProposal.objects.filter(household=self.household, status__in=OPEN_PROPOSAL_STATES).order_by(
            "sell_security__ticker"
        )


@pytest.fixture
def harvest(world):
    return Harvest(world)

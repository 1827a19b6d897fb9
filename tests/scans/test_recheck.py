"""proposal_recheck: the approvals flow asks, at each approval and at execution, whether a proposal still
holds; the same pure core answers, narrowed to the proposal's lots and replacement."""

from datetime import timedelta

import pytest

from harvester.scanning import proposal_recheck
from tests.scans.conftest import SCAN_DATE

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposals(harvest):
    harvest.scan()
    return {p.sell_security.ticker: p for p in harvest.open_proposals()}


def test_it_holds_right_after_the_scan_and_a_day_later(harvest, proposals):
    assert proposal_recheck(proposals["VTI"], as_of=SCAN_DATE) is None
    harvest.prices({"VTI": "199", "VEA": "49"}, day="2026-12-10")
    assert proposal_recheck(proposals["VEA"], as_of=SCAN_DATE + timedelta(days=1)) is None


def test_it_fails_when_the_price_recovered(harvest, proposals):
    harvest.prices({"VEA": "59.50"}, day="2026-12-10")
    reason = proposal_recheck(proposals["VEA"], as_of=SCAN_DATE + timedelta(days=1))
    assert reason.startswith("the loss lots of VEA are down $100.00")


def test_it_fails_when_a_lot_went_back_above_its_cost(harvest, proposals):
    harvest.prices({"VEA": "61"}, day="2026-12-10")
    reason = proposal_recheck(proposals["VEA"], as_of=SCAN_DATE + timedelta(days=1))
    assert reason == "no lot of VEA in this account is at a loss any more"


def test_it_fails_when_the_spouses_ira_reinvested_since(harvest, proposals):
    w = harvest.world
    w.trade(w.alex_ira, "VEA", SCAN_DATE, "reinvest", "2", "50")
    harvest.recompute()
    reason = proposal_recheck(proposals["VEA"], as_of=SCAN_DATE)
    assert "Alex IRA bought 2" in reason and "washes the loss" in reason


def test_it_fails_when_a_new_scheduled_purchase_needs_pausing(harvest, proposals):
    from lots.models import ScheduledPurchase, Security

    w = harvest.world
    ScheduledPurchase.objects.create(account=w.joint, security=Security.objects.get(ticker="VTI"),
                                     kind="contribution", frequency="monthly", amount="500",
                                     start_date=SCAN_DATE + timedelta(days=5))
    reason = proposal_recheck(proposals["VTI"], as_of=SCAN_DATE)
    assert reason.startswith("it now also requires: Pause the recurring contribution of VTI in Joint until")


def test_it_fails_when_the_replacement_was_sold_at_a_loss_since(harvest, proposals):
    w = harvest.world
    w.trade(w.trust, "ITOT", SCAN_DATE - timedelta(days=20), "buy", "10", "110")
    w.trade(w.trust, "ITOT", SCAN_DATE - timedelta(days=1), "sell", "10", "100")
    harvest.recompute()
    reason = proposal_recheck(proposals["VTI"], as_of=SCAN_DATE)
    assert reason.startswith("no clean replacement for VTI: ITOT:") and "sold 10" in reason


def test_it_fails_on_a_stale_price(harvest, proposals):
    reason = proposal_recheck(proposals["VTI"], as_of=SCAN_DATE + timedelta(days=10))
    assert reason.startswith("the price cannot be used: the latest close of VTI is from 2026-12-09")

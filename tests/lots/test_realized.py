"""The stored ledger, the realized-gains page and API, and the Form 8949 download, on a household scenario.

Alex buys 10 VEA at 50 and sells them at 40 (loss 100). Within 30 days Jordan (the spouse, same
taxpayer unit) buys 4 VEA in a taxable account and Alex's IRA buys 3 VEA: 4 shares' loss (40) is
deferred into Jordan's lot and 3 shares' (30) is lost for good; 30 remains deductible. The trust
(a separate taxpayer) also buys VEA: that never washes the couple's loss.
"""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from lots.ledger import ledger_recompute
from lots.models import Disposal, Lot, WashSaleAdjustment
from tests.signin import sign_in

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 11, 27)


@pytest.fixture
def scenario(world):
    world.trade(world.alex_ind, "VEA", "2026-01-05", "buy", "10", "50")
    sale = world.trade(world.alex_ind, "VEA", "2026-03-02", "sell", "10", "40")
    world.trade(world.trust, "VEA", "2026-03-03", "buy", "5", "40")
    jordan = world.trade(world.jordan_ind, "VEA", "2026-03-10", "buy", "4", "41")
    ira = world.trade(world.alex_ira, "VEA", "2026-03-12", "buy", "3", "41")
    world.trade(world.joint, "VTI", "2024-01-02", "buy", "2", "200")
    world.trade(world.joint, "VTI", "2026-06-01", "sell", "2", "260", fees="1.00")
    ledger_recompute(household_id=world.household.pk)
    world.sale, world.jordan_buy, world.ira_buy = sale, jordan, ira
    return world


def test_the_ledger_stores_the_wash_sales_across_the_family(scenario):
    loss = Disposal.objects.get(sale=scenario.sale)
    assert (loss.proceeds, loss.cost_basis, loss.disallowed, loss.code) == (
        Decimal("400.00"), Decimal("500.00"), Decimal("70.00"), "W")
    assert loss.gain_loss == Decimal("-30.00")
    kinds = {a.replacement_id: (a.quantity, a.disallowed, a.kind) for a in WashSaleAdjustment.objects.all()}
    assert kinds == {
        scenario.jordan_buy.pk: (Decimal("4"), Decimal("40.00"), "deferred"),
        scenario.ira_buy.pk: (Decimal("3"), Decimal("30.00"), "permanent"),
    }
    jordan_lot = Lot.objects.get(origin=scenario.jordan_buy)
    assert jordan_lot.cost_basis == Decimal("204.00") and jordan_lot.wash_sale_adjustment == Decimal("40.00")
    assert jordan_lot.holding_period_start == date(2026, 3, 10) - (date(2026, 3, 2) - date(2026, 1, 5))  # tacked
    ira_lot = Lot.objects.get(origin=scenario.ira_buy)
    assert ira_lot.cost_basis == Decimal("123.00")  # Rev. Rul. 2008-5: no basis increase in an IRA


def test_a_recompute_is_idempotent(scenario):
    before = sorted(Disposal.objects.values_list("sale_id", "origin_id", "gain_loss", "disallowed"))
    ledger_recompute(household_id=scenario.household.pk)
    after = sorted(Disposal.objects.values_list("sale_id", "origin_id", "gain_loss", "disallowed"))
    assert before == after
    assert WashSaleAdjustment.objects.count() == 2 and Lot.objects.count() == 3  # trust, Jordan, IRA VEA


def test_the_realized_page_shows_each_owners_w_rows(scenario, client):
    sign_in(client, scenario.jordan)
    page = client.get(f"/households/{scenario.household.pk}/realized/?year=2026").content.decode()
    assert "Form 8949, 2026" in page
    assert 'data-code="W"' in page and "$70.00" in page
    assert "permanently lost" in page
    assert "Alex &amp; Jordan" in page  # the joint account's owners
    assert "$119.00" in page  # joint VTI: 520 proceeds - 1 fee - 400 basis


def test_the_8949_csv_is_exact_and_complete(scenario, client):
    sign_in(client, scenario.advisor)
    body = client.get(f"/households/{scenario.household.pk}/realized/form8949.csv?year=2026").content.decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("owners,part,box,description")
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 2  # the IRA has no sales; the trust's purchase is not a sale
    alex = next(r for r in rows if r[0] == "Alex")
    assert alex[1:4] == ["I", "C", "10 sh VEA"] and alex[8:11] == ["W", "70.00", "-30.00"]


def test_the_api_reports_totals_and_8949_rows(scenario):
    api = APIClient()
    api.force_authenticate(scenario.reporter)
    totals = api.get(f"/api/households/{scenario.household.pk}/realized/").json()
    alex = next(t for t in totals if t["owners"] == "Alex")
    assert alex["short_term_gain_loss"] == "-30.00" and alex["deferred"] == "40.00" and alex["permanent"] == "30.00"
    rows = api.get(f"/api/households/{scenario.household.pk}/form8949/?year=2026").json()
    assert {r["code"] for r in rows} == {"W", ""}
    assert api.get(f"/api/households/{scenario.household.pk}/form8949/?year=abc").status_code == 400

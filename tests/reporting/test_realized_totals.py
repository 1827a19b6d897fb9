"""GET households/<id>/realized/: the totals per owner group and year from GROUP BY rows (lots.selectors
.realized_totals), byte for byte what the old computation answered (every disposal and adjustment through
the engine's reports: lots.selectors.realized), in a number of queries that does not grow with the history."""

import json
from datetime import date
from decimal import Decimal as D

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from accounts.access import access_household
from harvester.api import YearTotalsOut
from lots import selectors
from lots.models import Disposal, WashSaleAdjustment
from tests.reporting import varied_history

pytestmark = pytest.mark.django_db


class OldRealizedTotals(APIView):
    """HouseholdRealizedTotals as it was: engine.totals of every sale and adjustment, per owner group."""

    def get(self, request, household_id: int):
        household = access_household(request.user, household_id)
        rows = [
            {"owners": group.label, "tax_year": year, **totals}
            for group in selectors.realized(household)
            for year, totals in group.totals.items()
        ]
        return Response(YearTotalsOut(rows, many=True).data)


def address(household) -> str:
    return f"/api/households/{household.pk}/realized/"


def reference(user, household) -> bytes:
    request = APIRequestFactory().get(address(household))
    force_authenticate(request, user=user)
    response = OldRealizedTotals.as_view()(request, household_id=household.pk)
    return response.render().content


def answer(user, household) -> bytes:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(address(household))
    assert response.status_code == 200
    return response.content


@pytest.fixture
def varied(world):
    varied_history.build(world)
    return world


def test_the_history_has_the_cases_the_totals_add_up(varied):
    disposals = Disposal.objects.filter(account__household=varied.household)
    assert {d.term for d in disposals} == {"short", "long"}
    assert {d.reportable for d in disposals} == {True, False}
    assert disposals.filter(disallowed__gt=0, gain_loss__lt=0).exists()  # washed in part
    assert disposals.filter(disallowed__gt=0, gain_loss=0).exists()  # washed in full
    assert len({d.tax_year for d in disposals}) >= 5
    kinds = set(WashSaleAdjustment.objects.filter(disposal__account__household=varied.household)
                .values_list("kind", flat=True))
    assert kinds == {"deferred", "permanent"}
    groups = {g.label for g in selectors.realized(varied.household) if g.totals}
    assert groups == {"Alex", "Alex & Jordan", "Jordan", "Trust"}


@pytest.mark.parametrize("seed", [2024, 7, 99])
def test_the_totals_are_byte_for_byte_the_old_computations(world, seed):
    varied_history.build(world, seed=seed)
    expected = reference(world.reporter, world.household)
    assert answer(world.reporter, world.household) == expected
    cache.clear()
    assert answer(world.reporter, world.household) == expected  # computed, then from the cache
    assert answer(world.reporter, world.household) == expected
    body = json.loads(expected)
    assert {r["tax_year"] for r in body} >= {2022, 2023, 2024, 2025, 2026}
    assert any(r["deferred"] != "0.00" for r in body) and any(r["permanent"] != "0.00" for r in body)


def test_the_morgans_totals_are_the_old_computations(history):
    expected = reference(history.reporter, history.household)
    assert answer(history.reporter, history.household) == expected
    assert b'"owners":"Alex","tax_year":2026' in expected and b'"deferred":"40.00","permanent":"30.00"' in expected


def test_a_household_without_sales_or_only_advantaged_sales_has_no_totals(world):
    from lots.ledger import ledger_recompute

    chen = world.other_household
    assert answer(world.chen, chen) == reference(world.chen, chen) == b"[]"
    world.chen_account.kind = "ira"
    world.chen_account.save()
    world.trade(world.chen_account, "VTI", "2025-01-02", "buy", "3", "200")
    world.trade(world.chen_account, "VTI", "2025-02-03", "sell", "3", "150")
    ledger_recompute(household_id=chen.pk)
    assert Disposal.objects.filter(account=world.chen_account).count() == 1
    assert answer(world.chen, chen) == reference(world.chen, chen) == b"[]"


def test_a_recompute_or_a_new_owner_name_shows_at_once(varied):
    from lots.ledger import ledger_recompute

    hh, user = varied.household, varied.reporter
    before = answer(user, hh)
    assert before == reference(user, hh)
    varied.trade(varied.trust, "SCHA", "2026-06-01", "sell", "5", "95")  # a gain in the trust's 2026
    ledger_recompute(household_id=hh.pk)  # a new ledger stamp: the cached sums are not used
    after = answer(user, hh)
    assert after != before and after == reference(user, hh)
    varied.jordan_owner.name = "Jordan Morgan"  # labels are read fresh, not cached
    varied.jordan_owner.save()
    renamed = answer(user, hh)
    assert b'"owners":"Alex & Jordan Morgan"' in renamed and renamed == reference(user, hh)


def queries(user, household) -> int:
    with CaptureQueriesContext(connection) as ctx:
        answer(user, household)
    return len(ctx)


def test_the_totals_cost_the_same_queries_whatever_the_history(history, django_assert_max_num_queries):
    from tests.reporting.test_dashboard_pages import add_sales

    add_sales(history, 2)
    cache.clear()
    few = queries(history.reporter, history.household)
    few_cached = queries(history.reporter, history.household)
    add_sales(history, 60)
    assert Disposal.objects.filter(account__household=history.household).count() > 60
    cache.clear()
    many = queries(history.reporter, history.household)
    many_cached = queries(history.reporter, history.household)
    assert few == many and few_cached == many_cached < many
    # the household and role; accounts and their owners; the ledger stamp; two GROUP BYs on a cold cache
    cache.clear()
    with django_assert_max_num_queries(6):
        answer(history.reporter, history.household)
    with django_assert_max_num_queries(4):
        answer(history.reporter, history.household)
    assert answer(history.reporter, history.household) == reference(history.reporter, history.household)


def test_totals_from_cells_adds_up_as_the_engine_does():
    """The pure part: the sums of a few sales and adjustments, as cells, give engine.totals of them."""
    from lots.engine import totals
    from lots.engine.types import Adjustment, Result, Sale

    def sale(year, term, proceeds, basis, disallowed, gain, reportable=True):
        bought, sold = date(year - 1, 1, 2), date(year, 3, 4)
        return Sale("1", "2", "1", "VTI", D("1"), bought, sold, D(proceeds), D(basis), D(disallowed),
                    "W" if D(disallowed) else "", D(gain), term, year, reportable, bought)

    def adjustment(year, kind, amount):
        return Adjustment("1", "2", "3", "1", D("1"), D(amount), kind, account="1", ticker="VTI",
                          replacement_ticker="VTI", date_sold=date(year, 3, 4), replacement_date=date(year, 3, 10))

    sales = [sale(2025, "short", "400.00", "500.00", "70.00", "-30.00"),
             sale(2025, "long", "519.00", "400.00", "0.00", "119.00"),
             sale(2025, "short", "10.00", "12.00", "0.00", "-2.00"),
             sale(2024, "short", "9.00", "8.00", "0.00", "1.00", reportable=False)]
    adjustments = [adjustment(2025, "deferred", "40.00"), adjustment(2025, "permanent", "30.00"),
                   adjustment(2023, "deferred", "5.00")]
    cells = [selectors.SaleCell(1, 2025, "short", D("410.00"), D("512.00"), D("70.00"), D("-32.00")),
             selectors.SaleCell(1, 2025, "long", D("519.00"), D("400.00"), D("0.00"), D("119.00"))]
    wash = [selectors.WashCell(1, 2025, "deferred", D("40.00")), selectors.WashCell(1, 2025, "permanent", D("30.00")),
            selectors.WashCell(1, 2023, "deferred", D("5.00"))]
    expected = totals(Result(sales=tuple(sales), adjustments=tuple(adjustments), open_lots=()))
    assert selectors.totals_from_cells(cells, wash) == expected
    assert selectors.totals_from_cells(reversed(cells), reversed(wash)) == expected
    assert list(expected) == [2023, 2025]

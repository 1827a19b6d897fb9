"""The dashboard pages: charts with tables, htmx partials, drill-down, scoping, and constant query counts."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.signin import sign_in

pytestmark = pytest.mark.django_db


def url(world, query=""):
    return f"/households/{world.household.pk}/dashboard/{query}"


def test_a_member_sees_measures_charts_and_tables(history, client):
    sign_in(client, history.jordan)
    response = client.get(url(history, "?year=2026"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 4
    for table in ("table-realized", "table-harvested", "table-wash", "table-yield"):
        assert f'id="{table}"' in page
    assert "<title>2026, Short-term: −$30.00</title>" in page  # exact value on each bar
    assert 'data-measure="harvested">$30.00<' in page
    assert 'data-measure="deferred">$40.00<' in page and 'data-measure="permanent">$30.00<' in page
    assert 'data-measure="yield">1.76%<' in page
    assert 'data-return="Alex &amp; Jordan"' in page and 'data-measure="offset">$911.00 / $2,089.00' in page
    assert "<script" not in page.split("</head>", 1)[1]  # charts need no JavaScript


def test_the_page_says_when_losses_harvested_means_all_losses(history, client):
    from harvester.models import Execution

    Execution.objects.all().delete()
    sign_in(client, history.alex)
    page = client.get(url(history)).content.decode()
    assert 'id="harvest-source"' in page and "all realized losses" in page


def test_the_year_links_swap_the_focus_partial(history, client):
    sign_in(client, history.alex)
    response = client.get(url(history, "?year=2025"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="focus")
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="focus" data-year="2025"')
    assert "<html" not in body and 'data-measure="harvested">$200.00<' in body


def test_the_drill_down_is_htmx_partials_with_plain_links(history, client):
    sign_in(client, history.alex)
    page = client.get(url(history, "?year=2026")).content.decode()
    group = f"{history.alex_owner.pk}"
    assert f'href="/households/{history.household.pk}/dashboard/?year=2026&amp;group={group}#drill"' in page
    assert f'hx-get="/households/{history.household.pk}/dashboard/?year=2026&amp;group={group}"' in page

    level2 = client.get(url(history, f"?year=2026&group={group}"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="drill")
    body = level2.content.decode()
    assert body.lstrip().startswith('<section id="drill" data-level="accounts"') and "Alex individual" in body
    level3 = client.get(url(history, f"?year=2026&account={history.alex_ind.pk}"), HTTP_HX_REQUEST="true",
                        HTTP_HX_TARGET="drill")
    body = level3.content.decode()
    assert 'data-level="sales"' in body and f'data-sale="{history.vea_sale.pk}"' in body and "harvest" in body
    # Without htmx the same address is the whole page with the drill-down open.
    full = client.get(url(history, f"?year=2026&account={history.alex_ind.pk}")).content.decode()
    assert "<html" in full and 'data-level="sales"' in full


@pytest.mark.parametrize(
    "query",
    ["?year=abc", "?year=1200", "?owner=999999", "?account=999999", "?group=1-2-3", "?account=x", "?page=0&account=1"],
)
def test_it_answers_404_to_a_malformed_or_foreign_filter(history, client, query):
    sign_in(client, history.alex)
    assert client.get(url(history, query)).status_code == 404


def test_it_refuses_another_households_account_and_owner(history, client):
    sign_in(client, history.alex)
    assert client.get(url(history, f"?account={history.chen_account.pk}")).status_code == 404
    chen_owner = history.chen_account.owners.first()
    assert client.get(url(history, f"?owner={chen_owner.pk}")).status_code == 404


def test_one_owners_dashboard(history, client):
    sign_in(client, history.alex)
    page = client.get(url(history, f"?owner={history.jordan_owner.pk}&year=2026")).content.decode()
    assert "Morgan household: Jordan" in page
    assert 'data-level="accounts"' in page and "Joint" in page and "Alex individual" not in page


def test_an_advisor_sees_every_household_in_one_dashboard(history, client):
    from accounts.models import Membership

    Membership.objects.create(household=history.other_household, user=history.advisor, role="advisor")
    sign_in(client, history.advisor)
    page = client.get("/dashboard/?year=2026").content.decode()
    assert "All your households" in page
    assert f'href="/households/{history.household.pk}/dashboard/?year=2026">Morgan household' in page
    assert "Chen household" in page
    sign_in(client, history.chen)  # a member sees only their own
    assert "Morgan" not in client.get("/dashboard/").content.decode()


def test_the_dashboard_lists_upcoming_dates(history, client):
    sign_in(client, history.alex)
    page = client.get(url(history)).content.decode()
    assert 'data-kind="year_end"' in page and "2026-12-31" in page


def add_sales(world, n):
    """n more sales of SCHB (bought the same day) in Jordan's account in 2024, each its own disposal."""
    from lots.ledger import ledger_recompute

    for i in range(n):
        day = f"2024-0{1 + i % 9}-{10 + i % 15:02d}"
        world.trade(world.jordan_ind, "SCHB", day, "buy", "1", "60", seq=2 * i)
        world.trade(world.jordan_ind, "SCHB", day, "sell", "1", "55", seq=2 * i + 1)
    ledger_recompute(household_id=world.household.pk)


def count_queries(client, address, **headers):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(address, **headers).status_code == 200
    return len(ctx)


def test_the_dashboard_costs_the_same_queries_whatever_the_history(history, client, django_assert_max_num_queries):
    add_sales(history, 1)
    sign_in(client, history.advisor)
    few = count_queries(client, url(history, "?year=2024"))
    drill_few = count_queries(client, url(history, f"?year=2024&account={history.jordan_ind.pk}"),
                              HTTP_HX_REQUEST="true", HTTP_HX_TARGET="drill")
    add_sales(history, 40)
    many = count_queries(client, url(history, "?year=2024"))
    drill_many = count_queries(client, url(history, f"?year=2024&account={history.jordan_ind.pk}"),
                               HTTP_HX_REQUEST="true", HTTP_HX_TARGET="drill")
    assert few == many and drill_few == drill_many
    with django_assert_max_num_queries(22):
        client.get(url(history, "?year=2024"))
    with django_assert_max_num_queries(14):
        client.get(url(history, f"?year=2024&account={history.jordan_ind.pk}"), HTTP_HX_REQUEST="true",
                   HTTP_HX_TARGET="drill")
    page = client.get(url(history, f"?year=2024&account={history.jordan_ind.pk}")).content.decode()
    assert 'data-count="41"' in page and page.count('class="sale-row"') == 41


def test_the_sales_drill_down_is_paged(history, client):
    add_sales(history, 55)
    sign_in(client, history.jordan)
    first = client.get(url(history, f"?year=2024&account={history.jordan_ind.pk}")).content.decode()
    assert first.count('class="sale-row"') == 50 and "Page 1 of 2 (55 sales)" in first
    second = client.get(url(history, f"?year=2024&account={history.jordan_ind.pk}&page=2")).content.decode()
    assert second.count('class="sale-row"') == 5
    assert client.get(url(history, f"?year=2024&account={history.jordan_ind.pk}&page=3")).status_code == 404


def test_chart_bars_match_the_table(history, client):
    sign_in(client, history.alex)
    page = client.get(url(history)).content.decode()
    values = dict(re.findall(r'data-series="Long-term" data-value="([^"]+)"><title>(\d{4}),', page)[::-1])
    assert {v: Decimal(k) for k, v in values.items()} == {"2025": Decimal("0.00"), "2026": Decimal("119.00")}

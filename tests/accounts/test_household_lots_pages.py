"""The household page shows its open lots a page at a time (accounts.views.LOTS_PAGE), while the account
totals and the positions still cover every lot, exactly as the selectors value them; further pages come
as an htmx partial of the lots table, or as the whole page through plain ?page=N links."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.views import LOTS_PAGE
from lots import selectors
from tests.accounts.lot_factory import add_lots, priced
from tests.signin import sign_in

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "lots"}
ROW = 'class="lot-row"'


@pytest.fixture
def big(world):
    """The Morgans with 250 open lots: three pages."""
    priced(world)
    add_lots(world, 250)
    return world


def url(world, query=""):
    return f"/households/{world.household.pk}/{query}"


def reference(world, account_id=None):
    """What the page showed before paging: every lot through the selectors."""
    views = selectors.household_lots(world.household, as_of=timezone.localdate())
    positions = selectors.positions(views)
    lots = [v.lot.pk for v in views if account_id is None or v.lot.account_id == account_id]
    return lots, positions, selectors.account_totals(positions)


def position_key(p):
    return (p.account_id, p.account_name, p.security.pk, p.quantity, p.cost_basis, p.market_value, p.unrealized, p.lots)


def rows(html):
    return re.findall(r'<tr class="lot-row".*?</tr>', html, re.S)


def section(html, name):
    return re.search(rf'<section id="{name}">.*?</section>', html, re.S).group(0)


def test_the_page_shows_one_page_of_lots_and_totals_over_all_of_them(big, client):
    lots, positions, totals = reference(big)
    response = sign_in(client, big.advisor).get(url(big))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count(ROW) == LOTS_PAGE == 100
    assert [v.lot.pk for v in response.context["lots"]] == lots[:LOTS_PAGE]

    # The summary figures are those of all 250 lots, to the cent (a half cent per lot rounds per lot).
    assert [position_key(p) for p in response.context["positions"]] == [position_key(p) for p in positions]
    assert response.context["totals"] == totals
    assert sum(p.lots for p in response.context["positions"]) == 250
    assert totals[big.alex_ind.pk]["market_value"] is None  # ITOT has no close: no value, as before
    vti = next(p for p in positions if p.account_id == big.joint.pk and p.security.ticker == "VTI")
    assert vti.market_value is not None and vti.lots > 1

    page = response.context["lots_page"]
    assert (page.number, page.pages, page.count, page.first, page.last) == (1, 3, 250, 1, 100)
    assert 'data-lot-count="250"' in html and 'data-page="1"' in html
    assert "Lots 1–100 of 250 (page 1 of 3)" in html
    assert f'href="/households/{big.household.pk}/?page=2#lots"' in html
    assert f'hx-get="/households/{big.household.pk}/?page=2"' in html
    assert 'rel="prev"' not in html


def test_the_summary_sections_render_as_they_did_with_every_lot_read(big, client):
    """The accounts and positions tables are the same HTML the selectors' figures give."""
    from django.template.loader import render_to_string

    _, positions, totals = reference(big)
    response = sign_in(client, big.advisor).get(url(big))
    context = {**response.context[0].flatten(), "positions": positions, "totals": totals}
    before = render_to_string("accounts/household.html", context)
    html = response.content.decode()
    for name in ("accounts", "positions"):
        assert section(html, name) == section(before, name)
    assert "—" in section(html, "accounts")  # the unpriced security's accounts


def test_page_two_comes_as_the_lots_table_alone_through_htmx(big, client):
    lots, _, _ = reference(big)
    response = sign_in(client, big.alex).get(url(big, "?page=2"), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="lots"') and "<h1>" not in html and "<section" not in html
    assert html.count(ROW) == 100
    # The same rows as page 2 of the whole page, which are lots 101 to 200 (a partial has no test context).
    full = client.get(url(big, "?page=2"))
    assert [v.lot.pk for v in full.context["lots"]] == lots[100:200]
    assert rows(html) == rows(full.content.decode())
    assert "Lots 101–200 of 250 (page 2 of 3)" in html
    assert f'hx-get="/households/{big.household.pk}/?page=1"' in html and 'rel="prev"' in html
    assert f'hx-get="/households/{big.household.pk}/?page=3"' in html and 'rel="next"' in html
    assert 'hx-target="#lots"' in html


def test_the_last_page_without_javascript_is_the_whole_page(big, client):
    lots, _, _ = reference(big)
    response = sign_in(client, big.alex).get(url(big, "?page=3"))
    html = response.content.decode()
    assert response.status_code == 200 and "<h1>" in html and 'id="positions"' in html
    assert html.count(ROW) == 50
    assert [v.lot.pk for v in response.context["lots"]] == lots[200:]
    assert "Lots 201–250 of 250 (page 3 of 3)" in html and 'rel="next"' not in html


def test_pages_keep_the_account_filter(world, client):
    priced(world)
    add_lots(world, 480)  # 120 in each of the four accounts
    lots, _, _ = reference(world, world.joint.pk)
    sign_in(client, world.alex)
    first = client.get(url(world, f"?account={world.joint.pk}"))
    assert first.content.decode().count(ROW) == 100
    assert f"?account={world.joint.pk}&amp;page=2" in first.content.decode()
    second = client.get(url(world, f"?account={world.joint.pk}&page=2"), **HTMX)
    html = second.content.decode()
    assert html.count(ROW) == 20 and "Lots 101–120 of 120 (page 2 of 2)" in html
    assert f"?account={world.joint.pk}&amp;page=1" in html
    full = client.get(url(world, f"?account={world.joint.pk}&page=2"))
    assert [v.lot.pk for v in full.context["lots"]] == lots[100:]
    assert rows(html) == rows(full.content.decode())


# Loops, not @pytest.mark.parametrize("page", ...): an argument named `page` is pytest-playwright's fixture
# name, which gives the test its session-scoped browser parameter, and pytest then runs it in one group
# with the e2e tests, whose flush empties the seeded universe under the tests after them.
def test_a_page_that_is_not_a_positive_number_is_not_found(big, client):
    sign_in(client, big.alex)
    for page in ("abc", "0", "-1", "1.5", "2e3", "%00"):
        for headers in ({}, HTMX):
            assert client.get(url(big, f"?page={page}"), **headers).status_code == 404, (page, headers)


def test_a_page_past_the_last_shows_the_last(big, client):
    sign_in(client, big.alex)
    for page in ("4", "99", "99999999999999999999999"):
        for headers in ({}, HTMX):
            response = client.get(url(big, f"?page={page}"), **headers)
            html = response.content.decode()
            assert response.status_code == 200, (page, headers)
            assert 'data-page="3"' in html and html.count(ROW) == 50 and "Lots 201–250 of 250" in html


def test_an_empty_household_has_one_page_and_no_pager(world, client):
    html = sign_in(client, world.alex).get(url(world, "?page=2")).content.decode()
    assert "No open lots." in html and 'data-lot-count="0"' in html and "Pages of lots" not in html


def test_a_stranger_gets_not_found_for_a_page_of_lots(big, client):
    sign_in(client, big.chen)
    assert client.get(url(big, "?page=2"), **HTMX).status_code == 404
    client.logout()
    response = client.get(url(big, "?page=2"), **HTMX)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_number_of_queries_does_not_grow_with_the_lots(world, client, django_assert_num_queries):
    priced(world)
    add_lots(world, 10)
    sign_in(client, world.advisor)
    few = {}
    for name, query, headers in (("page", "", {}), ("partial", "?page=1", HTMX)):
        client.get(url(world, query), **headers)  # warm: the session, the second factor's device
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(world, query), **headers).status_code == 200
        few[name] = len(queries)

    add_lots(world, 290, start=10)
    for name, query, headers in (("page", "", {}), ("partial", "?page=2", HTMX)):
        with django_assert_num_queries(few[name]):
            response = client.get(url(world, query), **headers)
        assert response.content.decode().count(ROW) == 100
    assert few["partial"] < few["page"]


def test_a_security_bought_between_the_two_queries_falls_back_to_reading_every_lot(big):
    """The positions read the securities, then sum the lots: a lot of a security the first query did not see
    (bought in between) makes them read every lot through the selectors rather than fail."""
    from unittest import mock

    from accounts import views

    _, positions, _ = reference(big)
    names = {a.pk: a.name for a in big.household.accounts.all()}
    with mock.patch.object(views, "Security") as security:
        security.objects.filter.return_value.select_related.return_value.annotate.return_value = []
        got = views._positions(big.household, names)
    assert [position_key(p) for p in got] == [position_key(p) for p in positions]

"""The account page shows its open lots a page at a time (accounts.views.LOTS_PAGE) and its transactions a
page at a time, newest first (accounts.views.TRANSACTIONS_PAGE), while the positions still cover every lot
of the account, exactly as the selectors value them; further pages come as an htmx partial of either table,
or as the whole page through plain ?page=N / ?tx_page=N links."""

import re

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.views import LOTS_PAGE, TRANSACTIONS_PAGE
from lots import selectors
from lots.models import Transaction
from tests.accounts.lot_factory import add_lots, priced
from tests.signin import sign_in

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "lots"}
HTMX_TX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "transactions"}
ROW = 'class="lot-row"'
TX_ROW = 'class="transaction-row"'


@pytest.fixture
def big(world):
    """The Morgans' joint account with 250 open lots (three pages) and their 250 buys; other accounts hold
    lots too, which the joint account's page must leave out."""
    priced(world)
    add_lots(world, 250, accounts=(world.joint,))
    add_lots(world, 20, start=250, accounts=(world.alex_ind, world.trust))
    return world


def url(world, query="", account=None):
    return f"/households/{world.household.pk}/accounts/{(account or world.joint).pk}/{query}"


def reference(world, account=None):
    """What the page computed before paging: every lot of the account through the selectors."""
    views = selectors.household_lots(
        world.household, as_of=timezone.localdate(), account_id=(account or world.joint).pk
    )
    return views, selectors.positions(views)


def position_key(p):
    return (p.account_id, p.account_name, p.security.pk, p.quantity, p.cost_basis, p.market_value, p.unrealized, p.lots)


def rows(html, row="lot-row"):
    return re.findall(rf'<tr class="{row}".*?</tr>', html, re.S)


def old_rows(world, response):
    """The lot rows as the page rendered them with every lot read (the lots table's markup is unchanged)."""
    views, positions = reference(world)
    context = {**response.context[0].flatten(), "lots": views, "positions": positions, "lots_page": None}
    return rows(render_to_string("accounts/account.html", context))


def test_the_page_shows_one_page_of_lots_and_positions_over_all_of_them(big, client):
    views, positions = reference(big)
    response = sign_in(client, big.advisor).get(url(big))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count(ROW) == LOTS_PAGE == 100
    assert [v.lot.pk for v in response.context["lots"]] == [v.lot.pk for v in views[:LOTS_PAGE]]
    # Byte for byte the rows the old code path gave for the first 100 lots.
    assert rows(html) == old_rows(big, response)[:100]

    # The positions are those of all 250 lots, to the cent (a half cent per lot rounds per lot), and no
    # market value without a close (ITOT), as before.
    assert [position_key(p) for p in response.context["positions"]] == [position_key(p) for p in positions]
    assert sum(p.lots for p in response.context["positions"]) == 250
    assert {p.account_id for p in response.context["positions"]} == {big.joint.pk}
    itot = next(p for p in positions if p.security.ticker == "ITOT")
    assert itot.market_value is None and itot.unrealized is None
    vea = next(p for p in positions if p.security.ticker == "VEA")
    assert vea.market_value is not None and vea.lots > 1

    page = response.context["lots_page"]
    assert (page.number, page.pages, page.count, page.first, page.last) == (1, 3, 250, 1, 100)
    assert 'data-lot-count="250"' in html and 'data-page="1"' in html
    assert "Lots 1–100 of 250 (page 1 of 3)" in html
    assert f'href="{url(big)}?page=2#lots"' in html and f'hx-get="{url(big)}?page=2"' in html
    assert 'hx-target="#lots"' in html and "hx-on" not in html and "<script" not in html.split("<main")[-1]


def test_page_two_comes_as_the_lots_table_alone_through_htmx(big, client):
    views, _ = reference(big)
    response = sign_in(client, big.alex).get(url(big, "?page=2"), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="lots"') and "<h1>" not in html and "Transactions" not in html
    assert html.count(ROW) == 100
    full = client.get(url(big, "?page=2"))
    assert [v.lot.pk for v in full.context["lots"]] == [v.lot.pk for v in views[100:200]]
    assert rows(html) == rows(full.content.decode()) == old_rows(big, full)[100:200]
    assert "Lots 101–200 of 250 (page 2 of 3)" in html
    assert f'hx-get="{url(big)}?page=1"' in html and 'rel="prev"' in html
    assert f'hx-get="{url(big)}?page=3"' in html and 'rel="next"' in html


def test_the_last_page_without_javascript_is_the_whole_page(big, client):
    views, _ = reference(big)
    response = sign_in(client, big.alex).get(url(big, "?page=3"))
    html = response.content.decode()
    assert response.status_code == 200 and "<h1>" in html and 'id="transactions"' in html
    assert html.count(ROW) == 50
    assert [v.lot.pk for v in response.context["lots"]] == [v.lot.pk for v in views[200:]]
    lots_region = html[html.index('<div id="lots"') : html.index('<div id="transactions"')]
    assert "Lots 201–250 of 250 (page 3 of 3)" in lots_region and 'rel="next"' not in lots_region
    # The transactions' pager keeps the lots' page, and the lots' pager the transactions'.
    assert f"{url(big)}?page=3&amp;tx_page=2#transactions" in html
    other = client.get(url(big, "?page=3&tx_page=2")).content.decode()
    assert f"{url(big)}?tx_page=2&amp;page=2#lots" in other


def test_transactions_come_newest_first_a_page_at_a_time(big, client):
    newest = list(
        Transaction.objects.filter(account=big.joint)
        .order_by("-trade_date", "-seq", "-id")
        .values_list("pk", flat=True)
    )
    assert len(newest) == 250
    sign_in(client, big.alex)
    response = client.get(url(big))
    html = response.content.decode()
    assert [t.pk for t in response.context["transactions"]] == newest[:TRANSACTIONS_PAGE]
    assert html.count(TX_ROW) == TRANSACTIONS_PAGE == 100
    assert "Transactions 1–100 of 250 (page 1 of 3)" in html and 'data-transaction-count="250"' in html
    assert f'hx-get="{url(big)}?tx_page=2"' in html and 'hx-target="#transactions"' in html

    partial = client.get(url(big, "?tx_page=2"), **HTMX_TX)
    text = partial.content.decode()
    assert partial.status_code == 200 and text.lstrip().startswith('<div id="transactions"')
    assert "<h1>" not in text and ROW not in text
    full = client.get(url(big, "?tx_page=2"))
    assert [t.pk for t in full.context["transactions"]] == newest[100:200]
    assert rows(text, "transaction-row") == rows(full.content.decode(), "transaction-row")
    assert "Transactions 101–200 of 250 (page 2 of 3)" in text
    assert f'hx-get="{url(big)}?tx_page=1"' in text and f'hx-get="{url(big)}?tx_page=3"' in text

    last = client.get(url(big, "?tx_page=99"), **HTMX_TX).content.decode()
    assert 'data-page="3"' in last and last.count(TX_ROW) == 50


# Loops, not @pytest.mark.parametrize("page", ...): see tests/accounts/test_household_lots_pages.py.
def test_a_page_that_is_not_a_positive_number_is_not_found(big, client):
    sign_in(client, big.alex)
    for name in ("page", "tx_page"):
        for number in ("abc", "0", "-1", "1.5", "2e3", "%00"):
            for headers in ({}, HTMX, HTMX_TX):
                response = client.get(url(big, f"?{name}={number}"), **headers)
                assert response.status_code == 404, (name, number, headers)


def test_a_page_past_the_last_shows_the_last(big, client):
    sign_in(client, big.alex)
    for number in ("4", "99", "99999999999999999999999"):
        for headers in ({}, HTMX):
            response = client.get(url(big, f"?page={number}"), **headers)
            html = response.content.decode()
            assert response.status_code == 200, (number, headers)
            assert 'data-page="3"' in html and html.count(ROW) == 50 and "Lots 201–250 of 250" in html


def test_an_empty_account_has_one_page_and_no_pager(world, client):
    html = sign_in(client, world.alex).get(url(world, "?page=2&tx_page=2")).content.decode()
    assert "No open lots." in html and 'data-lot-count="0"' in html and "Pages of lots" not in html
    assert "No transactions." in html and "Pages of transactions" not in html


def test_a_stranger_gets_not_found_for_a_page_of_lots(big, client):
    sign_in(client, big.chen)
    for headers in ({}, HTMX, HTMX_TX):
        assert client.get(url(big, "?page=2&tx_page=2"), **headers).status_code == 404
    client.logout()
    response = client.get(url(big, "?page=2"), **HTMX)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_number_of_queries_does_not_grow_with_the_lots(world, client, django_assert_num_queries):
    priced(world)
    add_lots(world, 10, accounts=(world.joint,))
    sign_in(client, world.advisor)
    variants = (("page", "", {}), ("lots", "?page=1", HTMX), ("transactions", "?tx_page=1", HTMX_TX))
    few = {}
    for name, query, headers in variants:
        client.get(url(world, query), **headers)  # warm: the session, the second factor's device
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(world, query), **headers).status_code == 200
        few[name] = len(queries)

    add_lots(world, 290, start=10, accounts=(world.joint,))
    for name, query, headers in variants:
        with django_assert_num_queries(few[name]):
            response = client.get(url(world, query.replace("=1", "=2")), **headers)
        html = response.content.decode()
        assert html.count(ROW) == (0 if name == "transactions" else 100)
        assert html.count(TX_ROW) == (0 if name == "lots" else 100)
    assert few["lots"] < few["page"] and few["transactions"] < few["page"]


def test_positions_of_an_account_fall_back_to_reading_its_lots(big):
    """As the household's: a security bought between the two queries makes the positions read every lot of
    the account through the selectors rather than fail."""
    from unittest import mock

    from accounts import views

    _, positions = reference(big)
    with mock.patch.object(views, "Security") as security:
        security.objects.filter.return_value.select_related.return_value.annotate.return_value = []
        got = views._positions(big.household, {big.joint.pk: big.joint.name}, big.joint.pk)
    assert [position_key(p) for p in got] == [position_key(p) for p in positions]

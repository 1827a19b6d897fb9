"""The open-lots page written as JSON by PostgreSQL (the API's JSON answer) says exactly what the Python path
(open_lots_out, used for the browsable API and on SQLite) says, and its term follows lots.engine.holding_term."""

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from harvester.api import open_lots_out
from lots.engine import holding_term
from lots.ledger import ledger_recompute
from reporting.selectors import long_term_until, open_lots_page, open_lots_page_json


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)), st.integers(min_value=-800, max_value=800))
def test_long_term_until_is_holding_terms_cutoff(sold, days_before):
    start = sold - timedelta(days=400) + timedelta(days=days_before)
    expected = holding_term(start, sold)
    assert ("long" if start <= long_term_until(sold) else "short") == expected


def test_long_term_until_around_leap_days():
    for sold in [date(2025, 2, 28), date(2025, 3, 1), date(2024, 2, 29), date(2024, 3, 1), date(2028, 2, 29)]:
        cutoff = long_term_until(sold)
        assert holding_term(cutoff, sold) == "long" and holding_term(cutoff + timedelta(days=1), sold) == "short"


@pytest.mark.django_db
def test_the_database_json_is_open_lots_out(history):
    if connection.vendor != "postgresql":
        pytest.skip("the JSON is written by PostgreSQL")
    # Lots whose value falls on half a cent (rounded half up), a fractional lot with no close, and lots on
    # both sides of the one-year line on the days checked.
    history.price("VEA", "2026-11-21", "10.010000")
    history.trade(history.jordan_ind, "VEA", "2025-11-27", "buy", "0.5", "12")
    history.trade(history.jordan_ind, "VEA", "2025-11-28", "buy", "1.5", "12")
    history.trade(history.jordan_ind, "SCHB", "2026-02-02", "buy", "3.123456", "20.1234")
    ledger_recompute(household_id=history.household.pk)
    household = history.household.pk
    filters = [{}, {"account_id": history.jordan_ind.pk}, {"owner_id": history.jordan_owner.pk}, {"ticker": "VEA"},
               {"ticker": "NONE"}]
    for as_of in [date(2026, 11, 27), date(2026, 11, 28), date(2026, 11, 29), date(2027, 3, 1)]:
        for where in filters:
            for limit, offset in [(100, 0), (2, 1), (3, 4), (5, 50)]:
                count, rows = open_lots_page(household, **where, limit=limit, offset=offset)
                count_json, lots = open_lots_page_json(household, **where, limit=limit, offset=offset, as_of=as_of)
                assert count_json == count
                assert json.loads(lots) == open_lots_out(rows, as_of), (as_of, where, limit, offset)
    everything = json.loads(open_lots_page_json(household, limit=100, offset=0, as_of=date(2026, 11, 28))[1])
    vea = {(lot["quantity"], lot["market_value"], lot["term"]) for lot in everything if lot["ticker"] == "VEA"}
    assert {("0.50000000", "5.01", "long"), ("1.50000000", "15.02", "short")} <= vea  # 5.005 -> 5.01, 15.015 -> 15.02
    assert any(lot["price"] is None and lot["market_value"] is None for lot in everything)


@pytest.mark.django_db
def test_the_api_answers_json_from_the_database_and_html_from_python(history):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=history.reporter).key)
    url = f"/api/households/{history.household.pk}/open-lots/?limit=2&offset=1"
    answer = client.get(url)
    assert answer["Content-Type"] == "application/json" and "Accept" in answer["Vary"]
    body = answer.json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert body["next"].endswith("/open-lots/?limit=2&offset=3") and body["previous"].endswith("/open-lots/?limit=2")
    html = client.get(url, HTTP_ACCEPT="text/html")
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    assert [lot["id"] for lot in body["results"]] == [lot["id"] for lot in html.data["results"]]

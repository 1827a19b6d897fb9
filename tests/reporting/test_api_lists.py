"""GET households/<id>/disposals/ and transactions/: the owner filter goes through a subquery, so the lists
need no DISTINCT (which made PostgreSQL sort a year's disposals on every column). The pages are the ones
the old querysets (a join on the accounts' owners, then DISTINCT) gave, filters and paging included."""

import json

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from harvester.api import DisposalRecordOut, TransactionOut
from lots.models import Disposal, Transaction
from tests.reporting import varied_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(world):
    varied_history.build(world)
    return world


@pytest.fixture
def api(varied):
    client = APIClient()
    client.force_authenticate(varied.reporter)
    return client


def old_filter(values: dict) -> Q:
    q = Q()
    if "account" in values:
        q &= Q(account_id=values["account"])
    if "owner" in values:
        q &= Q(account__owners=values["owner"])
    return q


def old_disposals(household, values: dict):
    """HouseholdDisposals.get_queryset as it was."""
    qs = Disposal.objects.filter(account__household=household).filter(old_filter(values))
    for field in ("term", "reportable"):
        if field in values:
            qs = qs.filter(**{field: values[field]})
    if "year" in values:
        qs = qs.filter(tax_year=values["year"])
    return qs.select_related("security").order_by("date_sold", "sale_id", "id").distinct()


def old_transactions(household, values: dict):
    """HouseholdTransactions.get_queryset as it was."""
    from datetime import date

    qs = Transaction.objects.filter(account__household=household).filter(old_filter(values))
    if "year" in values:
        qs = qs.filter(trade_date__gte=date(values["year"], 1, 1), trade_date__lt=date(values["year"] + 1, 1, 1))
    if "action" in values:
        qs = qs.filter(action=values["action"])
    if "ticker" in values:
        qs = qs.filter(security__ticker=values["ticker"].upper())
    return qs.select_related("security").order_by("trade_date", "seq", "id").distinct()


def page(api, world, path: str, values: dict, limit: int, offset: int) -> dict:
    query = "&".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in values.items())
    response = api.get(f"/api/households/{world.household.pk}/{path}/?{query}&limit={limit}&offset={offset}")
    assert response.status_code == 200, response.content
    return response.json()


def expected(serializer, qs, limit: int, offset: int) -> tuple[int, list]:
    rows = serializer(qs[offset:offset + limit], many=True).data
    return qs.count(), json.loads(JSONRenderer().render(rows))


def disposal_filters(w) -> list[dict]:
    return [
        {}, {"year": 2025}, {"year": 2023, "owner": w.alex_owner.pk}, {"owner": w.jordan_owner.pk},
        {"owner": w.trust_owner.pk}, {"account": w.joint.pk}, {"term": "long"}, {"reportable": False},
        {"reportable": True, "year": 2026}, {"owner": w.alex_owner.pk, "account": w.alex_ira.pk},
        {"owner": w.jordan_owner.pk, "account": w.alex_ira.pk},  # nobody's: an empty list
    ]


def transaction_filters(w) -> list[dict]:
    return [
        {}, {"year": 2024}, {"action": "sell"}, {"ticker": "vti"}, {"owner": w.jordan_owner.pk, "year": 2026},
        {"owner": w.alex_owner.pk}, {"account": w.alex_ira.pk, "action": "buy"},
    ]


@pytest.mark.parametrize("limit, offset", [(7, 0), (7, 14), (1000, 0)])
def test_disposal_pages_are_the_old_querysets_pages(varied, api, limit, offset):
    assert Disposal.objects.filter(account__household=varied.household).count() > 40
    for values in disposal_filters(varied):
        body = page(api, varied, "disposals", values, limit, offset)
        count, rows = expected(DisposalRecordOut, old_disposals(varied.household, values), limit, offset)
        assert (body["count"], body["results"]) == (count, rows), values


@pytest.mark.parametrize("limit, offset", [(7, 0), (7, 14), (1000, 0)])
def test_transaction_pages_are_the_old_querysets_pages(varied, api, limit, offset):
    for values in transaction_filters(varied):
        body = page(api, varied, "transactions", values, limit, offset)
        count, rows = expected(TransactionOut, old_transactions(varied.household, values), limit, offset)
        assert (body["count"], body["results"]) == (count, rows), values


@pytest.mark.parametrize("path", ["disposals", "transactions"])
def test_the_lists_use_no_distinct_even_with_an_owner(varied, api, path):
    with CaptureQueriesContext(connection) as ctx:
        body = page(api, varied, path, {"owner": varied.jordan_owner.pk, "year": 2026}, 100, 0)
    assert body["count"] > 0
    statements = [q["sql"] for q in ctx.captured_queries if f"lots_{path[:-1]}" in q["sql"]]
    assert len(statements) == 2  # the count and the page
    assert not any("DISTINCT" in sql.upper() for sql in statements)


def test_the_list_indexes_are_declared():
    assert {"tax_year", "date_sold", "sale", "id"} == set(
        next(i for i in Disposal._meta.indexes if i.name == "disposal_year_list_order").fields)
    assert ["trade_date", "seq", "id"] == next(
        i for i in Transaction._meta.indexes if i.name == "transaction_list_order").fields

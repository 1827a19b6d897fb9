"""The reporting API: scoped lists with filters and pagination, decimal strings, one error shape,
read-only revocable tokens, throttling, and a constant number of queries per page."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.signin import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(history):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=history.reporter).key)
    return client


def base(world):
    return f"/api/households/{world.household.pk}/"


def test_owners_and_accounts(history, api):
    owners = api.get(base(history) + "owners/").json()
    assert owners["count"] == 3 and [o["name"] for o in owners["results"]] == ["Alex", "Jordan", "Trust"]
    accounts = api.get(base(history) + f"accounts/?owner={history.jordan_owner.pk}").json()["results"]
    assert [a["name"] for a in accounts] == ["Joint", "Jordan individual"]


def test_open_lots_are_paged_and_valued(history, api):
    body = api.get(base(history) + "open-lots/?limit=2").json()
    assert body["count"] == 5 and len(body["results"]) == 2 and "offset=2" in body["next"]
    lots = api.get(base(history) + f"open-lots/?account={history.alex_ind.pk}").json()["results"]
    assert [(lot["ticker"], lot["quantity"], lot["price"]) for lot in lots] == [
        ("IEFA", "5.00000000", "82.000000"), ("ITOT", "10.00000000", "125.000000")]
    itot = lots[1]
    assert itot["market_value"] == "1250.00" and itot["unrealized"] == "-850.00" and itot["term"] == "long"
    assert api.get(base(history) + "open-lots/?ticker=iefa").json()["count"] == 1


def lots_as_the_selector_values_them(world, accounts=None):
    """LotOut over lots.selectors.household_lots, the rules the open-lots page's plain SQL must follow."""
    from django.utils import timezone

    from harvester.api import LotOut
    from lots import selectors

    views = selectors.household_lots(world.household, as_of=timezone.localdate())
    rows = [dict(row) for row in LotOut(views, many=True).data]
    return sorted((r for r in rows if accounts is None or r["account"] in accounts), key=lambda r: r["id"])


def test_open_lot_pages_value_lots_as_the_lot_selector_does(history, api):
    from lots.ledger import ledger_recompute

    # A fractional lot of a fund with no stored close: no price, value or unrealized.
    history.trade(history.jordan_ind, "SCHB", "2026-02-02", "buy", "3.123456", "20.1234")
    ledger_recompute(household_id=history.household.pk)
    expected = lots_as_the_selector_values_them(history)
    assert any(r["price"] is None for r in expected) and len(expected) == 6
    pages = [api.get(base(history) + f"open-lots/?limit=4&offset={offset}").json() for offset in (0, 4, 8)]
    assert [r for page in pages for r in page["results"]] == expected
    assert [page["count"] for page in pages] == [6, 6, 6] and pages[2]["results"] == []
    joint_and_jordan = {history.joint.pk, history.jordan_ind.pk}
    by_owner = api.get(base(history) + f"open-lots/?owner={history.jordan_owner.pk}").json()
    assert by_owner["results"] == lots_as_the_selector_values_them(history, joint_and_jordan)
    by_account = api.get(base(history) + f"open-lots/?account={history.joint.pk}&ticker=vti").json()
    assert by_account["results"] == lots_as_the_selector_values_them(history, {history.joint.pk})


def test_an_open_lots_page_past_the_end_is_empty(history, api):
    body = api.get(base(history) + "open-lots/?offset=99999999999999999999999").json()
    assert body["count"] == 5 and body["results"] == [] and body["next"] is None
    assert api.get(base(history) + "open-lots/?limit=2", HTTP_ACCEPT="text/html").status_code == 200  # browsable


def test_an_open_lots_page_is_three_queries(history, api, django_assert_num_queries):
    # The token, the household with the caller's role, the page with its count and its latest closes.
    for limit in (1, 200):
        with django_assert_num_queries(3):
            assert api.get(base(history) + f"open-lots/?limit={limit}").status_code == 200


def test_transactions_filter_by_year_action_and_owner(history, api):
    rows = api.get(base(history) + "transactions/?year=2026&action=sell").json()["results"]
    assert [(r["ticker"], r["trade_date"]) for r in rows] == [("VEA", "2026-03-02"), ("VTI", "2026-06-01")]
    rows = api.get(base(history) + f"transactions/?owner={history.trust_owner.pk}").json()["results"]
    assert [(r["ticker"], r["quantity"], r["price"]) for r in rows] == [("VEA", "5.00000000", "40.000000")]


def test_disposals_filter_by_year_owner_account_and_term(history, api):
    rows = api.get(base(history) + "disposals/?year=2026&term=short").json()["results"]
    assert [(r["ticker"], r["gain_loss"], r["disallowed"], r["code"]) for r in rows] == [("VEA", "-30.00", "70.00", "W")]
    joint = api.get(base(history) + f"disposals/?owner={history.jordan_owner.pk}").json()["results"]
    assert [(r["ticker"], r["term"], r["gain_loss"]) for r in joint] == [("VTI", "long", "119.00")]
    assert api.get(base(history) + f"disposals/?account={history.alex_ind.pk}&year=2025").json()["count"] == 1


def test_wash_sale_adjustments(history, api):
    rows = api.get(base(history) + "wash-sale-adjustments/?year=2026").json()["results"]
    assert sorted((r["kind"], r["disallowed"], r["replacement_ticker"]) for r in rows) == [
        ("deferred", "40.00", "VEA"), ("permanent", "30.00", "VEA")]
    assert api.get(base(history) + "wash-sale-adjustments/?kind=permanent").json()["count"] == 1


def test_proposals_and_approvals(history, api):
    from harvester.models import Approval

    Approval.objects.create(proposal=history.harvest_2026.proposal, proposal_version=1, owner=history.alex_owner,
                            user=history.alex, decision="approve", comment="ok")
    rows = api.get(base(history) + "proposals/?status=executed").json()["results"]
    assert [r["sell_ticker"] for r in rows] == ["VEA", "VTI"]
    assert rows[0]["execution"]["switch_back_on"] == "2026-04-02" and rows[0]["tax_value"] == "0.00"
    approvals = api.get(base(history) + "approvals/").json()["results"]
    assert [(a["user"], a["decision"], a["proposal_version"]) for a in approvals] == [("alex", "approve", 1)]


def test_tax_projections_and_measures(history, api):
    rows = api.get(base(history) + "tax-projections/?year=2026").json()
    joint = next(r for r in rows if r["label"] == "Alex & Jordan")
    assert joint["available"] and joint["owners"] == sorted([history.alex_owner.pk, history.jordan_owner.pk])
    assert Decimal(joint["effect"]) > 0 and joint["offset_used"] == "911.00"
    assert joint["after"]["carryforward_st_next"] == "0.00"
    none = api.get(base(history) + "tax-projections/?year=2025").json()
    assert any(r["label"] == "Alex" and r["available"] for r in none)
    measures = api.get(base(history) + "measures/").json()
    assert measures["harvest_source"] == "executions"
    y2026 = next(y for y in measures["years"] if y["year"] == 2026)
    assert (y2026["harvested"], y2026["deferred"], y2026["permanent"], y2026["harvesting_yield"]) == (
        "30.00", "40.00", "30.00", "1.76")


def test_calendar_events(history, api):
    rows = api.get(base(history) + "calendar/?start=2026-03-01&end=2026-04-30").json()
    assert [(r["day"], r["kind"]) for r in rows] == [("2026-04-01", "wash_window"), ("2026-04-02", "switch_back")]
    bad = api.get(base(history) + "calendar/?start=2026-05-01&end=2026-04-30")
    assert bad.status_code == 400 and bad.json()["fields"] == {"end": ["must not be before start"]}


def test_form8949_csv_with_a_token(history, api):
    response = api.get(base(history) + "form8949.csv?year=2026")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("owners,part,box,description") and len(lines) == 3


def test_every_list_is_scoped_to_the_callers_households(history):
    api = APIClient()
    api.force_authenticate(history.chen)
    for path in ("owners/", "accounts/", "open-lots/", "transactions/", "disposals/", "wash-sale-adjustments/",
                 "proposals/", "approvals/", "tax-projections/", "measures/", "calendar/", "form8949.csv"):
        response = api.get(base(history) + path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "No such household", "code": "not_found"}, path


def test_a_filter_naming_another_households_account_is_refused(history, api):
    response = api.get(base(history) + f"disposals/?account={history.chen_account.pk}")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "account: not an account of this household", "code": "invalid",
        "fields": {"account": ["not an account of this household"]}}
    assert api.get(base(history) + "disposals/?year=20260").json()["code"] == "invalid"
    assert api.get(base(history) + "disposals/?term=medium").status_code == 400


def test_errors_have_one_shape(history):
    # Session authentication comes first, so DRF answers 403 rather than 401 (no WWW-Authenticate scheme).
    anonymous = APIClient().get(base(history) + "disposals/")
    assert anonymous.status_code == 403 and anonymous.json()["code"] == "not_authenticated"
    bad_token = APIClient(HTTP_AUTHORIZATION="Token nope").get(base(history))
    assert bad_token.status_code == 403 and bad_token.json() == {"detail": "Invalid token.", "code": "authentication_failed"}


def test_the_api_token_lookup_answers_as_drfs_does(history):
    from rest_framework.authentication import TokenAuthentication
    from rest_framework.exceptions import AuthenticationFailed

    from reporting.api_auth import ApiTokenAuthentication

    token = Token.objects.create(user=history.reporter)
    user, auth = ApiTokenAuthentication().authenticate_credentials(token.key)
    assert (user.pk, user.username, auth.key, auth.user_id, auth.created) == (
        history.reporter.pk, "reporter", token.key, history.reporter.pk, token.created)
    assert (user.date_joined, user.is_active, user.is_staff) == (history.reporter.date_joined, True, False)  # deferred
    assert isinstance(ApiTokenAuthentication(), TokenAuthentication)  # TokensAreReadOnly's check
    for key, message in [("nope", "Invalid token."), ("a\x00b", "Invalid token.")]:
        with pytest.raises(AuthenticationFailed, match=message):
            ApiTokenAuthentication().authenticate_credentials(key)
    history.reporter.is_active = False
    history.reporter.save()
    with pytest.raises(AuthenticationFailed, match="User inactive or deleted."):
        ApiTokenAuthentication().authenticate_credentials(token.key)


def test_tokens_are_read_only(history, api):
    rotate = api.post("/api/token/rotate/")
    assert rotate.status_code == 403 and rotate.json()["code"] == "permission_denied"
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=history.chen).key)
    # A write through a token: 403 to a member, the usual 404 to a stranger.
    assert api.post(f"/api/households/{history.household.pk}/policy/acknowledge/", {}).status_code == 403
    assert stranger.post(f"/api/households/{history.household.pk}/policy/acknowledge/", {}).status_code == 404


def test_a_token_can_be_rotated_in_the_browser_and_revoked_by_itself(history, api):
    from harvester.models import AuditEvent

    session = APIClient()
    sign_in(session, history.reporter)
    old = Token.objects.get(user=history.reporter).key
    made = session.post("/api/token/rotate/")
    assert made.status_code == 201 and made.json()["key"] != old
    assert api.get(base(history)).json()["code"] == "authentication_failed"  # the old token is gone
    fresh = APIClient(HTTP_AUTHORIZATION="Token " + made.json()["key"])
    assert fresh.get("/api/token/").json()["hint"] == made.json()["key"][-4:]
    assert fresh.delete("/api/token/").status_code == 204
    assert fresh.get(base(history)).status_code == 403
    assert set(AuditEvent.objects.filter(actor=history.reporter).values_list("action", flat=True)) >= {
        "auth.api_token.rotate", "auth.api_token.revoke"}


def test_it_throttles_with_retry_after(history, api, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": "3/minute"})
    cache.clear()
    codes = [api.get(base(history)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    last = api.get(base(history))
    assert last.json()["code"] == "throttled" and int(last["Retry-After"]) > 0
    cache.clear()


def queries(client, address):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(address).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("path", ["open-lots/", "disposals/", "transactions/", "wash-sale-adjustments/",
                                  "proposals/", "accounts/"])
def test_a_page_costs_the_same_queries_whatever_its_size(history, api, path, django_assert_max_num_queries):
    from tests.reporting.test_dashboard_pages import add_sales

    add_sales(history, 30)
    small = queries(api, base(history) + path + "?limit=1")
    large = queries(api, base(history) + path + "?limit=200")
    assert small == large
    with django_assert_max_num_queries(7):
        api.get(base(history) + path + "?limit=200")


def test_the_docs_page_links_the_schema_and_needs_no_cdn(client):
    page = client.get("/api/docs/").content.decode()
    assert 'href="/api/schema/"' in page and "/api/households/{household_id}/open-lots/" in page
    assert "cdn" not in page.lower() and "swagger" not in page.lower()
    assert client.get("/api/schema/").status_code == 200


def test_the_access_page_shows_a_new_api_token_once(history, client):
    sign_in(client, history.alex)
    page = client.post("/reporting/access/", {"action": "api-rotate"}).content.decode()
    key = Token.objects.get(user=history.alex).key
    assert f'<code id="api-token-key">{key}</code>' in page
    assert key not in client.get("/reporting/access/").content.decode()
    client.post("/reporting/access/", {"action": "api-revoke"})
    assert not Token.objects.filter(user=history.alex).exists()

"""The onboarding API: preview and commit an import, prices, scheduled purchases; advisor-only writes."""

import inspect
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.views import APIView

from lots import onboarding_api
from lots.models import Price, ScheduledPurchase, Transaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(world):
    client = APIClient()
    client.force_authenticate(world.advisor)
    return client


def test_it_previews_then_commits_an_import(world, api, fixture_text):
    base = f"/api/households/{world.household.pk}/imports/"
    response = api.post(f"{base}preview/", {"account": world.alex_ind.pk, "file": SimpleUploadedFile(
        "t.csv", fixture_text("generic_trades.csv").encode())}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "previewed" and body["summary"]["transactions"] == 5 and not Transaction.objects.exists()
    wrong = api.post(f"{base}{body['id']}/commit/", {"sha256": "0" * 64}, format="json")
    assert wrong.status_code == 400 and "sha256" in str(wrong.json())
    done = api.post(f"{base}{body['id']}/commit/", {"sha256": body["sha256"]}, format="json")
    assert done.status_code == 200 and done.json()["transactions"] == 5 and done.json()["lots"] == 4
    assert Transaction.objects.count() == 5
    assert api.get(f"{base}{body['id']}/").json()["status"] == "committed"
    assert [b["id"] for b in api.get(base).json()] == [body["id"]]


def test_it_previews_again_with_the_account_in_the_file(world, api, fixture_text):
    base = f"/api/households/{world.household.pk}/imports/"
    body = api.post(f"{base}preview/", {"account": world.joint.pk, "file": SimpleUploadedFile(
        "f.csv", fixture_text("fidelity_all_accounts.csv").encode())}, format="multipart").json()
    assert body["status"] == "refused" and "holds 3 accounts" in body["summary"]["errors"][0]
    again = api.post(f"{base}{body['id']}/repreview/", {"source_account": "333333333"}, format="json").json()
    assert again["status"] == "previewed" and again["summary"]["transactions"] == 2


def test_only_the_advisor_imports(world, fixture_text):
    for user in (world.alex, world.reporter):
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(f"/api/households/{world.household.pk}/imports/preview/", {
            "account": world.alex_ind.pk, "file": SimpleUploadedFile("t.csv", b"x")}, format="multipart")
        assert response.status_code == 403
    client = APIClient()
    client.force_authenticate(world.chen)
    assert client.get(f"/api/households/{world.household.pk}/imports/").status_code == 404


def test_an_account_of_another_household_is_refused(world, api, fixture_text):
    response = api.post(f"/api/households/{world.household.pk}/imports/preview/", {
        "account": world.chen_account.pk, "file": SimpleUploadedFile("t.csv", b"date")}, format="multipart")
    assert response.status_code == 400 and "no such account in this household" in str(response.json())


def test_prices_are_uploaded_and_their_staleness_read(world, api):
    world.trade(world.alex_ind, "VTI", "2024-01-02", "buy", "1", "200")
    today = timezone.localdate()
    old = today - timedelta(days=20)
    response = api.post(f"/api/households/{world.household.pk}/prices/import/", {"file": SimpleUploadedFile(
        "VTI.csv", f"Date,Open,High,Low,Close,Adj Close,Volume\n{old},1,1,1,250.5,249,10\n".encode())},
        format="multipart")
    assert response.status_code == 200 and response.json()["created"] == 1 and response.json()["source"] == "yahoo"
    status = api.get(f"/api/households/{world.household.pk}/prices/").json()
    assert status[0]["ticker"] == "VTI" and status[0]["stale"] is True and "trading days before" in status[0]["message"]
    bad = api.post(f"/api/households/{world.household.pk}/prices/import/", {"file": SimpleUploadedFile(
        "p.csv", b"date,ticker,close\n2026-01-02,VTI,abc\n")}, format="multipart")
    assert bad.status_code == 400 and "row 2, column 'close'" in str(bad.json())
    assert Price.objects.count() == 1


def test_scheduled_purchases_are_created_listed_changed_and_removed(world, api):
    base = f"/api/households/{world.household.pk}/scheduled-purchases/"
    today = timezone.localdate()
    created = api.post(f"{base}create/", {"account": world.alex_ira.pk, "ticker": "vti", "kind": "drip",
                                          "frequency": "quarterly", "start_date": str(today)}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["ticker"] == "VTI" and body["amount"] is None and len(body["next_dates"]) == 3
    refused = api.post(f"{base}create/", {"account": world.alex_ira.pk, "ticker": "VTI", "kind": "contribution",
                                          "frequency": "monthly", "start_date": str(today)}, format="json")
    assert refused.status_code == 400 and "needs its amount" in str(refused.json())
    pause = today + timedelta(days=45)
    changed = api.patch(f"{base}{body['id']}/update/", {"paused_until": str(pause)}, format="json")
    assert changed.status_code == 200 and changed.json()["paused_until"] == str(pause)
    assert all(d >= str(pause) for d in changed.json()["dates_next_30_days"])
    assert [p["id"] for p in api.get(base).json()] == [body["id"]]
    reader = APIClient()
    reader.force_authenticate(world.reporter)
    assert reader.get(base).status_code == 200
    assert reader.post(f"{base}{body['id']}/delete/").status_code == 403
    assert api.delete(f"{base}{body['id']}/delete/").status_code == 204 and not ScheduledPurchase.objects.exists()
    assert api.post(f"{base}{body['id']}/delete/").status_code == 404


def test_every_onboarding_api_view_goes_through_the_access_layer():
    views = [v for v in vars(onboarding_api).values()
             if isinstance(v, type) and issubclass(v, APIView) and v.__module__ == onboarding_api.__name__]
    assert len(views) == 11
    for view in views:
        assert "access_household" in inspect.getsource(view), view.__name__

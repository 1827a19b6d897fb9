"""The onboarding pages: upload -> preview -> confirm, prices, scheduled purchases, the transactions export."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from harvester.models import AuditEvent
from lots.models import ImportBatch, Price, ScheduledPurchase, Security, Transaction
from tests.signin import sign_in

pytestmark = pytest.mark.django_db


def upload(name, text):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_an_advisor_uploads_previews_and_confirms(world, client, fixture_text):
    sign_in(client, world.advisor)
    url = f"/households/{world.household.pk}/imports/"
    response = client.post(url, {"account": world.alex_ind.pk, "format": "auto",
                                 "file": upload("trades.csv", fixture_text("generic_trades.csv"))})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{url}{batch.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert 'data-count="transactions">5<' in page and 'data-count="lots">4<' in page
    assert "Confirm: import 5 transactions into Alex individual" in page and not Transaction.objects.exists()
    response = client.post(f"{url}{batch.pk}/confirm/", {"sha256": batch.sha256}, follow=True)
    assert "Imported 5 transactions (4 lots)" in response.content.decode()
    assert Transaction.objects.count() == 5
    assert client.get(url).status_code == 200 and "trades.csv" in client.get(url).content.decode()


def test_a_refused_file_shows_why_and_offers_no_confirm(world, client, fixture_text):
    sign_in(client, world.advisor)
    url = f"/households/{world.household.pk}/imports/"
    response = client.post(url, {"account": world.alex_ind.pk, "format": "auto",
                                 "file": upload("bad.csv", fixture_text("generic_bad.csv"))}, follow=True)
    page = response.content.decode()
    assert "row 4, column &#x27;quantity&#x27;: negative quantity -4" in page
    assert "Confirm:" not in page


def test_a_binary_upload_is_refused_at_once(world, client):
    sign_in(client, world.advisor)
    response = client.post(f"/households/{world.household.pk}/imports/", {
        "account": world.alex_ind.pk, "format": "auto", "file": SimpleUploadedFile("x.xlsx", b"PK\x03\x04abc")})
    assert response.status_code == 400 and "Excel workbook" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_preview_again_with_the_account_in_the_file_is_an_htmx_swap(world, client, fixture_text):
    sign_in(client, world.advisor)
    url = f"/households/{world.household.pk}/imports/"
    client.post(url, {"account": world.joint.pk, "format": "auto",
                      "file": upload("all.csv", fixture_text("fidelity_all_accounts.csv"))})
    batch = ImportBatch.objects.get()
    assert batch.status == "refused"
    response = client.post(f"{url}{batch.pk}/", {"account": world.joint.pk, "source_account": "333333333"},
                           HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200 and '<section id="preview"' in page
    assert "<html" not in page and 'data-count="transactions">2<' in page


def test_members_cannot_import(world, client):
    sign_in(client, world.alex)
    assert client.get(f"/households/{world.household.pk}/imports/").status_code == 403
    sign_in(client, world.reporter)
    assert client.post(f"/households/{world.household.pk}/imports/", {}).status_code == 403


def test_the_prices_page_shows_staleness_and_takes_an_upload(world, client, fixture_text):
    world.trade(world.alex_ind, "VTI", "2024-01-02", "buy", "1", "200")
    world.trade(world.alex_ind, "BND", "2024-01-02", "buy", "1", "70")
    today = timezone.localdate()
    world.price("VTI", str(today - timedelta(days=30)), "250")
    sign_in(client, world.alex)
    page = client.get(f"/households/{world.household.pk}/prices/").content.decode()
    assert 'data-ticker="VTI" data-stale="yes"' in page and 'data-ticker="BND" data-stale="yes"' in page
    assert client.post(f"/households/{world.household.pk}/prices/", {}).status_code == 403
    sign_in(client, world.advisor)
    rows = f"date,ticker,close\n{today},VTI,301.10\n{today},BND,72.11\n{today},ZZZZ,1\n"
    response = client.post(f"/households/{world.household.pk}/prices/", {"file": upload("p.csv", rows)})
    page = response.content.decode()
    assert "Stored 2 new closes" in page and "ZZZZ (1)" in page
    assert 'data-ticker="VTI" data-stale="no"' in page
    assert Price.objects.get(security__ticker="VTI", date=today).close == D("301.10")


def test_the_scheduled_page_lists_next_dates_and_the_advisor_edits(world, client):
    sign_in(client, world.advisor)
    url = f"/households/{world.household.pk}/scheduled/"
    vti = Security.objects.get(ticker="VTI")
    today = timezone.localdate()
    response = client.post(url, {"account": world.alex_ind.pk, "security": vti.pk, "kind": "contribution",
                                 "frequency": "monthly", "amount": "500", "start_date": today.isoformat(),
                                 "active": "on"})
    assert response.status_code == 302
    purchase = ScheduledPurchase.objects.get()
    page = client.get(url).content.decode()
    assert f'data-id="{purchase.pk}"' in page and ('data-in-window="1"' in page or 'data-in-window="2"' in page)
    response = client.post(url, {"account": world.alex_ind.pk, "security": vti.pk, "kind": "drip",
                                 "frequency": "quarterly", "amount": "5", "start_date": today.isoformat()})
    assert response.status_code == 400 and "leave the amount blank" in response.content.decode()
    pause = (today + timedelta(days=60)).isoformat()
    response = client.post(f"{url}{purchase.pk}/edit/", {
        "account": world.alex_ind.pk, "security": vti.pk, "kind": "contribution", "frequency": "monthly",
        "amount": "500", "start_date": today.isoformat(), "paused_until": pause, "active": "on"})
    assert response.status_code == 302
    purchase.refresh_from_db()
    assert purchase.paused_until == date.fromisoformat(pause)
    assert AuditEvent.objects.filter(action="scheduled_purchase.update").exists()
    sign_in(client, world.alex)
    assert client.get(url).status_code == 200
    assert client.post(f"{url}{purchase.pk}/delete/").status_code == 403
    sign_in(client, world.advisor)
    assert client.post(f"{url}{purchase.pk}/delete/").status_code == 302 and not ScheduledPurchase.objects.exists()
    assert client.post(f"{url}{purchase.pk}/delete/").status_code == 404


def test_the_export_escapes_formulas_and_re_imports_to_nothing(world, client, fixture_text):
    from lots import imports
    from lots.imports import ImportOptions

    world.alex_ind.name = "=HYPERLINK(\"x\")"
    world.alex_ind.save()
    batch = imports.import_preview(account=world.alex_ind, text=fixture_text("generic_trades.csv"), file_name="t.csv",
                                   actor=world.advisor, options=ImportOptions())
    imports.import_commit(household=world.household, batch_id=batch.pk, sha256=batch.sha256, actor=world.advisor)
    sign_in(client, world.alex)
    body = client.get(f"/households/{world.household.pk}/transactions.csv").content.decode()
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body
    again = imports.import_preview(account=world.alex_ind, text=body, file_name="export.csv", actor=world.advisor,
                                   options=ImportOptions())
    assert (again.summary["transactions"], again.summary["duplicates"]) == (0, 5)


def test_the_household_page_links_the_onboarding_pages(world, client):
    sign_in(client, world.advisor)
    page = client.get(f"/households/{world.household.pk}/").content.decode()
    assert f"/households/{world.household.pk}/imports/" in page and f"/households/{world.household.pk}/scheduled/" in page
    sign_in(client, world.alex)
    page = client.get(f"/households/{world.household.pk}/").content.decode()
    assert f"/households/{world.household.pk}/imports/" not in page

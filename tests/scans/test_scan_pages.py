"""Scan now (advisor only), live progress, the proposals on the page and over the API; strangers get 404."""

import pytest
import time_machine
from rest_framework.test import APIClient

from harvester.models import HarvestScan
from tests.scans.conftest import SCAN_DATE
from tests.signin import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def scan_day():
    with time_machine.travel("2026-12-10 18:00 -05:00", tick=True):
        yield


def scan_url(harvest):
    return f"/households/{harvest.household.pk}/scan/"


def test_the_household_page_loads_the_scan_panel_lazily(harvest, client, django_assert_max_num_queries):
    sign_in(client, harvest.world.alex)
    page = client.get(f"/households/{harvest.household.pk}/").content.decode()
    assert f'hx-get="{scan_url(harvest)}"' in page and 'hx-trigger="load"' in page
    with django_assert_max_num_queries(12):
        panel = client.get(scan_url(harvest), HTTP_HX_REQUEST="true").content.decode()
    assert panel.lstrip().startswith('<section id="scan-panel"') and "No scan yet" in panel
    assert "Scan now" not in panel  # a member reads; only the advisor scans


def test_an_advisor_scans_now_and_follows_the_progress(harvest, client):
    from harvester import scanning

    sign_in(client, harvest.world.advisor)
    panel = client.get(scan_url(harvest), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="scan-now"' in panel
    response = client.post(scan_url(harvest), HTTP_HX_REQUEST="true")
    scan = HarvestScan.objects.get()
    assert response.status_code == 200 and scan.started_by == harvest.world.advisor and scan.as_of == SCAN_DATE
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html and f'hx-get="/scans/{scan.pk}/"' in html and "waiting for a worker" in html

    scanning.scan_run(scan_id=scan.pk)  # what the worker does
    status = client.get(f"/scans/{scan.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert status.lstrip().startswith('<div id="scan-status"') and "every 1s" not in status  # polling stops
    assert "2 new proposals" in status and status.count('class="proposal"') == 2
    assert "harvesting defers tax, it does not erase it" in status
    for words in ("Why these lots", "Why this account", "Why this replacement", "✓ Passed", "Tax value now",
                  "Basis reduction it leaves", "Trading cost", "Sell 100 VTI in Alex individual".lower()):
        assert words.lower() in status.lower(), words


def test_scan_now_without_htmx_redirects_to_the_scan_page(harvest, client):
    sign_in(client, harvest.world.advisor)
    response = client.post(scan_url(harvest))
    scan = HarvestScan.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/scans/{scan.pk}/"
    page = client.get(f"/scans/{scan.pk}/").content.decode()
    assert f"Harvest scan #{scan.pk}" in page and "<progress" in page


@pytest.mark.parametrize("who", ["alex", "taylor", "reporter"])
def test_only_the_advisor_may_scan(harvest, client, who):
    sign_in(client, getattr(harvest.world, who))
    assert client.post(scan_url(harvest)).status_code == 403
    assert not HarvestScan.objects.exists()


def test_a_stranger_gets_404_for_the_scan_the_panel_and_a_proposal(harvest, client):
    scan = harvest.scan()
    proposal = harvest.open_proposals().first()
    sign_in(client, harvest.world.chen)
    for url in (scan_url(harvest), f"/scans/{scan.pk}/", f"/households/{harvest.household.pk}/scan/proposals/{proposal.pk}/"):
        assert client.get(url).status_code == 404, url
    assert client.post(scan_url(harvest)).status_code == 404
    # A proposal of another household is not found through one's own household either.
    sign_in(client, harvest.world.chen)
    assert client.get(f"/households/{harvest.world.other_household.pk}/scan/proposals/{proposal.pk}/").status_code == 404


def test_the_proposal_page_shows_lots_figures_and_the_approval_link(harvest, client):
    harvest.scan()
    vti = harvest.open_proposals().get(sell_security__ticker="VTI")
    sign_in(client, harvest.world.jordan)
    page = client.get(f"/households/{harvest.household.pk}/scan/proposals/{vti.pk}/").content.decode()
    assert f"#{harvest.vti.pk}" in page and "Long-term" in page and "$5,000.00" in page and "$20,000.00" in page
    assert "Do not buy VTI or a fund tracking the same index anywhere in the household for 30 days" in page


def test_the_scans_page_lists_history_and_superseded_proposals(harvest, client):
    harvest.scan()
    harvest.prices({"VEA": "59"})
    harvest.scan()
    sign_in(client, harvest.world.advisor)
    page = client.get(scan_url(harvest)).content.decode()
    assert "Scan history" in page and "Earlier proposals" in page and "Superseded" in page


# ---- the API


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_starts_a_scan_for_the_advisor_only(harvest):
    w = harvest.world
    url = f"/api/households/{harvest.household.pk}/scans/"
    response = api(w.advisor).post(url)
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert response.json()["id"] == HarvestScan.objects.get().pk
    assert api(w.alex).post(url).status_code == 403
    assert api(w.reporter).post(url).status_code == 403
    assert api(w.chen).post(url).status_code == 404


def test_the_api_shows_a_scan_and_the_proposals_to_the_household_only(harvest):
    w = harvest.world
    scan = harvest.scan()
    body = api(w.reporter).get(f"/api/scans/{scan.pk}/").json()
    assert body["status"] == "done" and body["proposals_created"] == 2 and body["household"] == harvest.household.pk
    assert api(w.chen).get(f"/api/scans/{scan.pk}/").status_code == 404
    # The proposals are read through the reporting API (harvester/api.py), scoped the same way.
    proposals = api(w.reporter).get(f"/api/households/{harvest.household.pk}/proposals/").json()["results"]
    assert sorted(p["sell_ticker"] for p in proposals) == ["VEA", "VTI"]
    vti = next(p for p in proposals if p["sell_ticker"] == "VTI")
    assert vti["loss_long_term"] == "5000.00" and vti["buy_ticker"] == "ITOT" and vti["status"] == "proposed"
    assert api(w.chen).get(f"/api/households/{harvest.household.pk}/proposals/").status_code == 404

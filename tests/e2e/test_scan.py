"""In a real headless Chromium, with a real Celery worker: the advisor clicks "Scan now" on the household
page, watches the progress, and sees the proposals appear with their explanation."""

import pytest
from django.utils import timezone

from tests.e2e.test_browser import login
from tests.scans.conftest import Harvest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_advisor_scans_now_and_sees_the_proposals(world, live_server, page, celery_worker_thread, tmp_path):
    harvest = Harvest(world, scan_date=timezone.localdate())
    login(page, live_server.url, "advisor")
    page.goto(f"{live_server.url}/households/{world.household.pk}/")
    button = page.locator("#scan-now")  # the scan panel loads lazily (htmx)
    button.wait_for(timeout=10_000)
    assert "No scan yet" in page.locator("#scan-panel").inner_text()

    button.click()
    page.wait_for_selector("#scan-status[data-status='done']", timeout=30_000)
    cards = page.locator("#proposals article.proposal")
    assert cards.count() == 2
    vti = page.locator("#proposals article.proposal[data-ticker=VTI]")
    text = vti.inner_text()
    assert "sell 100 VTI in Alex individual, buy $20,000.00 of ITOT" in text
    assert "$5,000.00" in text and "Tax value now" in text and "Basis reduction it leaves" in text
    vti.locator("summary").click()
    assert "Why this replacement" in vti.inner_text() and "✓ Passed" in vti.inner_text()
    assert "harvesting defers tax, it does not erase it" in page.locator("#proposals").inner_text()
    page.screenshot(path=str(tmp_path / "scan.png"), full_page=True)
    assert harvest.open_proposals().count() == 2


def test_a_member_sees_no_scan_button(world, live_server, page):
    Harvest(world, scan_date=timezone.localdate())
    login(page, live_server.url, "alex")
    page.goto(f"{live_server.url}/households/{world.household.pk}/")
    page.wait_for_selector("#scan-panel #scan-status")
    assert page.locator("#scan-now").count() == 0

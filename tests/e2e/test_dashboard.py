"""In a real headless Chromium: the dashboard's charts render, and the drill-down and year links swap
only their region through htmx while keeping a shareable address."""

import pytest

from tests.e2e.test_browser import login
from tests.reporting.conftest import execute, profile

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def harvested(world):
    from lots.ledger import ledger_recompute

    w = world
    w.trade(w.joint, "VTI", "2024-01-02", "buy", "2", "200")
    w.trade(w.alex_ind, "VEA", "2025-01-06", "buy", "10", "50")
    sale = w.trade(w.alex_ind, "VEA", "2025-03-03", "sell", "10", "40")
    buy = w.trade(w.alex_ind, "IEFA", "2025-03-03", "buy", "5", "80", seq=1)
    w.trade(w.joint, "VTI", "2025-06-02", "sell", "2", "260")
    w.price("VTI", "2024-12-31", "240")
    w.price("IEFA", "2025-11-20", "82")
    ledger_recompute(household_id=w.household.pk)
    execute(w, sale, buy)
    profile(w.alex_owner, 2025, "mfj", "150000")
    profile(w.jordan_owner, 2025, "mfj", "50000")
    return w


def test_the_dashboard_drills_down_in_place(harvested, live_server, page, tmp_path):
    w = harvested
    login(page, live_server.url, "alex")
    page.wait_for_url(f"{live_server.url}/households/{w.household.pk}/")
    page.goto(f"{live_server.url}/households/{w.household.pk}/dashboard/?year=2025")
    assert page.locator("svg.chart").count() == 4
    assert page.locator("#table-harvested tr[data-year='2025']").inner_text().split("\t")[1] == "$100.00"
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    page.click("#drill-groups >> text=Alex")  # owner group -> accounts, swapped by htmx
    page.wait_for_selector("#drill[data-level='accounts']")
    assert page.url.endswith("/dashboard/?year=2025")  # the drill-down does not push a new address
    page.click("#drill-accounts >> text=Alex individual")
    page.wait_for_selector("#drill[data-level='sales']")
    row = page.locator("#drill-sales tr.sale-row").first
    assert "VEA" in row.inner_text() and "harvest" in row.inner_text()
    assert page.locator("h1").count() == 1  # a region swap, not a page inside the page

    page.click("#years >> text=2026")  # the year swaps the focus region and pushes the address
    page.wait_for_selector("#focus[data-year='2026']")
    assert page.url.endswith("?year=2026")
    page.screenshot(path=str(tmp_path / "dashboard-2026.png"), full_page=True)

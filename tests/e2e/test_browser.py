"""In a real headless Chromium: log in, open the household, see the lots; the htmx filter swaps them."""


import pytest

from lots.ledger import ledger_recompute

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    """The login form, then the code step for a user with a second factor (advisors are given one)."""
    from django.contrib.auth import get_user_model

    from accounts import mfa
    from tests.signin import totp_code, totp_device

    user = get_user_model().objects.get(username=username)
    if mfa.mfa_required(user):
        totp_device(user)
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("button[type=submit]")
    if mfa.has_second_factor(user):
        page.wait_for_url(f"{base}/login/verify/**")
        page.fill("#id_code", totp_code(user))
        page.click("button:has-text('Continue')")
    page.wait_for_url(lambda url: "/login/" not in url)


def test_a_member_logs_in_and_sees_the_lots(world, live_server, page, tmp_path):
    world.trade(world.alex_ind, "VTI", "2024-03-01", "buy", "10", "200")
    world.trade(world.joint, "VEA", "2025-06-02", "buy", "20", "50")
    world.price("VTI", "2026-11-20", "180.00")
    world.price("VEA", "2026-11-20", "55.00")
    ledger_recompute(household_id=world.household.pk)

    login(page, live_server.url, "alex")
    page.wait_for_url(f"{live_server.url}/households/{world.household.pk}/")
    assert page.locator("h1").inner_text() == "Morgan household"
    rows = page.locator("#lots tr.lot-row")
    assert rows.count() == 2
    vti = page.locator("#lots tr.lot-row[data-ticker=VTI]")
    assert "−$200.00" in vti.inner_text() and "Long-term" in vti.inner_text()

    # The htmx filter swaps only the lots table and keeps the URL shareable.
    page.click("nav.filters >> text=Joint")
    page.wait_for_selector("#lots[data-lot-count='1']")
    assert page.locator("#lots tr.lot-row").first.get_attribute("data-ticker") == "VEA"
    assert page.url.endswith(f"?account={world.joint.pk}")
    page.screenshot(path=str(tmp_path / "household.png"), full_page=True)


def test_a_stranger_sees_not_found(world, live_server, page):
    login(page, live_server.url, "chen")
    response = page.goto(f"{live_server.url}/households/{world.household.pk}/")
    assert response.status == 404

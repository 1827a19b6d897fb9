"""In a real headless Chromium: the account page's lots table pages in place. "Next" swaps in the second
page of the account's lots through htmx (the rest of the page stays) and pushes the page's address."""

import pytest

from tests.accounts.lot_factory import add_lots, priced
from tests.e2e.test_browser import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_next_swaps_in_the_second_page_of_the_accounts_lots(world, live_server, page, tmp_path):
    priced(world)
    add_lots(world, 150, accounts=(world.joint,))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)

    login(page, live_server.url, "alex")
    page.wait_for_url(f"{live_server.url}/households/{world.household.pk}/")
    address = f"/households/{world.household.pk}/accounts/{world.joint.pk}/"
    page.goto(live_server.url + address)
    assert page.locator("#lots tr.lot-row").count() == 100
    first_page = page.locator("#lots tbody").inner_text()
    page.locator("#transactions").evaluate("el => el.dataset.marker = 'kept'")  # gone if the page reloads

    page.click("#lots nav >> text=Next")
    page.wait_for_selector("#lots[data-page='2']")
    assert page.locator("#lots tr.lot-row").count() == 50
    assert page.locator("#lots tbody").inner_text() != first_page
    assert "Lots 101–150 of 150" in page.locator("#lots nav").inner_text()
    assert page.locator("#transactions[data-marker='kept']").count() == 1  # swapped in place, not reloaded
    assert page.locator("h1").count() == 1
    assert page.url.endswith(f"{address}?page=2")
    page.screenshot(path=str(tmp_path / "account-lots-page-2.png"), full_page=True)

    page.click("#lots nav >> text=Previous")
    page.wait_for_selector("#lots[data-page='1']")
    assert page.locator("#lots tbody").inner_text() == first_page
    assert errors == []

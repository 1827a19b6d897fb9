"""In a real headless Chromium: the household page's lots table pages in place. "Next" swaps in the second
page of lots through htmx (the rest of the page stays) and pushes the page's address; "Previous" goes back."""

import pytest

from tests.accounts.lot_factory import add_lots, priced
from tests.e2e.lots_pager import check_the_lots_pager
from tests.e2e.test_browser import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_next_swaps_in_the_second_page_of_lots(world, live_server, page, tmp_path):
    priced(world)
    add_lots(world, 150)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)

    login(page, live_server.url, "alex")
    page.wait_for_url(f"{live_server.url}/households/{world.household.pk}/")
    check_the_lots_pager(page, f"/households/{world.household.pk}/", "#positions", tmp_path / "household-lots-page-2.png")
    assert errors == []

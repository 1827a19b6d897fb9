"""The lots table's pager in a real browser, shared by the household page's and the account page's tests:
"Next" swaps in the second page of 150 lots through htmx (the element `kept` stays: no reload) and pushes
the page's address; "Previous" goes back."""


def check_the_lots_pager(page, address: str, kept: str, screenshot) -> None:
    assert page.locator("#lots tr.lot-row").count() == 100
    first_page = page.locator("#lots tbody").inner_text()
    page.locator(kept).evaluate("el => el.dataset.marker = 'kept'")  # gone if the page reloads

    page.click("#lots nav >> text=Next")
    page.wait_for_selector("#lots[data-page='2']")
    assert page.locator("#lots tr.lot-row").count() == 50
    assert page.locator("#lots tbody").inner_text() != first_page
    assert "Lots 101–150 of 150" in page.locator("#lots nav").inner_text()
    assert page.locator(f"{kept}[data-marker='kept']").count() == 1  # swapped in place, not reloaded
    assert page.locator("h1").count() == 1
    assert page.url.endswith(f"{address}?page=2")
    page.screenshot(path=str(screenshot), full_page=True)

    page.click("#lots nav >> text=Previous")
    page.wait_for_selector("#lots[data-page='1']")
    assert page.locator("#lots tbody").inner_text() == first_page

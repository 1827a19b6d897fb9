"""In a real headless Chromium: the Content-Security-Policy blocks nothing the pages need. The advisor logs
in (password, then the TOTP code), opens every page a household has, the account pages and the
browsable API, and the test fails on any CSP violation Chromium reports in the console."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from lots.ledger import ledger_recompute
from tests.approvals.factories import acknowledged_policy, make_proposal
from tests.e2e.test_browser import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SKIP = (".csv", ".ics", "logout/", "api/schema/", "inbox/read/", "acknowledge/")


def household_pages(world, proposal):
    """Every page route without an id, or with the household's, an account's or the proposal's."""
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if "admin" not in str(p.pattern):
                    walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                route = route.replace("<int:household_id>", str(world.household.pk))
                route = route.replace("<int:account_id>", str(world.alex_ind.pk))
                route = route.replace("<int:proposal_id>", str(proposal.pk))
                if "<" in route or route.startswith("api/") or route.endswith(SKIP):
                    continue
                found.append("/" + route)

    walk(get_resolver().url_patterns)
    return sorted(set(found))


def test_no_page_breaks_the_content_security_policy(world, live_server, page):
    world.trade(world.alex_ind, "VTI", "2024-03-01", "buy", "10", "200")
    world.trade(world.joint, "VEA", "2025-06-02", "buy", "20", "50")
    world.trade(world.joint, "VEA", "2025-07-01", "sell", "5", "45")
    world.price("VTI", "2026-11-20", "180.00")
    world.price("VEA", "2026-11-20", "55.00")
    ledger_recompute(household_id=world.household.pk)
    acknowledged_policy(world)
    proposal = make_proposal(world, world.joint)

    violations, errors = [], []
    page.on("console", lambda m: violations.append(f"{page.url}: {m.text}")
            if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))

    base = live_server.url
    login(page, base, "advisor")  # the login and code pages are checked on the way
    urls = household_pages(world, proposal)
    assert f"/households/{world.household.pk}/dashboard/" in urls and "/account/security/" in urls
    urls += [f"/proposals/{proposal.pk}/", "/api/households/", "/login/verify/"]
    visited = 0
    for url in urls:
        if page.request.get(base + url, max_redirects=0).status != 200:
            continue  # a POST-only address (405), or one that redirects to a page visited anyway
        page.goto(base + url)
        page.wait_for_load_state("networkidle")  # htmx panels load after the page
        visited += 1
    assert visited >= 15, urls

    # an owner's inbox: the approve forms (hx-post) and the script that swaps refusals in
    page.goto(base + "/")
    page.click("text=Log out")
    login(page, base, "alex")
    page.goto(f"{base}/inbox/")
    page.wait_for_selector(f"#proposal-{proposal.pk}")
    page.goto(f"{base}/proposals/{proposal.pk}/")
    page.wait_for_load_state("networkidle")
    assert violations == [] and errors == [], "\n".join(violations + errors)

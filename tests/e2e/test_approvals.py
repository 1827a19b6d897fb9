"""In a real headless Chromium: the two owners of a joint account approve a harvest from their inboxes."""

import pytest

from harvester.models import AuditEvent, HarvestProposal
from tests.approvals.factories import acknowledged_policy, make_proposal

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base, username):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/households/**")


def approve_from_the_inbox(page, base, username, proposal):
    card = f"#proposal-{proposal.pk}"
    page.goto(f"{base}/inbox/")
    page.wait_for_selector(card)
    # the first approval in ten minutes asks for the password; a wrong one is refused in place
    page.fill(f"{card} input[name=password]", "not-my-password")
    page.click(f"{card} button[name=approve]")
    page.wait_for_selector(f"{card} .error")
    assert "not right" in page.locator(f"{card} .error").inner_text()
    page.fill(f"{card} input[name=password]", "pw-" + username)
    page.click(f"{card} button[name=approve]")
    page.wait_for_selector(f"{card} .message")
    return page.locator(card)


def test_both_owners_approve_a_joint_harvest_in_the_browser(world, live_server, page, tmp_path):
    acknowledged_policy(world)
    p = make_proposal(world, world.joint)
    base = live_server.url

    login(page, base, "jordan")
    card = approve_from_the_inbox(page, base, "jordan", p)
    assert card.get_attribute("data-status") == "awaiting_approval"
    text = card.inner_text()
    assert "You approved version 1." in text and "Jordan: approved by jordan" in text
    assert "Alex: waiting for alex" in text and "Both owners must approve." in text
    page.screenshot(path=str(tmp_path / "jordan.png"), full_page=True)
    page.click("text=Log out")

    login(page, base, "alex")
    card = approve_from_the_inbox(page, base, "alex", p)
    assert card.get_attribute("data-status") == "approved"
    page.screenshot(path=str(tmp_path / "alex.png"), full_page=True)

    assert HarvestProposal.objects.get(pk=p.pk).status == "approved"
    assert AuditEvent.objects.filter(action="proposal.approve", object_id=str(p.pk)).count() == 2
    page.goto(f"{base}/proposals/{p.pk}/")
    assert page.locator("#decisions tbody tr").count() == 2


def test_guessing_the_password_at_an_approval_signs_the_session_out(world, live_server, page, settings):
    settings.AXES_FAILURE_LIMIT = 2
    acknowledged_policy(world)
    p = make_proposal(world, world.alex_ind)
    base = live_server.url
    card = f"#proposal-{p.pk}"
    login(page, base, "alex")
    page.goto(f"{base}/inbox/")
    page.fill(f"{card} input[name=password]", "a-guess")
    page.click(f"{card} button[name=approve]")
    page.wait_for_selector(f"{card} .error")  # refused in place
    page.fill(f"{card} input[name=password]", "another-guess")
    page.click(f"{card} button[name=approve]")
    # the second wrong password: the page says logins are paused, in place of the inbox
    page.wait_for_selector("#locked-out")
    assert "Login paused" in page.inner_text("body") and page.locator(card).count() == 0
    page.goto(f"{base}/inbox/")
    page.wait_for_url(f"{base}/login/**")  # signed out
    assert HarvestProposal.objects.get(pk=p.pk).status == "awaiting_approval"

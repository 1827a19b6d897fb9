"""The owner inbox and the decision endpoints, as pages (htmx and plain) and over the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from harvester import approvals
from harvester.models import Approval, AuditEvent, HarvestProposal, Notification
from tests.approvals.factories import make_proposal
from tests.signin import sign_in

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def status(p):
    return HarvestProposal.objects.values_list("status", flat=True).get(pk=p.pk)


def confirm(client, user):
    """Confirm the password in the session the way the approve form does (right password, no decision)."""
    session = client.session
    from django.utils import timezone

    session[approvals.PASSWORD_SESSION_KEY] = {"user": user.pk, "at": timezone.now().isoformat()}
    session.save()


def test_the_inbox_lists_what_waits_for_each_person(world, policy, client):
    joint = make_proposal(world, world.joint)
    alex_only = make_proposal(world, world.alex_ind)
    trust = make_proposal(world, world.trust)
    make_proposal(world, world.jordan_ind, status="approved")

    def waiting(user):
        sign_in(client, user)
        page = client.get("/inbox/").content.decode()
        return {p.pk for p in (joint, alex_only, trust) if f'id="proposal-{p.pk}"' in page}

    assert waiting(world.alex) == {joint.pk, alex_only.pk}
    assert waiting(world.jordan) == {joint.pk}
    assert waiting(world.taylor) == {trust.pk}  # a trustee: the trust's account only
    assert waiting(world.reporter) == set()
    assert waiting(world.chen) == set()
    approvals.proposal_approve(proposal=joint, user=world.alex, version=1)
    assert waiting(world.alex) == {alex_only.pk}  # decided: off the list


def test_a_card_explains_the_proposal_and_who_else_must_approve(world, policy, client):
    p = make_proposal(world, world.joint)
    approvals.proposal_approve(proposal=p, user=world.alex, version=1)
    sign_in(client, world.jordan)
    page = client.get("/inbox/").content.decode()
    assert "sell 100 VTI, buy ITOT" in page and "These VTI shares are worth less than they cost." in page
    assert "$2,000.00" in page and "$600.00" in page and "$3.00" in page  # loss, tax value, cost
    assert "✓ passed: No purchase of VTI&#x27;s index in the last 30 days" in page
    assert "Both owners must approve." in page and "Alex: approved by alex" in page and "Jordan: waiting for jordan" in page
    assert 'name="version" value="1"' in page and 'name="password"' in page
    assert "wash-sale window ends" in page


def test_approving_asks_for_the_password_once_every_ten_minutes(world, policy, client):
    p = make_proposal(world, world.alex_ind)
    q = make_proposal(world, world.alex_ind)
    sign_in(client, world.alex)
    url = f"/proposals/{p.pk}/approve/"
    missing = client.post(url, {"version": 1}, **HTMX)
    assert missing.status_code == 403 and "Confirm your password" in missing.content.decode()
    wrong = client.post(url, {"version": 1, "password": "nope"}, **HTMX)
    assert wrong.status_code == 403 and "not right" in wrong.content.decode()
    assert status(p) == "awaiting_approval"
    ok = client.post(url, {"version": 1, "password": "pw-alex"}, **HTMX)
    assert ok.status_code == 200 and 'data-status="approved"' in ok.content.decode()
    assert "You approved version 1." in ok.content.decode()
    # confirmed a moment ago: the next approval needs no password
    assert client.post(f"/proposals/{q.pk}/approve/", {"version": 1}, **HTMX).status_code == 200
    assert status(q) == "approved"


def test_wrong_passwords_at_approval_count_towards_the_login_lockout(world, policy, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    p = make_proposal(world, world.alex_ind)
    sign_in(client, world.alex)
    url = f"/proposals/{p.pk}/approve/"
    for _ in range(2):
        assert client.post(url, {"version": 1, "password": "guess"}, **HTMX).status_code == 403
    locked = client.post(url, {"version": 1, "password": "guess"}, **HTMX)  # the third: locked out, signed out
    assert locked.status_code == 429 and "Login paused" in locked.content.decode()
    assert (locked["HX-Retarget"], locked["HX-Reswap"]) == ("body", "innerHTML")
    assert client.get("/inbox/").status_code == 302  # the session ended
    assert AuditEvent.objects.filter(action="auth.lockout").count() == 1
    # The right password no longer helps, at the login or at an approval (a new session from here)
    assert client.post("/login/", {"username": "alex", "password": "pw-alex"}).status_code == 429
    sign_in(client, world.alex)
    assert client.post(url, {"version": 1, "password": "pw-alex"}).status_code == 429
    assert status(p) == "awaiting_approval" and not Approval.objects.exists()


def test_the_api_answers_429_to_password_guessing(world, policy, settings):
    settings.AXES_FAILURE_LIMIT = 2
    p = make_proposal(world, world.alex_ind)
    api = APIClient()
    api.force_authenticate(world.alex)
    url = f"/api/proposals/{p.pk}/approve/"
    assert api.post(url, {"version": 1, "password": "guess"}, format="json").status_code == 403
    locked = api.post(url, {"version": 1, "password": "guess"}, format="json")
    assert locked.status_code == 429 and locked.json()["code"] == "throttled"
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert api.post(url, {"version": 1, "password": "pw-alex"}, format="json").status_code == 429
    assert status(p) == "awaiting_approval"


def test_the_password_confirmation_lapses_after_ten_minutes(world, policy, client, time_machine):
    from django.utils import timezone

    time_machine.move_to(timezone.now(), tick=False)
    p = make_proposal(world, world.alex_ind)
    sign_in(client, world.alex)
    confirm(client, world.alex)
    time_machine.shift(601)
    assert client.post(f"/proposals/{p.pk}/approve/", {"version": 1}, **HTMX).status_code == 403


def test_a_stale_version_gets_409_and_the_new_version(world, policy, client):
    p = make_proposal(world, world.alex_ind)
    HarvestProposal.objects.filter(pk=p.pk).update(version=2)
    sign_in(client, world.alex)
    confirm(client, world.alex)
    response = client.post(f"/proposals/{p.pk}/approve/", {"version": 1}, **HTMX)
    page = response.content.decode()
    assert response.status_code == 409
    assert "now at version 2" in page and 'name="version" value="2"' in page and 'data-version="2"' in page
    assert not Approval.objects.exists()


def test_invalid_transitions_get_409_with_the_reason_on_pages_and_api(world, policy, client):
    p = make_proposal(world, world.alex_ind, status="executed")
    sign_in(client, world.alex)
    confirm(client, world.alex)
    page = client.post(f"/proposals/{p.pk}/approve/", {"version": 1})
    assert page.status_code == 409 and "already executed" in page.content.decode()
    reject = client.post(f"/proposals/{p.pk}/reject/", {"version": 1, "reason": "no"}, **HTMX)
    assert reject.status_code == 409
    api = APIClient()
    api.force_authenticate(world.alex)
    response = api.post(f"/api/proposals/{p.pk}/approve/", {"version": 1, "password": "pw-alex"}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This proposal was already executed.", "code": "conflict", "status": "executed", "version": 1
    }


def test_without_htmx_a_decision_redirects_to_the_proposal(world, policy, client):
    p = make_proposal(world, world.alex_ind)
    sign_in(client, world.alex)
    response = client.post(f"/proposals/{p.pk}/approve/", {"version": 1, "password": "pw-alex"})
    assert response.status_code == 302 and response["Location"] == f"/proposals/{p.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "You approved version 1." in page and "Decisions" in page


def test_reject_and_comment_from_the_card(world, policy, client):
    p = make_proposal(world, world.joint)
    sign_in(client, world.jordan)
    comment = client.post(f"/proposals/{p.pk}/comment/", {"body": "Why now?"}, **HTMX)
    assert comment.status_code == 200 and "Why now?" in comment.content.decode()
    no_reason = client.post(f"/proposals/{p.pk}/reject/", {"version": 1, "reason": ""}, **HTMX)
    assert no_reason.status_code == 400 and status(p) == "awaiting_approval"
    rejected = client.post(f"/proposals/{p.pk}/reject/", {"version": 1, "reason": "Not this year"}, **HTMX)
    assert rejected.status_code == 200 and 'data-status="rejected"' in rejected.content.decode()
    assert "jordan: Not this year" in rejected.content.decode()


def test_people_who_may_not_decide_get_403_and_strangers_404(world, policy, client):
    p = make_proposal(world, world.alex_ind)
    for user in (world.taylor, world.reporter, world.advisor, world.jordan):
        sign_in(client, user)
        response = client.post(f"/proposals/{p.pk}/approve/", {"version": 1, "password": f"pw-{user.username}"}, **HTMX)
        assert response.status_code == 403, user
    sign_in(client, world.chen)
    assert client.get(f"/proposals/{p.pk}/").status_code == 404
    assert client.post(f"/proposals/{p.pk}/approve/", {"version": 1}).status_code == 404
    assert status(p) == "awaiting_approval"


def test_the_api_approves_with_a_password_or_a_recent_session_confirmation(world, policy):
    p = make_proposal(world, world.joint)
    q = make_proposal(world, world.jordan_ind)
    api = APIClient()
    api.force_authenticate(world.alex)
    assert api.get("/api/inbox/").json()[0]["id"] == p.pk
    missing = api.post(f"/api/proposals/{p.pk}/approve/", {"version": 1}, format="json")
    assert missing.status_code == 403 and "Confirm your password" in missing.json()["detail"]
    ok = api.post(f"/api/proposals/{p.pk}/approve/", {"version": 1, "password": "pw-alex"}, format="json")
    assert ok.status_code == 200
    body = ok.json()
    assert body["status"] == "awaiting_approval" and body["approval_rule"] == "Both owners must approve."
    assert [(s["owner"], s["filled"]) for s in body["approvers"]] == [("Alex", True), ("Jordan", False)]

    browser = APIClient()  # a browser session: one confirmation covers the next ten minutes
    assert browser.login(username="jordan", password="pw-jordan")
    assert browser.post(f"/api/proposals/{p.pk}/approve/", {"version": 1, "password": "pw-jordan"}, format="json").status_code == 200
    assert browser.post(f"/api/proposals/{q.pk}/approve/", {"version": 1}, format="json").status_code == 200
    assert (status(p), status(q)) == ("approved", "approved")
    assert browser.post(f"/api/proposals/{q.pk}/comment/", {"body": "done"}, format="json").status_code == 201


def test_api_tokens_read_proposals_but_never_decide(world, policy):
    p = make_proposal(world, world.alex_ind)
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=world.alex).key)
    assert token.get(f"/api/proposals/{p.pk}/").json()["can_decide"] is True
    refused = token.post(f"/api/proposals/{p.pk}/approve/", {"version": 1, "password": "pw-alex"}, format="json")
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    reporter = APIClient()
    reporter.force_authenticate(world.reporter)
    assert reporter.post(f"/api/proposals/{p.pk}/approve/", {"version": 1, "password": "pw-reporter"}, format="json").status_code == 403
    assert reporter.post(f"/api/proposals/{p.pk}/comment/", {"body": "hi"}, format="json").status_code == 403
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=world.chen).key)
    assert stranger.post(f"/api/proposals/{p.pk}/approve/", {"version": 1}, format="json").status_code == 404
    jordan = APIClient()
    jordan.force_authenticate(world.jordan)
    assert jordan.post(f"/api/proposals/{p.pk}/reject/", {"version": 1, "reason": "no"}, format="json").status_code == 403
    assert status(p) == "awaiting_approval"


def test_the_nav_shows_unread_notifications_with_one_query(world, policy, client):
    p = make_proposal(world, world.joint, status="proposed", expires_in=None)
    approvals.proposal_submit(proposal=p)
    sign_in(client, world.jordan)
    page = client.get("/inbox/").content.decode()
    assert 'id="nav-inbox" data-unread="1"' in page and "Inbox (1)" in page
    from django.template import Context, Template

    with CaptureQueriesContext(connection) as queries:
        Template("{% load approvals %}{% inbox_link %}").render(Context({"user": world.jordan}))
    assert len(queries) == 1
    client.get(f"/proposals/{p.pk}/")  # reading the proposal reads its notifications
    assert Notification.objects.filter(user=world.jordan, read_at__isnull=True).count() == 0
    assert "Inbox (1)" not in client.get("/inbox/").content.decode()


def test_the_household_page_summarises_approvals_in_one_query(world, policy, client):
    make_proposal(world, world.joint)
    make_proposal(world, world.alex_ind, status="approved")
    from django.template import Context, Template

    with CaptureQueriesContext(connection) as queries:
        html = Template('{% include "harvester/_household_approvals.html" %}').render(
            Context({"household": world.household})
        )
    assert len(queries) == 1
    assert "1 proposal awaiting approval" in html and "1 approved, to execute" in html
    sign_in(client, world.alex)
    page = client.get(f"/households/{world.household.pk}/").content.decode()
    assert "1 proposal awaiting approval" in page and f"/households/{world.household.pk}/policy/" in page


def test_every_decision_writes_exactly_one_audit_event_with_the_ip(world, policy, client):
    p = make_proposal(world, world.alex_ind)
    sign_in(client, world.alex)
    client.post(f"/proposals/{p.pk}/approve/", {"version": 1, "password": "pw-alex"}, REMOTE_ADDR="203.0.113.9")
    event = AuditEvent.objects.get(action="proposal.approve")
    assert (event.actor, event.ip, event.household) == (world.alex, "203.0.113.9", world.household)
    assert event.before == {"status": "awaiting_approval", "version": 1} and event.after["status"] == "approved"

"""The audit trail: what gets recorded outside the proposal flow, the household page, filters, CSV, API."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership
from harvester import approvals
from harvester.models import AuditEvent
from tests.approvals.factories import make_proposal
from tests.signin import sign_in

pytestmark = pytest.mark.django_db


def test_logins_and_failed_logins_are_audited_with_the_ip(world, client):
    client.post("/login/", {"username": "alex", "password": "wrong"}, REMOTE_ADDR="198.51.100.7")
    client.post("/login/", {"username": "alex", "password": "pw-alex"}, REMOTE_ADDR="198.51.100.7")
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor is None and failed.ip == "198.51.100.7" and "alex" in failed.summary
    assert failed.after == {"username": "alex", "path": "/login/"} and failed.object_id == str(world.alex.pk)
    ok = AuditEvent.objects.get(action="auth.login")
    assert ok.actor == world.alex and ok.ip == "198.51.100.7"


def test_a_failed_login_with_an_unknown_username_does_not_keep_what_was_typed(world, client):
    # A password typed into the username field must not stay in the append-only audit log.
    client.post("/login/", {"username": "Secret-pw-1", "password": "alex"}, REMOTE_ADDR="198.51.100.7")
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.summary == "Failed login with an unknown username" and failed.ip == "198.51.100.7"
    assert failed.after == {"username": None, "path": "/login/"} and not failed.object_id
    assert not AuditEvent.objects.filter(summary__icontains="secret-pw").exists()


def test_membership_and_trustee_changes_are_audited(world, django_user_model):
    sam = django_user_model.objects.create_user("sam", "sam@example.com", "pw-sam")
    m = Membership.objects.create(household=world.household, user=sam, role="trustee")
    m.role = "member"
    m.save()
    world.trust_owner.trustees.add(sam)
    membership_id = m.pk
    m.delete()
    actions = list(
        AuditEvent.objects.filter(household=world.household, object_type__in=["Membership", "Owner"])
        .order_by("id").values_list("action", flat=True)
    )
    assert actions[-4:] == ["membership.create", "membership.change", "owner.trustees.add", "membership.delete"]
    created = AuditEvent.objects.filter(action="membership.create", object_id=str(membership_id)).get()
    assert created.after == {"user": sam.pk, "role": "trustee"}


def test_the_household_audit_page_lists_filters_and_exports_events(world, policy, client):
    p = make_proposal(world, world.alex_ind)
    approvals.proposal_approve(proposal=p, user=world.alex, version=1)
    sign_in(client, world.advisor)
    url = f"/households/{world.household.pk}/audit/"
    page = client.get(url).content.decode()
    assert 'data-action="proposal.approve"' in page and 'data-action="membership.create"' in page
    assert 'data-action="auth.login"' in page  # an advisor sees the members' logins

    filtered = client.get(url, {"action": "proposal.approve", "actor": world.alex.pk}, HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="audit")
    body = filtered.content.decode()
    assert body.lstrip().startswith('<section id="audit"') and 'data-count="1"' in body
    empty = client.get(url, {"start": (timezone.now().date() + timedelta(days=2)).isoformat()}).content.decode()
    assert 'data-count="0"' in empty

    export = client.get(f"/households/{world.household.pk}/audit/export.csv", {"action": "proposal.approve"})
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0] == approvals.AUDIT_CSV_HEADER and len(rows) == 2
    assert rows[1][1] == "proposal.approve" and rows[1][2] == "alex" and rows[1][0].endswith("Z")


def test_members_see_their_households_trail_but_not_ips_and_reporters_do_not(world, policy, client):
    p = make_proposal(world, world.alex_ind)
    approvals.proposal_approve(proposal=p, user=world.alex, version=1)
    sign_in(client, world.jordan)
    page = client.get(f"/households/{world.household.pk}/audit/").content.decode()
    assert 'data-action="proposal.approve"' in page and "<th>From</th>" not in page
    assert 'data-action="auth.login"' not in page
    sign_in(client, world.reporter)
    assert client.get(f"/households/{world.household.pk}/audit/").status_code == 403
    sign_in(client, world.chen)
    assert client.get(f"/households/{world.household.pk}/audit/").status_code == 404


def test_the_audit_api_filters_and_pages(world, policy):
    p = make_proposal(world, world.alex_ind)
    approvals.proposal_approve(proposal=p, user=world.alex, version=1)
    api = APIClient()
    api.force_authenticate(world.advisor)
    body = api.get(f"/api/households/{world.household.pk}/audit/", {"action": "proposal.approve"}).json()
    assert body["count"] == 1 and body["results"][0]["actor"] == "alex"
    assert body["results"][0]["after"]["status"] == "approved"
    bad = api.get(f"/api/households/{world.household.pk}/audit/", {"start": "yesterday"})
    assert bad.status_code == 400

"""The household policy: versions, acknowledgments, the version in force, its pages and API."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from harvester.models import AuditEvent, HarvestPolicy, Notification, PolicyAcknowledgment
from harvester.policy import (
    PolicyConflict,
    account_approvers,
    policy_acknowledge,
    policy_create_version,
    policy_in_force,
)
from tests.approvals.factories import acknowledged_policy
from tests.signin import sign_in

pytestmark = pytest.mark.django_db


def draft(world, **values):
    return policy_create_version(household=world.household, actor=world.advisor, values=values, note="test")


def test_it_versions_the_policy_and_audits_each_version(world):
    v1 = draft(world)
    v2 = draft(world, min_loss_amount=Decimal("500.00"), joint_approval="either")
    assert (v1.version, v2.version) == (1, 2)
    assert v2.min_loss_percent == v1.min_loss_percent and v2.min_loss_amount == Decimal("500.00")
    event = AuditEvent.objects.filter(action="policy.version").latest("id")
    assert event.actor == world.advisor and event.before["min_loss_amount"] == "1000.00"
    assert event.after == {**event.before, "version": 2, "min_loss_amount": "500.00", "joint_approval": "either"}
    assert Notification.objects.filter(kind="policy_version", user=world.taylor).count() == 2


def test_only_the_advisor_drafts_and_a_draft_must_change_something(world):
    draft(world)
    with pytest.raises(PermissionDenied):
        policy_create_version(household=world.household, actor=world.alex, values={"proposal_expiry_days": 9})
    with pytest.raises(ValidationError, match="Nothing changed"):
        draft(world)
    with pytest.raises(ValidationError):
        draft(world, proposal_expiry_days=0)


def test_a_version_governs_once_every_owner_acknowledged_it(world):
    v1 = draft(world)
    assert policy_in_force(world.household) is None
    policy_acknowledge(policy=v1, user=world.alex)
    policy_acknowledge(policy=v1, user=world.jordan)
    assert policy_in_force(world.household) is None  # the trust has not acknowledged
    policy_acknowledge(policy=v1, user=world.taylor)  # a trust acknowledges through a trustee
    assert policy_in_force(world.household) == v1
    ack = PolicyAcknowledgment.objects.get(policy=v1, owner=world.trust_owner)
    assert ack.user == world.taylor

    v2 = draft(world, advisor_discretion_limit=Decimal("2500"))
    assert policy_in_force(world.household) == v1  # the change needs fresh acknowledgment
    for user in (world.alex, world.jordan, world.taylor):
        policy_acknowledge(policy=v2, user=user)
    assert policy_in_force(world.household) == v2
    last = AuditEvent.objects.filter(action="policy.acknowledge").latest("id")
    assert last.before == {"in_force": 1} and last.after["in_force"] == 2


def test_persons_acknowledge_for_themselves_only(world):
    v1 = draft(world)
    with pytest.raises(PermissionDenied):
        policy_acknowledge(policy=v1, user=world.advisor)
    with pytest.raises(PermissionDenied):
        policy_acknowledge(policy=v1, user=world.reporter)
    policy_acknowledge(policy=v1, user=world.alex)
    assert list(PolicyAcknowledgment.objects.values_list("owner__name", flat=True)) == ["Alex"]
    with pytest.raises(PolicyConflict, match="already acknowledged"):
        policy_acknowledge(policy=v1, user=world.alex)
    draft(world, proposal_expiry_days=3)
    with pytest.raises(PolicyConflict, match="replaced by version 2"):
        policy_acknowledge(policy=v1, user=world.jordan)


def test_the_policy_decides_who_approves_each_account(world):
    both = acknowledged_policy(world)
    either = acknowledged_policy(world, joint_approval="either", trust_quorum=1)
    assert account_approvers(world.joint, both).rule == "Both owners must approve."
    assert account_approvers(world.joint, either).any_one is True
    assert account_approvers(world.alex_ind, both).seats_of(world.alex.pk)[0].owner_id == world.alex_owner.pk
    assert account_approvers(world.alex_ind, both).seats_of(world.jordan.pk) == ()
    trust = account_approvers(world.trust, both)
    assert trust.rule == "Every trustee must approve." and trust.seats[0].user_ids == (world.taylor.pk,)


def test_the_policy_page_shows_the_version_history_and_who_acknowledged(world, client):
    v1 = draft(world)
    for user in (world.alex, world.jordan, world.taylor):
        policy_acknowledge(policy=v1, user=user)
    draft(world, proposal_expiry_days=3)
    sign_in(client, world.jordan)
    page = client.get(f"/households/{world.household.pk}/policy/").content.decode()
    assert "Version 1 is in force" in page
    assert "Version 2 (awaiting acknowledgment; version 1 governs until then)" in page
    assert "Proposals expire after" in page and "I have read version 2 and acknowledge it" in page
    assert "Both owners must approve." in page and "Every trustee must approve." in page
    assert 'data-version="2"' in page and "Proposals expire after (days)" not in page

    response = client.post(f"/households/{world.household.pk}/policy/acknowledge/", {"version": 2})
    assert response.status_code == 302
    assert PolicyAcknowledgment.objects.filter(policy__version=2, owner=world.jordan_owner, user=world.jordan).exists()
    page = client.get(f"/households/{world.household.pk}/policy/").content.decode()
    assert "I have read version 2" not in page


def test_the_advisor_edits_the_policy_through_a_form_that_creates_a_version(world, client):
    draft(world)
    url = f"/households/{world.household.pk}/policy/edit/"
    sign_in(client, world.alex)
    assert client.get(url).status_code == 403
    sign_in(client, world.advisor)
    form = client.get(url)
    assert form.status_code == 200 and 'value="1000.00"' in form.content.decode()
    data = {
        "min_loss_amount": "750.00", "min_loss_percent": "5", "benefit_cost_margin": "2", "scope": "household",
        "joint_approval": "either", "trust_quorum": "", "advisor_discretion_limit": "0", "proposal_expiry_days": "7",
        "switchback_gain_limit": "250", "review_cadence": "monthly", "change_note": "Lower the floor",
    }
    assert client.post(url, data).status_code == 302
    v2 = HarvestPolicy.objects.get(household=world.household, version=2)
    assert (v2.min_loss_amount, v2.joint_approval, v2.review_cadence, v2.change_note) == (
        Decimal("750.00"), "either", "monthly", "Lower the floor"
    )
    bad = client.post(url, {**data, "proposal_expiry_days": "0"})
    assert bad.status_code == 400 and HarvestPolicy.objects.count() == 2
    same = client.post(url, data)
    assert same.status_code == 400 and "Nothing changed" in same.content.decode()


def test_the_policy_api_reports_versions_and_acknowledgments(world):
    v1 = draft(world)
    api = APIClient()
    api.force_authenticate(world.alex)
    url = f"/api/households/{world.household.pk}/policy/"
    body = api.get(url).json()
    assert body["in_force"] is None and body["newest"]["version"] == 1
    assert [a["acknowledged_by"] for a in body["acknowledgments"]] == [None, None, None]
    assert api.post(url + "acknowledge/", {"version": 1}, format="json").status_code == 200
    again = api.post(url + "acknowledge/", {"version": 1}, format="json")
    assert again.status_code == 409 and "already acknowledged" in again.json()["detail"]
    for user in (world.jordan, world.taylor):
        policy_acknowledge(policy=v1, user=user)
    assert api.get(url).json()["in_force"] == 1

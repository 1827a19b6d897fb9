"""The proposal state machine and who may decide: services first, then the same rules over HTTP."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from harvester import approvals
from harvester.models import Approval, AuditEvent, HarvestProposal, Notification
from tests.approvals.factories import acknowledged_policy, make_proposal

pytestmark = pytest.mark.django_db


def approve(proposal, user, **kw):
    return approvals.proposal_approve(proposal=proposal, user=user, version=kw.pop("version", proposal.version), **kw)


def status(proposal) -> str:
    return HarvestProposal.objects.values_list("status", flat=True).get(pk=proposal.pk)


# ---- submit


def test_it_submits_a_proposal_binds_the_policy_and_emails_each_approver(
    world, policy, eager_tasks, django_capture_on_commit_callbacks
):
    p = make_proposal(world, world.joint, status="proposed", expires_in=None)
    with django_capture_on_commit_callbacks(execute=True):
        approvals.proposal_submit(proposal=p)
    p.refresh_from_db()
    assert p.status == "awaiting_approval" and p.policy == policy
    assert timedelta(days=4, hours=23) < p.expires_at - timezone.now() <= timedelta(days=5)
    assert sorted(m.to[0] for m in mail.outbox) == ["alex@example.com", "jordan@example.com"]
    assert "Both owners must approve." in mail.outbox[0].body
    assert Notification.objects.filter(proposal=p, kind="awaiting_approval").count() == 2
    event = AuditEvent.objects.get(action="proposal.submit")
    assert event.actor is None and event.before["status"] == "proposed" and event.after["status"] == "awaiting_approval"


def test_it_refuses_to_submit_twice(world, policy):
    p = make_proposal(world, world.joint, status="proposed")
    approvals.proposal_submit(proposal=p)
    with pytest.raises(approvals.ProposalConflict, match="still awaiting approval"):
        approvals.proposal_submit(proposal=p)
    assert AuditEvent.objects.filter(action="proposal.submit").count() == 1


# ---- who approves what


def test_it_approves_an_individual_account_with_its_owner_alone(world, policy):
    p = make_proposal(world, world.alex_ind)
    approve(p, world.alex, comment="fine")
    assert status(p) == "approved"
    a = Approval.objects.get(proposal=p)
    assert (a.owner, a.user, a.proposal_version, a.comment, a.by_discretion) == (world.alex_owner, world.alex, 1, "fine", False)


def test_it_needs_both_owners_of_a_joint_account(world, policy, eager_tasks, django_capture_on_commit_callbacks):
    p = make_proposal(world, world.joint)
    approve(p, world.alex)
    assert status(p) == "awaiting_approval"
    with django_capture_on_commit_callbacks(execute=True):
        approve(p, world.jordan)
    assert status(p) == "approved"
    assert {m.to[0] for m in mail.outbox} == {"alex@example.com", "jordan@example.com", "advisor@example.com"}
    assert all("is approved" in m.body for m in mail.outbox)
    events = AuditEvent.objects.filter(action="proposal.approve").order_by("id")
    assert [e.after["status"] for e in events] == ["awaiting_approval", "approved"]
    assert [e.actor for e in events] == [world.alex, world.jordan]


def test_it_lets_either_owner_approve_a_joint_account_when_the_policy_says_so(world):
    policy = acknowledged_policy(world, joint_approval="either")
    p = make_proposal(world, world.joint, policy=policy)
    approve(p, world.jordan)
    assert status(p) == "approved"


def test_it_needs_the_trustees_quorum_for_a_trust_account(world, django_user_model):
    sam = django_user_model.objects.create_user("sam", "sam@example.com", "pw-sam")
    from accounts.models import Membership

    Membership.objects.create(household=world.household, user=sam, role="trustee")
    world.trust_owner.trustees.add(sam)
    all_of_them = make_proposal(world, world.trust, policy=acknowledged_policy(world))
    approve(all_of_them, world.taylor)
    assert status(all_of_them) == "awaiting_approval"
    approve(all_of_them, sam)
    assert status(all_of_them) == "approved"

    one_of_two = make_proposal(world, world.trust, policy=acknowledged_policy(world, trust_quorum=1))
    approve(one_of_two, sam)
    assert status(one_of_two) == "approved"


def test_a_trustee_cannot_approve_a_personal_account_they_do_not_own(world, policy):
    p = make_proposal(world, world.alex_ind)
    with pytest.raises(PermissionDenied, match="not an approver of Alex individual"):
        approve(p, world.taylor)
    with pytest.raises(PermissionDenied):
        approve(p, world.jordan)  # a spouse is not the owner either
    assert status(p) == "awaiting_approval" and not Approval.objects.exists()


def test_a_reporter_cannot_act(world, policy):
    p = make_proposal(world, world.joint)
    for act in (
        lambda: approve(p, world.reporter),
        lambda: approvals.proposal_reject(proposal=p, user=world.reporter, version=1, reason="no"),
        lambda: approvals.proposal_comment(proposal=p, user=world.reporter, body="hello"),
    ):
        with pytest.raises(PermissionDenied):
            act()
    assert status(p) == "awaiting_approval"


def test_an_advisor_never_approves_on_an_owners_behalf_without_discretion(world, policy):
    p = make_proposal(world, world.alex_ind)
    with pytest.raises(PermissionDenied, match="granted no discretion"):
        approve(p, world.advisor)
    assert status(p) == "awaiting_approval"


def test_an_advisor_may_approve_alone_below_the_discretion_limit_recorded_as_such(world):
    policy = acknowledged_policy(world, advisor_discretion_limit=Decimal("5000"))
    small = make_proposal(world, world.joint, policy=policy, lots=(("20", "200"),), price="140")  # proceeds 2,800
    approve(small, world.advisor)
    assert status(small) == "approved"
    a = Approval.objects.get(proposal=small)
    assert a.by_discretion and a.owner is None and a.user == world.advisor
    assert AuditEvent.objects.get(action="proposal.approve").after["by_discretion"] is True

    large = make_proposal(world, world.joint, policy=policy)  # proceeds 18,000
    with pytest.raises(PermissionDenied, match="not below the household's discretion limit"):
        approve(large, world.advisor)


# ---- versions, double submits, invalid transitions


def test_a_decision_binds_to_the_version_shown(world, policy):
    p = make_proposal(world, world.alex_ind)
    HarvestProposal.objects.filter(pk=p.pk).update(version=2)
    with pytest.raises(approvals.StaleVersion, match="You saw version 1, but the proposal is now at version 2"):
        approve(p, world.alex, version=1)
    approve(p, world.alex, version=2)
    assert Approval.objects.get(proposal=p).proposal_version == 2


def test_approvals_of_an_older_version_do_not_count(world, policy):
    p = make_proposal(world, world.joint)
    approve(p, world.alex)
    HarvestProposal.objects.filter(pk=p.pk).update(version=2)
    p.refresh_from_db()
    approve(p, world.jordan)
    assert status(p) == "awaiting_approval"  # Alex approved version 1 only
    approve(p, world.alex)
    assert status(p) == "approved"


def test_a_double_submitted_approval_has_one_outcome(world, policy):
    p = make_proposal(world, world.joint)
    approve(p, world.alex)
    with pytest.raises(approvals.ProposalConflict, match="You already approved version 1"):
        approve(p, world.alex)
    assert Approval.objects.filter(proposal=p).count() == 1
    assert AuditEvent.objects.filter(action="proposal.approve").count() == 1


@pytest.mark.parametrize("state", ["proposed", "approved", "executed", "rejected", "expired", "invalidated", "superseded"])
def test_it_refuses_to_approve_outside_awaiting_approval(world, policy, state):
    p = make_proposal(world, world.alex_ind, status=state)
    with pytest.raises(approvals.ProposalConflict):
        approve(p, world.alex)
    assert status(p) == state and not AuditEvent.objects.filter(action__startswith="proposal.").exists()


def test_a_rejection_needs_a_reason_and_ends_the_proposal(world, policy, eager_tasks, django_capture_on_commit_callbacks):
    p = make_proposal(world, world.joint)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        approvals.proposal_reject(proposal=p, user=world.jordan, version=1, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        approvals.proposal_reject(proposal=p, user=world.jordan, version=1, reason="We need the cash in December.")
    p.refresh_from_db()
    assert p.status == "rejected" and p.status_reason == "jordan: We need the cash in December."
    assert Approval.objects.get(proposal=p).decision == "reject"
    assert any("We need the cash in December." in m.body for m in mail.outbox)
    with pytest.raises(approvals.ProposalConflict, match="rejected"):
        approve(p, world.alex)


def test_an_owner_can_withdraw_consent_until_execution(world, policy):
    p = make_proposal(world, world.alex_ind)
    approve(p, world.alex)
    approvals.proposal_reject(proposal=p, user=world.alex, version=1, reason="Changed my mind")
    assert status(p) == "rejected"


def test_the_thread_is_for_approvers_and_the_advisor(world, policy):
    p = make_proposal(world, world.joint)
    approvals.proposal_comment(proposal=p, user=world.jordan, body="Why ITOT?")
    approvals.proposal_comment(proposal=p, user=world.advisor, body="Different index, same market.")
    with pytest.raises(PermissionDenied):
        approvals.proposal_comment(proposal=p, user=world.taylor, body="me too")
    assert [c.body for c in p.comments.all()] == ["Why ITOT?", "Different index, same market."]
    assert Notification.objects.filter(kind="comment", user=world.alex).count() == 2


# ---- expiry and reminders (the beat tasks)


def test_the_beat_task_expires_past_due_proposals_once_and_tells_the_approvers(
    world, policy, eager_tasks, django_capture_on_commit_callbacks
):
    from harvester.approval_tasks import proposals_expire_task

    due = make_proposal(world, world.joint, expires_in=timedelta(minutes=-1))
    fresh = make_proposal(world, world.alex_ind)
    with django_capture_on_commit_callbacks(execute=True):
        assert proposals_expire_task() == 1
        assert proposals_expire_task() == 0
    assert (status(due), status(fresh)) == ("expired", "awaiting_approval")
    assert AuditEvent.objects.filter(action="proposal.expire").count() == 1
    assert {m.to[0] for m in mail.outbox} == {"alex@example.com", "jordan@example.com", "advisor@example.com"}
    assert all("expired" in m.subject for m in mail.outbox)


def test_an_approval_after_the_expiry_expires_it_instead(world, policy):
    p = make_proposal(world, world.alex_ind, expires_in=timedelta(seconds=-5))
    with pytest.raises(approvals.ProposalConflict, match="expired"):
        approve(p, world.alex)
    assert status(p) == "expired" and not Approval.objects.exists()


def test_it_reminds_the_undecided_approvers_once_within_24_hours(
    world, policy, eager_tasks, django_capture_on_commit_callbacks
):
    from harvester.approval_tasks import proposals_remind_task

    soon = make_proposal(world, world.joint, expires_in=timedelta(hours=20))
    make_proposal(world, world.alex_ind, expires_in=timedelta(days=3))
    approve(soon, world.alex)
    with django_capture_on_commit_callbacks(execute=True):
        assert proposals_remind_task() == 1
        assert proposals_remind_task() == 0
    assert [m.to for m in mail.outbox] == [["jordan@example.com"]]
    assert "Reminder" in mail.outbox[0].subject
    assert HarvestProposal.objects.get(pk=soon.pk).reminded_at is not None


def test_it_supersedes_and_invalidates_open_proposals_only(world, policy):
    p = make_proposal(world, world.alex_ind)
    assert approvals.proposal_supersede(proposal=p) is True
    assert approvals.proposal_supersede(proposal=p) is False
    q = make_proposal(world, world.alex_ind, status="executed")
    assert approvals.proposal_invalidate(proposal=q, reason="prices moved") is False
    assert status(p) == "superseded" and status(q) == "executed"


def test_without_an_acknowledged_policy_nothing_can_be_approved(world):
    """The conservative defaults decide who may act (no discretion); the re-check refuses the rest."""
    acknowledged_policy(world, joint_approval="either", advisor_discretion_limit=Decimal("99999"), acknowledged=False)
    p = make_proposal(world, world.joint)
    with pytest.raises(PermissionDenied):
        approve(p, world.advisor)
    with pytest.raises(approvals.ProposalInvalidated, match="No harvest policy in force"):
        approve(p, world.alex)
    assert status(p) == "invalidated" and not Approval.objects.exists()

"""Re-validation: at each approval and at execution the proposal is re-checked against current data
(harvester.scanning.proposal_recheck plus our own lot check); if it no longer holds it is invalidated
with the reason, and its approvers are told. Each scenario changes real data, as life would."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from harvester import approvals
from harvester.models import Approval, AuditEvent, Execution, HarvestProposal, Notification
from lots.ledger import ledger_recompute
from lots.models import Transaction
from tests.approvals.factories import close, make_proposal

pytestmark = pytest.mark.django_db


def refused(p, user, match):
    with pytest.raises(approvals.ProposalInvalidated, match=match):
        approvals.proposal_approve(proposal=p, user=user, version=p.version)
    p.refresh_from_db()
    assert p.status == "invalidated"
    return p


def test_a_lot_sold_since_the_proposal_invalidates_it(world, policy):
    p = make_proposal(world, world.alex_ind)
    origin = int(p.lots[0]["origin"])
    world.trade(world.alex_ind, "VTI", timezone.localdate(), "sell", "30", "181",
                lot_selection="specific", specific_lot_id=origin)  # not yet in the ledger: still counted
    refused(p, world.alex, f"the lot from trade #{origin} now holds 70 shares, not 100")
    assert not Approval.objects.exists()


def test_a_price_that_recovered_invalidates_it_and_tells_the_approvers(
    world, policy, eager_tasks, django_capture_on_commit_callbacks
):
    p = make_proposal(world, world.joint)
    close("VTI", timezone.localdate(), "205")  # above the 200 paid: no loss left
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(approvals.ProposalInvalidated) as info:
            approvals.proposal_approve(proposal=p, user=world.jordan, version=1)
    p.refresh_from_db()
    assert p.status == "invalidated" and p.status_reason and p.status_reason in info.value.reason
    event = AuditEvent.objects.get(action="proposal.invalidate")
    assert event.actor == world.jordan and event.after["reason"] == p.status_reason
    told = set(Notification.objects.filter(proposal=p, kind="proposal_invalidated").values_list("user__username", flat=True))
    assert told == {"alex", "jordan", "advisor"}
    assert all("no longer holds" in m.body for m in mail.outbox)


def test_a_spouses_recent_purchase_of_the_same_index_invalidates_it(world, policy):
    p = make_proposal(world, world.alex_ind)
    world.trade(world.jordan_ind, "VTI", timezone.localdate() - timedelta(days=3), "buy", "5", "179")
    ledger_recompute(household_id=world.household.pk)
    refused(p, world.alex, "within 30 days of a sale at a loss washes the loss")
    assert "Jordan individual bought" in p.status_reason


def test_the_re_check_runs_again_at_execution(world, policy):
    p = make_proposal(world, world.alex_ind)
    approvals.proposal_approve(proposal=p, user=world.alex, version=1)
    close("VTI", timezone.localdate(), "230")
    with pytest.raises(approvals.ProposalInvalidated):
        approvals.proposal_execute(proposal=p, user=world.advisor)
    assert HarvestProposal.objects.get(pk=p.pk).status == "invalidated"
    assert not Execution.objects.exists() and not Transaction.objects.filter(action="sell").exists()


def test_a_proposal_that_still_holds_passes_the_re_check(world, policy):
    p = make_proposal(world, world.alex_ind)
    assert approvals._recheck(p, as_of=timezone.localdate()) is None

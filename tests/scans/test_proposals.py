"""Scans write proposals idempotently: a re-run keeps the open ones, one that no longer holds is superseded
with the reason, a changed decision is a new version; stale prices are refused, and a DRIP in the spouse's
IRA becomes a required action (scheduled) or blocks the harvest (already reinvested)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from harvester.models import AuditEvent, HarvestProposal, HarvestScan
from tests.scans.conftest import SCAN_DATE

pytestmark = pytest.mark.django_db


def test_it_proposes_the_two_harvests_with_figures_and_explanations(harvest):
    scan = harvest.scan()
    assert scan.status == "done" and scan.households_done == scan.households_total == 1
    assert scan.proposals_created == 2 and scan.errors == []
    vea, vti = harvest.open_proposals()
    assert (vti.account, vti.buy_security.ticker, vti.status) == (harvest.world.alex_ind, "ITOT", "proposed")
    assert vti.loss_long_term == Decimal("5000.00") and vti.loss_short_term == 0
    assert vti.sell_quantity == Decimal("100") and vti.proceeds == vti.buy_amount == Decimal("20000.00")
    assert vti.tax_value > vti.trading_cost * 2 > 0
    assert vti.lots[0]["origin"] == str(harvest.vti.pk) and vti.lots[0]["quantity"] == "100.00000000"
    assert (vea.account, vea.buy_security.ticker) == (harvest.world.jordan_ind, "IEFA")
    assert vea.loss_short_term == Decimal("2000.00")
    assert {c["name"] for c in vti.checks if c["passed"]} == {
        "recent_purchases", "scheduled_purchases", "not_identical", "replacement_not_sold_at_loss", "same_asset_class"
    }
    for key in ("why_lots", "why_account", "why_replacement", "tax", "checks"):
        assert vti.explanation[key], key
    assert vti.policy == harvest.policy and vti.scan == scan
    assert vti.expires_at - vti.created_at == pytest.approx(timedelta(days=5), abs=timedelta(seconds=5))
    created = AuditEvent.objects.filter(action="proposal.create", household=harvest.household)
    assert sorted(int(e.object_id) for e in created) == sorted([vea.pk, vti.pk])


def test_a_rerun_keeps_the_open_proposals_and_creates_no_duplicates(harvest):
    harvest.scan()
    first = {p.fingerprint: (p.pk, p.version) for p in harvest.open_proposals()}
    again = harvest.scan()
    assert again.proposals_created == 0 and again.proposals_superseded == 0
    assert {p.fingerprint: (p.pk, p.version) for p in harvest.open_proposals()} == first
    assert HarvestProposal.objects.count() == 2


def test_a_rerun_refreshes_the_estimates_without_a_new_version(harvest):
    harvest.scan()
    harvest.prices({"VTI": "190"})  # a lower close: a bigger loss, the same trade
    harvest.scan()
    vti = harvest.open_proposals().get(sell_security__ticker="VTI")
    assert vti.loss_long_term == Decimal("6000.00") and vti.version == 1


def test_a_proposal_that_no_longer_holds_is_superseded_with_the_reason(harvest):
    harvest.scan()
    vea = harvest.open_proposals().get(sell_security__ticker="VEA")
    harvest.prices({"VEA": "59"})  # nearly recovered: below the $1,000 minimum
    scan = harvest.scan()
    vea.refresh_from_db()
    assert scan.proposals_superseded == 1 and scan.proposals_created == 0
    assert vea.status == "superseded"
    assert vea.status_reason.startswith(f"The scan #{scan.pk} of 2026-12-10 no longer proposes it: The loss lots of VEA")
    assert "$1,000.00" in vea.status_reason  # the core's words: below the household's minimum
    assert harvest.open_proposals().count() == 1
    assert AuditEvent.objects.filter(action="proposal.supersede", object_id=str(vea.pk)).exists()
    harvest.prices({"VEA": "50"})
    third = harvest.scan()
    assert third.proposals_created == 1  # proposed anew: a new row, the superseded one stays as it was
    assert HarvestProposal.objects.filter(sell_security__ticker="VEA").count() == 2


def test_a_drip_scheduled_in_the_spouses_ira_is_a_required_action_and_a_new_version(harvest):
    from lots.models import ScheduledPurchase, Security

    w = harvest.world
    harvest.scan()
    vea = harvest.open_proposals().get(sell_security__ticker="VEA")
    assert vea.required_actions == []
    # Jordan harvests VEA; Alex (the spouse) reinvests VEA dividends in the IRA next quarter.
    ScheduledPurchase.objects.create(account=w.alex_ira, security=Security.objects.get(ticker="VEA"), kind="drip",
                                     frequency="quarterly", start_date=SCAN_DATE - timedelta(days=400))
    harvest.scan()
    vea.refresh_from_db()
    assert vea.status == "proposed" and vea.version == 2
    [action] = vea.required_actions
    assert action["kind"] == "pause_schedule" and action["account"] == str(w.alex_ira.pk)
    assert "Pause the DRIP of VEA in Alex IRA until" in action["text"]
    assert action["until"] == str(SCAN_DATE + timedelta(days=31))
    assert AuditEvent.objects.filter(action="proposal.revise", object_id=str(vea.pk)).count() == 1


def test_a_revision_by_a_later_scan_takes_an_approved_proposal_back_to_its_approvers(harvest, time_machine):
    from django.contrib.auth import get_user_model

    from harvester import approvals
    from harvester.models import Notification
    from lots.models import ScheduledPurchase, Security

    time_machine.move_to("2026-12-10 18:00 -05:00", tick=False)  # the approvals re-check on the scan's date
    w = harvest.world
    harvest.scan()
    vea = harvest.open_proposals().get(sell_security__ticker="VEA")
    approvals.proposal_submit(proposal=vea)
    approvers = get_user_model().objects.filter(pk__in=approvals.proposal_approvers(vea).user_ids)
    assert approvers
    for user in approvers:
        vea = approvals.proposal_approve(proposal=HarvestProposal.objects.get(pk=vea.pk), user=user, version=1)
    assert vea.status == "approved"
    asked_before = Notification.objects.filter(proposal=vea, kind="awaiting_approval").count()
    # A DRIP in the spouse's IRA now needs pausing: the trade the owners approved is not this one.
    ScheduledPurchase.objects.create(account=w.alex_ira, security=Security.objects.get(ticker="VEA"), kind="drip",
                                     frequency="quarterly", start_date=SCAN_DATE - timedelta(days=400))
    harvest.scan()
    vea.refresh_from_db()
    assert (vea.status, vea.version) == ("awaiting_approval", 2)
    assert AuditEvent.objects.filter(action="proposal.reopen", object_id=str(vea.pk)).count() == 1
    asked = Notification.objects.filter(proposal=vea, kind="awaiting_approval")
    assert asked.count() == asked_before + len(approvers)
    assert set(asked.values_list("user", flat=True)) == {u.pk for u in approvers}
    # An unchanged re-run asks nobody again.
    harvest.scan()
    assert Notification.objects.filter(proposal=vea, kind="awaiting_approval").count() == asked.count()


def test_a_drip_already_reinvested_in_the_spouses_ira_blocks_the_harvest(harvest):
    w = harvest.world
    harvest.scan()
    w.trade(w.alex_ira, "VEA", SCAN_DATE - timedelta(days=9), "reinvest", "1.5", "50")
    harvest.recompute()
    scan = harvest.scan()
    vea = HarvestProposal.objects.get(sell_security__ticker="VEA")
    assert vea.status == "superseded"
    assert "Alex IRA bought 1.5" in vea.status_reason and "washes the loss" in vea.status_reason
    assert scan.proposals_superseded == 1
    assert [p.sell_security.ticker for p in harvest.open_proposals()] == ["VTI"]


def test_stale_prices_are_refused_with_a_clear_message_and_leave_open_proposals_alone(harvest):
    from lots.models import Price

    harvest.scan()
    Price.objects.filter(security__ticker="VEA").update(date=SCAN_DATE - timedelta(days=20))
    scan = harvest.scan()
    [error] = scan.errors
    assert error["ticker"] == "VEA" and error["message"].startswith("Price refused: the latest close of VEA is from")
    assert "Load fresh closing prices" in error["message"]
    assert harvest.open_proposals().count() == 2 and scan.proposals_superseded == 0


def test_a_household_without_a_policy_in_force_is_reported_not_scanned(world):
    from harvester import scanning

    scan = scanning.scan_start(household=world.household, user=world.advisor, as_of=SCAN_DATE)
    scanning.scan_run(scan_id=scan.pk)
    scan.refresh_from_db()
    assert scan.status == "done" and scan.proposals_created == 0
    assert scan.errors[0]["message"].startswith("No harvest policy yet")


def test_scan_now_twice_returns_the_scan_still_running(harvest):
    from harvester import scanning

    first = scanning.scan_start(household=harvest.household, user=harvest.world.advisor, as_of=SCAN_DATE)
    second = scanning.scan_start(household=harvest.household, user=harvest.world.advisor, as_of=SCAN_DATE)
    assert first == second and HarvestScan.objects.count() == 1


def test_proposals_write_alone_is_idempotent(harvest):
    from harvester import scanning
    from harvester.core.scan import scan as core_scan

    scan = harvest.scan()
    snapshot = scanning.household_snapshot(harvest.household, as_of=SCAN_DATE)
    result = core_scan(snapshot, SCAN_DATE)
    summary = scanning.proposals_write(household=harvest.household, scan=scan, proposals=result.proposals,
                                       as_of=SCAN_DATE, result=result)
    assert summary.created == [] and len(summary.kept) == 2 and summary.superseded == []
    summary = scanning.proposals_write(household=harvest.household, scan=scan, proposals=[], as_of=SCAN_DATE)
    assert len(summary.superseded) == 2 and harvest.open_proposals().count() == 0


def test_a_chunks_new_proposals_go_to_their_approvers_together(harvest):
    """The scan hands all of a chunk's new proposals to the approvals flow at once: each awaits approval,
    with its submit event and its approver told; a second delivery of the task submits nothing again."""
    from harvester import scanning
    from harvester.models import Notification

    harvest.scan()
    vea, vti = harvest.open_proposals()
    assert scanning.proposals_submit(proposal_ids=[vti.pk, vea.pk]) == {"submitted": 2, "waiting": 0}
    assert {p.status for p in harvest.open_proposals()} == {"awaiting_approval"}
    events = {int(e.object_id): e for e in AuditEvent.objects.filter(action="proposal.submit")}
    assert events.keys() == {vti.pk, vea.pk}
    assert events[vti.pk].before == {"status": "proposed", "version": 1}
    assert events[vti.pk].after == {"status": "awaiting_approval", "version": 1,
                                    "expires_at": vti.expires_at.isoformat(), "policy": 1}
    assert events[vti.pk].summary.endswith("VTI -> ITOT in Alex individual: proposed -> awaiting_approval")
    told = {(n.proposal_id, n.user.username) for n in Notification.objects.filter(kind="awaiting_approval")}
    assert told == {(vti.pk, "alex"), (vea.pk, "jordan")}
    assert scanning.proposals_submit(proposal_ids=[vti.pk, vea.pk]) == {"submitted": 0, "waiting": 0}
    assert AuditEvent.objects.filter(action="proposal.submit").count() == 2

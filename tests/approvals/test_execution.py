"""Execution: the order ticket, fills or paper execution, the trades and the ledger, the calendar."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from harvester import approvals
from harvester.models import AuditEvent, Execution, HarvestProposal
from lots.ledger import ledger_recompute
from lots.models import Disposal, Lot, Transaction
from tests.approvals.factories import make_proposal
from tests.signin import sign_in

pytestmark = pytest.mark.django_db


def approved(world, account, **kw):
    return make_proposal(world, account, status="approved", **kw)


def test_the_order_ticket_lists_approved_proposals_with_their_lots(world, policy, client):
    world.alex_ind.custodian, world.alex_ind.number_masked = "Schwab", "****1234"
    world.alex_ind.save()
    p = approved(world, world.alex_ind, lots=(("60", "200"), ("40", "210")))
    make_proposal(world, world.joint)  # awaiting: not on the ticket
    url = f"/households/{world.household.pk}/execution/order-ticket.csv"
    sign_in(client, world.alex)
    assert client.get(url).status_code == 403
    sign_in(client, world.advisor)
    response = client.get(url)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == approvals.ORDER_TICKET_HEADER
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["proposal"], row["account"], row["custodian"], row["account_number"]) == (
        str(p.pk), "Alex individual", "Schwab", "****1234"
    )
    assert (row["sell_ticker"], row["sell_quantity"], row["buy_ticker"], row["buy_amount"]) == ("VTI", "100", "ITOT", "18000.00")
    origins = [e["origin"] for e in p.lots]
    assert row["lots_specific_identification"].count("sh acquired") == 2
    assert "60 sh acquired" in row["lots_specific_identification"] and f"(trade #{origins[1]})" in row["lots_specific_identification"]


def test_recording_fills_creates_one_sell_per_lot_the_buy_and_the_execution_atomically(
    world, policy, eager_tasks, django_capture_on_commit_callbacks
):
    p = approved(world, world.alex_ind, lots=(("60", "200"), ("40", "210")))
    today = timezone.localdate()
    fills = approvals.Fills(
        trade_date=today, sell_price=Decimal("180.10"), sell_quantity=Decimal("100"), buy_price=Decimal("99.50"),
        buy_quantity=Decimal("181.0050"), sell_fees=Decimal("1.00"), buy_fees=Decimal("0.50"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        execution = approvals.proposal_execute(proposal=p, user=world.advisor, fills=fills)
    p.refresh_from_db()
    assert p.status == "executed" and execution.method == "fills"
    sells = Transaction.objects.filter(action="sell", source_file=f"proposal:{p.pk}").order_by("seq")
    assert [(s.quantity, s.specific_lot_id, s.lot_selection, s.fees) for s in sells] == [
        (Decimal("60"), int(p.lots[0]["origin"]), "specific", Decimal("0.60")),
        (Decimal("40"), int(p.lots[1]["origin"]), "specific", Decimal("0.40")),
    ]
    buy = Transaction.objects.get(action="buy", source_file=f"proposal:{p.pk}")
    assert (buy.security.ticker, buy.quantity, buy.price, buy.fees) == ("ITOT", Decimal("181.0050"), Decimal("99.50"), Decimal("0.50"))
    assert execution.sell_transaction == sells[0] and execution.buy_transaction == buy
    # the ledger ran after commit: the realized loss and the replacement lot appear
    losses = Disposal.objects.filter(sale__in=sells)
    assert sum(d.gain_loss for d in losses) == Decimal("180.10") * 100 - Decimal("1.00") - Decimal("12000") - Decimal("8400")
    assert Lot.objects.get(origin=buy).quantity == Decimal("181.0050")
    assert not Lot.objects.filter(origin_id__in=[int(e["origin"]) for e in p.lots]).exists()
    event = AuditEvent.objects.get(action="proposal.execute")
    assert event.actor == world.advisor and event.after["sell_transactions"] == [s.pk for s in sells]


def test_paper_execution_uses_the_last_prices(world, policy):
    p = approved(world, world.joint)
    execution = approvals.proposal_execute(proposal=p, user=world.advisor)
    assert execution.method == "paper" and execution.trade_date == timezone.localdate()
    assert execution.fills["sell_price"] == "180.000000" and execution.fills["buy_price"] == "100.000000"
    assert Decimal(execution.fills["buy_quantity"]) == Decimal("180")  # 18,000 of proceeds at 100


def test_it_never_executes_twice(world, policy):
    p = approved(world, world.alex_ind)
    approvals.proposal_execute(proposal=p, user=world.advisor)
    with pytest.raises(approvals.ProposalConflict, match="already executed"):
        approvals.proposal_execute(proposal=p, user=world.advisor)
    assert Execution.objects.count() == 1 and Transaction.objects.filter(source_file=f"proposal:{p.pk}").count() == 2


def test_only_an_approved_proposal_is_executed_and_only_by_the_advisor(world, policy):
    waiting = make_proposal(world, world.alex_ind)
    with pytest.raises(approvals.ProposalConflict, match="still awaiting approval"):
        approvals.proposal_execute(proposal=waiting, user=world.advisor)
    p = approved(world, world.jordan_ind)
    with pytest.raises(PermissionDenied):
        approvals.proposal_execute(proposal=p, user=world.jordan)
    assert not Execution.objects.exists()


def test_bad_fills_are_refused(world, policy):
    from django.core.exceptions import ValidationError

    p = approved(world, world.alex_ind)
    today = timezone.localdate()
    good = dict(trade_date=today, sell_price=Decimal("180"), sell_quantity=Decimal("100"), buy_price=Decimal("100"),
                buy_quantity=Decimal("180"))
    for bad in ({"trade_date": today + timedelta(days=1)}, {"sell_quantity": Decimal("101")}, {"buy_price": Decimal("0")}):
        with pytest.raises(ValidationError):
            approvals.proposal_execute(proposal=p, user=world.advisor, fills=approvals.Fills(**{**good, **bad}))
    assert HarvestProposal.objects.get(pk=p.pk).status == "approved" and not Transaction.objects.filter(action="sell").exists()


def test_the_execute_page_records_fills_and_shows_the_wash_sale_dates(world, policy, client):
    p = approved(world, world.alex_ind)
    sign_in(client, world.advisor)
    form = client.get(f"/proposals/{p.pk}/execute/")
    assert form.status_code == 200 and "Paper execute at the last price" in form.content.decode()
    trade_date = timezone.localdate() - timedelta(days=1)
    response = client.post(f"/proposals/{p.pk}/execute/", {
        "trade_date": trade_date.isoformat(), "sell_price": "179.5", "sell_quantity": "100", "buy_price": "99",
        "buy_quantity": "181.3", "sell_fees": "0", "buy_fees": "0",
    })
    assert response.status_code == 302
    page = client.get(f"/proposals/{p.pk}/").content.decode()
    assert f"Wash-sale window ends <strong>{trade_date + timedelta(days=30):%Y-%m-%d}</strong>" in page
    assert f"Switch back possible from <strong>{trade_date + timedelta(days=31):%Y-%m-%d}</strong>" in page
    again = client.post(f"/proposals/{p.pk}/execute/", {"paper": "1"})
    assert again.status_code == 409 and "already executed" in again.content.decode()
    ledger_recompute(household_id=world.household.pk)  # what the worker does after the execution commits
    calendar = client.get(f"/households/{world.household.pk}/calendar/").content.decode()
    assert f'data-kind="wash_window" data-day="{trade_date + timedelta(days=30):%Y-%m-%d}"' in calendar
    assert f'data-kind="switch_back" data-day="{trade_date + timedelta(days=31):%Y-%m-%d}"' in calendar
    sign_in(client, world.alex)
    assert client.get(f"/proposals/{p.pk}/execute/").status_code == 403
    assert client.get(f"/households/{world.household.pk}/calendar/").status_code == 200


def test_the_execution_desk_lists_approved_proposals_and_paper_executes(world, policy, client):
    p = approved(world, world.joint)
    sign_in(client, world.advisor)
    desk = client.get(f"/households/{world.household.pk}/execution/").content.decode()
    assert f'data-proposal="{p.pk}"' in desk and "Download the order ticket" in desk
    assert client.post(f"/proposals/{p.pk}/execute/", {"paper": "1"}).status_code == 302
    assert HarvestProposal.objects.get(pk=p.pk).status == "executed"


def test_paper_execution_is_off_outside_the_demo(world, policy, client, settings):
    settings.PAPER_EXECUTION = False
    p = approved(world, world.joint)
    sign_in(client, world.advisor)
    assert client.post(f"/proposals/{p.pk}/execute/", {"paper": "1"}).status_code == 403
    assert HarvestProposal.objects.get(pk=p.pk).status == "approved"


def test_an_approved_proposal_revised_by_a_scan_needs_approval_again_before_execution(world, policy):
    from harvester.models import Notification

    p = approved(world, world.joint)
    HarvestProposal.objects.filter(pk=p.pk).update(version=2)  # a scan revised the figures
    with pytest.raises(approvals.ProposalConflict, match="revised to version 2 after it was approved"):
        approvals.proposal_execute(proposal=p, user=world.advisor)
    p.refresh_from_db()
    assert p.status == "awaiting_approval" and not Execution.objects.exists()
    assert AuditEvent.objects.filter(action="proposal.reopen", object_id=str(p.pk)).count() == 1
    assert set(Notification.objects.filter(proposal=p, kind="awaiting_approval").values_list("user__username", flat=True)) == {"alex", "jordan"}
    approvals.proposal_approve(proposal=p, user=world.alex, version=2)
    approvals.proposal_approve(proposal=p, user=world.jordan, version=2)
    assert approvals.proposal_execute(proposal=p, user=world.advisor).proposal_id == p.pk


def test_the_scans_tell_the_state_machine_about_a_revision(world, policy):
    p = approved(world, world.alex_ind)
    HarvestProposal.objects.filter(pk=p.pk).update(version=2)
    assert approvals.proposal_revised(proposal_id=p.pk) is True
    assert HarvestProposal.objects.get(pk=p.pk).status == "awaiting_approval"
    done = make_proposal(world, world.alex_ind, status="rejected")
    assert approvals.proposal_revised(proposal_id=done.pk) is False

"""The database refuses what must never happen."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from harvester.audit import audit_record
from harvester.models import AuditEvent
from lots.models import Lot, Price, Security, Transaction

pytestmark = pytest.mark.django_db


def test_it_refuses_a_negative_or_zero_quantity(world):
    for qty in ("-1", "0"):
        with pytest.raises(IntegrityError), transaction.atomic():
            world.trade(world.alex_ind, "VTI", "2025-01-02", "buy", qty, "100")


def test_it_refuses_a_duplicate_custodian_id_in_one_account(world):
    world.trade(world.alex_ind, "VTI", "2025-01-02", "buy", "1", "100", custodian_txn_id="X1")
    with pytest.raises(IntegrityError), transaction.atomic():
        world.trade(world.alex_ind, "VTI", "2025-01-03", "buy", "1", "100", custodian_txn_id="X1")
    # The same custodian id in another account is a different transaction.
    world.trade(world.jordan_ind, "VTI", "2025-01-02", "buy", "1", "100", custodian_txn_id="X1")


def test_it_keeps_a_lot_in_the_account_of_its_acquisition(world):
    """A lot can't sit in two accounts: it has one account, which must be its originating trade's."""
    buy = world.trade(world.alex_ind, "VTI", "2025-01-02", "buy", "10", "100")
    vti = Security.objects.get(ticker="VTI")
    fields = dict(security=vti, origin=buy, quantity=Decimal("10"), cost_basis=Decimal("1000"),
                  acquired_date=date(2025, 1, 2), holding_period_start=date(2025, 1, 2))
    Lot.objects.create(account=world.alex_ind, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Lot.objects.create(account=world.alex_ind, **fields)  # the same piece twice
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError, match="must be in the account"), transaction.atomic():
            Lot.objects.create(account=world.jordan_ind, piece=1, **fields)


def test_it_refuses_a_negative_lot_or_a_holding_period_after_acquisition(world):
    buy = world.trade(world.alex_ind, "VTI", "2025-01-02", "buy", "10", "100")
    vti = Security.objects.get(ticker="VTI")
    with pytest.raises(IntegrityError), transaction.atomic():
        Lot.objects.create(account=world.alex_ind, security=vti, origin=buy, quantity=Decimal("-1"),
                           cost_basis=Decimal("1"), acquired_date=date(2025, 1, 2),
                           holding_period_start=date(2025, 1, 2))
    with pytest.raises(IntegrityError), transaction.atomic():
        Lot.objects.create(account=world.alex_ind, security=vti, origin=buy, quantity=Decimal("1"),
                           cost_basis=Decimal("1"), acquired_date=date(2025, 1, 2),
                           holding_period_start=date(2025, 1, 3))


def test_it_refuses_a_specific_lot_sale_without_a_lot(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        world.trade(world.alex_ind, "VTI", "2025-01-02", "sell", "1", "100", lot_selection="specific")


def test_it_keeps_one_price_per_security_and_day(world):
    world.price("VTI", "2025-01-02", "250.10")
    with pytest.raises(IntegrityError), transaction.atomic():
        world.price("VTI", "2025-01-02", "251.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        world.price("VOO", "2025-01-02", "0")


def test_the_universe_is_seeded_with_identity_groups():
    voo, ivv, vti = (Security.objects.get(ticker=t) for t in ("VOO", "IVV", "VTI"))
    day = date(2026, 1, 2)
    assert voo.tracked_index_on(day) == ivv.tracked_index_on(day) == "S&P 500 Index"
    assert vti.tracked_index_on(day) != voo.tracked_index_on(day)
    vxus = Security.objects.get(ticker="VXUS")
    assert vxus.tracked_index_on(date(2013, 6, 3)) == "FTSE Global All Cap ex US Index"
    assert vxus.tracked_index_on(date(2013, 6, 2)) == "MSCI ACWI ex USA IMI Index"


def test_audit_events_are_append_only_in_postgres(world):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    with transaction.atomic():
        event = audit_record(action="test.event", actor=world.advisor, household=world.household, obj=world.household)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(summary="changed")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).summary == ""


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        audit_record(action="test.event", summary="no transaction")
    assert not AuditEvent.objects.filter(action="test.event").exists()


def test_a_transaction_price_is_exact(world):
    t = world.trade(world.alex_ind, "VTI", "2025-01-02", "buy", "0.12345678", "250.123456")
    t.refresh_from_db()
    assert t.quantity == Decimal("0.12345678") and t.price == Decimal("250.123456")
    assert Transaction.objects.get(pk=t.pk).quantity * 2 == Decimal("0.24691356")
    assert Price.objects.count() == 0

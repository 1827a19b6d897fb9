"""The Morgans' two years of harvesting, for the dashboard, projection, calendar and API tests.

2025: Alex harvests 10 VTI in his account (bought 2024-06-03 at 230, sold 2025-03-03 at 210: a short-term
      loss of 200) into ITOT. Alex has a 2025 tax profile (single); Jordan has none.
2026: Alex harvests 10 VEA (bought 2026-01-05 at 50, sold 2026-03-02 at 40) into IEFA. Within 30 days
      Jordan buys 4 VEA (40 of the loss deferred into that lot) and Alex's IRA 3 VEA (30 lost for good):
      30 of the 100 loss is allowed. The joint account sells 2 VTI bought 2024-01-02 at 200 for 260 less a
      1.00 fee: a long-term gain of 119. Alex and Jordan file jointly in 2026; the trust files as a trust.
Closes on 31 December value the taxable holdings for the harvesting yield.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

AS_OF = date(2026, 11, 27)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), tick=False)
    return AS_OF


def execute(world, sale, buy, *, kind="harvest"):
    """An executed proposal for a recorded sale and buy (what proposal_execute leaves behind)."""
    from harvester.models import Execution, HarvestProposal

    proposal = HarvestProposal.objects.create(
        household=world.household,
        kind=kind,
        status=HarvestProposal.Status.EXECUTED,
        fingerprint=f"test-{sale.pk}",
        account=sale.account,
        sell_security=sale.security,
        buy_security=buy.security,
        lots=[],
        sell_quantity=sale.quantity,
        price=sale.price,
        price_date=sale.trade_date,
        proceeds=sale.quantity * sale.price,
        cost_basis=Decimal("0"),
        buy_amount=buy.quantity * buy.price,
    )
    return Execution.objects.create(
        proposal=proposal,
        method=Execution.Method.FILLS,
        executed_by=world.advisor,
        trade_date=sale.trade_date,
        sell_transaction=sale,
        buy_transaction=buy,
        fills={"sell_transactions": [sale.pk], "buy_transaction": buy.pk},
    )


def profile(owner, year, status, income, **extra):
    from accounts.models import OwnerTaxProfile

    return OwnerTaxProfile.objects.create(
        owner=owner, year=year, filing_status=status, ordinary_income=Decimal(income),
        **{k: Decimal(v) for k, v in extra.items()},
    )


@pytest.fixture
def history(world, frozen):
    from lots.ledger import ledger_recompute

    w = world
    w.trade(w.joint, "VTI", "2024-01-02", "buy", "2", "200")
    w.trade(w.alex_ind, "VTI", "2024-06-03", "buy", "10", "230")
    w.vti_sale = w.trade(w.alex_ind, "VTI", "2025-03-03", "sell", "10", "210")
    w.itot_buy = w.trade(w.alex_ind, "ITOT", "2025-03-03", "buy", "10", "210", seq=1)
    w.trade(w.alex_ind, "VEA", "2026-01-05", "buy", "10", "50")
    w.vea_sale = w.trade(w.alex_ind, "VEA", "2026-03-02", "sell", "10", "40")
    w.iefa_buy = w.trade(w.alex_ind, "IEFA", "2026-03-02", "buy", "5", "80", seq=1)
    w.trade(w.trust, "VEA", "2026-03-03", "buy", "5", "40")
    w.trade(w.jordan_ind, "VEA", "2026-03-10", "buy", "4", "41")
    w.trade(w.alex_ira, "VEA", "2026-03-12", "buy", "3", "41")
    w.vti_gain = w.trade(w.joint, "VTI", "2026-06-01", "sell", "2", "260", fees="1.00")
    for ticker, day, close in [
        ("VTI", "2024-12-31", "240"), ("VTI", "2025-12-31", "250"), ("VTI", "2026-11-20", "255"),
        ("ITOT", "2025-12-31", "120"), ("ITOT", "2026-11-20", "125"),
        ("VEA", "2025-12-31", "45"), ("VEA", "2026-11-20", "55"),
        ("IEFA", "2026-11-20", "82"),
    ]:
        w.price(ticker, day, close)
    ledger_recompute(household_id=w.household.pk)
    w.harvest_2025 = execute(w, w.vti_sale, w.itot_buy)
    w.harvest_2026 = execute(w, w.vea_sale, w.iefa_buy)
    profile(w.alex_owner, 2025, "single", "90000")
    profile(w.alex_owner, 2026, "mfj", "120000", state_rate="5")
    profile(w.jordan_owner, 2026, "mfj", "80000", state_rate="4", carryforward_short_term="1000")
    profile(w.trust_owner, 2026, "trust", "20000")
    return w

"""Reading households into the scan core's snapshot: what it holds, and a constant number of queries."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from harvester import scanning
from tests.scans.conftest import SCAN_DATE

pytestmark = pytest.mark.django_db


def test_it_reads_lots_prices_groups_and_the_policy_in_force(harvest):
    w = harvest.world
    snap = scanning.household_snapshot(w.household, as_of=SCAN_DATE)
    vti = next(lot for lot in snap.lots if lot.ticker == "VTI")
    assert vti.account == str(w.alex_ind.pk) and vti.quantity == Decimal("100") and vti.basis == Decimal("25000.00")
    assert vti.origin == str(harvest.vti.pk) and vti.lot_id == f"{harvest.vti.pk}.0"
    assert snap.prices["VTI"].close == Decimal("200") and snap.prices["VTI"].date == date(2026, 12, 9)
    assert snap.identity["VOO"] == snap.identity["IVV"] != snap.identity["VTI"]
    assert snap.asset_classes["VTI"] == snap.asset_classes["ITOT"] == "us_total_market"
    assert snap.chains["us_total_market"][:2] == ("VTI", "ITOT")
    assert snap.policy.min_loss_amount == Decimal("1000.00") and snap.policy.scope == "household"
    kinds = {a.name: a.kind for a in snap.accounts}
    assert kinds == {"Alex individual": "taxable", "Alex IRA": "ira", "Jordan individual": "taxable",
                     "Joint": "taxable", "Trust": "taxable"}


def test_it_puts_spouses_filing_jointly_on_one_return_with_the_years_gains(harvest):
    w = harvest.world
    w.trade(w.joint, "AGG", "2026-01-05", "buy", "10", "100")
    w.trade(w.joint, "AGG", "2026-03-02", "sell", "10", "110")  # +100 short-term on the joint return
    harvest.recompute()
    snap = scanning.household_snapshot(w.household, as_of=SCAN_DATE)
    owners = {o.name: o for o in snap.owners}
    assert owners["Alex"].return_id == owners["Jordan"].return_id != owners["Trust"].return_id
    assert owners["Alex"].profile is owners["Jordan"].profile
    assert owners["Alex"].profile.st_gains == Decimal("100.00")
    assert owners["Alex"].profile.lt_gains == Decimal("30000.00")
    assert owners["Trust"].profile.filing_status == "trust"


def test_it_reads_the_30_days_around_the_scan_and_scheduled_buys_as_dates(harvest):
    from lots.models import ScheduledPurchase, Security

    w = harvest.world
    recent = w.trade(w.alex_ira, "VEA", SCAN_DATE - timedelta(days=12), "reinvest", "1", "50")
    w.trade(w.alex_ira, "VEA", SCAN_DATE - timedelta(days=45), "buy", "1", "55")  # outside the window
    w.trade(w.trust, "AGG", "2026-11-02", "buy", "20", "100")
    w.trade(w.trust, "AGG", "2026-11-20", "sell", "20", "90")  # a loss sale 20 days before the scan
    ScheduledPurchase.objects.create(account=w.alex_ira, security=Security.objects.get(ticker="VEA"), kind="drip",
                                     frequency="quarterly", start_date=date(2025, 3, 25))
    harvest.recompute()
    snap = scanning.household_snapshot(w.household, as_of=SCAN_DATE)
    assert [(a.ticker, a.trade_id) for a in snap.acquisitions if a.account == str(w.alex_ira.pk)] == [
        ("VEA", str(recent.pk))
    ]
    assert [(s.ticker, s.loss) for s in snap.loss_sales] == [("AGG", Decimal("200.00"))]
    drips = [s for s in snap.scheduled if s.kind == "drip"]
    assert drips and all(SCAN_DATE <= s.date <= SCAN_DATE + timedelta(days=30) for s in drips)
    assert {s.account for s in drips} == {str(w.alex_ira.pk)}


def test_it_applies_household_chains_exclusions_and_identity_overrides(harvest):
    from lots.models import (
        AssetClass,
        IdentityOverride,
        ReplacementChain,
        ReplacementChainEntry,
        ReplacementExclusion,
        Security,
    )

    w = harvest.world
    sec = {s.ticker: s for s in Security.objects.all()}
    chain = ReplacementChain.objects.create(asset_class=AssetClass.objects.get(code="us_total_market"),
                                            household=w.household)
    ReplacementChainEntry.objects.create(chain=chain, position=1, security=sec["SCHB"])
    ReplacementChainEntry.objects.create(chain=chain, position=2, security=sec["VTI"])
    ReplacementExclusion.objects.create(household=w.household, security=sec["IEFA"], reason="held elsewhere")
    IdentityOverride.objects.create(household=w.household, security=sec["ITOT"], group="CRSP US Total Market Index",
                                    reason="treated as identical", created_by=w.advisor)
    snap = scanning.household_snapshot(w.household, as_of=SCAN_DATE)
    assert snap.chains["us_total_market"] == ("SCHB", "VTI")
    assert snap.chains["intl_developed"][0] == "VEA"  # the default chain of the other classes
    assert snap.exclusions == frozenset({"IEFA"})
    assert snap.identity["ITOT"] == snap.identity["VTI"]
    other = scanning.household_snapshot(w.other_household, as_of=SCAN_DATE)
    assert other.chains["us_total_market"][:2] == ("VTI", "ITOT") and other.identity["ITOT"] != other.identity["VTI"]


def test_it_reads_any_number_of_households_with_the_same_queries(harvest, django_user_model):
    """One household or three with ten times the lots: the same number of queries (no N+1)."""
    from accounts.models import Account, Household, Owner, TaxpayerUnit
    from harvester.models import HarvestPolicy

    w = harvest.world
    with CaptureQueriesContext(connection) as one:
        scanning.households_snapshots([w.household.pk], as_of=SCAN_DATE)
    ids = [w.household.pk]
    for n in range(2):
        hh = Household.objects.create(name=f"Extra {n}")
        unit = TaxpayerUnit.objects.create(household=hh, name="Family")
        owner = Owner.objects.create(household=hh, name=f"Owner {n}", taxpayer_unit=unit)
        HarvestPolicy.objects.create(household=hh, version=1)
        for k in range(3):
            account = Account.objects.create(household=hh, name=f"Account {k}", kind="individual")
            account.owners.set([owner])
            for i in range(4):
                w.trade(account, ("VTI", "VEA", "AGG")[i % 3], date(2025, 1, 2 + i), "buy", "3", "100")
        from lots.ledger import ledger_recompute

        ledger_recompute(household_id=hh.pk)
        ids.append(hh.pk)
    with CaptureQueriesContext(connection) as many:
        inputs = scanning.households_snapshots(ids, as_of=SCAN_DATE)
    assert len(many.captured_queries) == len(one.captured_queries) <= 14
    assert sum(len(i.snapshot.lots) for i in inputs.values()) == 2 + 24
    assert "no earlier version was acknowledged" in inputs[ids[1]].problem


def test_it_says_why_a_household_without_an_acknowledged_policy_gets_no_proposals(world):
    from harvester.models import HarvestPolicy

    item = scanning.households_snapshots([world.household.pk], as_of=SCAN_DATE)[world.household.pk]
    assert item.problem.startswith("No harvest policy yet")
    HarvestPolicy.objects.create(household=world.household, version=1)
    item = scanning.households_snapshots([world.household.pk], as_of=SCAN_DATE)[world.household.pk]
    assert "policy version 1 waits for every owner's acknowledgment" in item.problem


def test_the_chunks_of_one_scan_read_the_shared_part_once(harvest):
    """Securities, identity groups, closes and default chains are one moment of the scan: a worker reads
    them for its first chunk only."""
    key = object()
    with CaptureQueriesContext(connection) as first:
        scanning.households_snapshots([harvest.household.pk], as_of=SCAN_DATE, cache_key=key)
    with CaptureQueriesContext(connection) as later:
        scanning.households_snapshots([harvest.household.pk], as_of=SCAN_DATE, cache_key=key)
    assert len(later.captured_queries) == len(first.captured_queries) - 4


def test_a_household_without_accounts_reads_as_an_empty_snapshot(world):
    from accounts.models import Household

    empty = Household.objects.create(name="Empty household")
    item = scanning.households_snapshots([empty.pk], as_of=SCAN_DATE)[empty.pk]
    assert (item.snapshot.accounts, item.snapshot.lots, item.snapshot.acquisitions) == ((), (), ())
    assert item.problem.startswith("No harvest policy yet")

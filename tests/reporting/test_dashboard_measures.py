"""The dashboard's measures, read from the stored ledger and checked against the scenario by hand."""

from datetime import date
from decimal import Decimal

import pytest

from harvester import dashboard
from harvester.core import tax as taxcore
from harvester.models import Execution

pytestmark = pytest.mark.django_db

D = Decimal


def household_data(world, owner=None):
    return dashboard.dashboard_data(dashboard.Scope.for_household(world.household, owner), as_of=date(2026, 11, 27))


def test_it_reports_realized_by_year_and_term(history):
    rows = {r.year: r for r in dashboard.year_rows(household_data(history))}
    assert sorted(rows) == [2025, 2026]
    assert (rows[2025].realized.short, rows[2025].realized.long) == (D("-200.00"), D("0.00"))
    assert (rows[2026].realized.short, rows[2026].realized.long) == (D("-30.00"), D("119.00"))
    assert rows[2026].realized.disallowed == D("70.00")


def test_it_counts_the_losses_of_executed_harvests(history):
    data = household_data(history)
    assert data.harvest_source == "executions"
    rows = {r.year: r for r in dashboard.year_rows(data)}
    assert rows[2025].harvested == D("200.00") and rows[2026].harvested == D("30.00")  # allowed part only
    assert rows[2026].cumulative_harvested == D("230.00")


def test_it_falls_back_to_all_realized_losses_without_executions(history):
    Execution.objects.all().delete()
    data = household_data(history)
    assert data.harvest_source == "all_losses"
    rows = {r.year: r for r in dashboard.year_rows(data)}
    assert rows[2026].harvested == D("30.00") and rows[2025].harvested == D("200.00")


def test_a_sale_that_was_not_a_harvest_is_not_counted(history):
    Execution.objects.filter(pk=history.harvest_2026.pk).delete()
    rows = {r.year: r for r in dashboard.year_rows(household_data(history))}
    assert rows[2026].harvested == D("0.00") and rows[2025].harvested == D("200.00")


def test_it_splits_wash_sales_into_deferred_and_permanent(history):
    rows = {r.year: r for r in dashboard.year_rows(household_data(history))}
    assert (rows[2026].deferred, rows[2026].permanent) == (D("40.00"), D("30.00"))
    assert (rows[2025].deferred, rows[2025].permanent) == (D("0.00"), D("0.00"))


def test_the_harvesting_yield_divides_by_taxable_holdings_on_1_january(history):
    rows = {r.year: r for r in dashboard.year_rows(household_data(history))}
    # 1 Jan 2025: joint 2 VTI + Alex 10 VTI at the 2024-12-31 close of 240.
    assert rows[2025].start_value.value == D("2880.00")
    assert rows[2025].harvesting_yield == D("6.94")  # 200 / 2,880
    # 1 Jan 2026: joint 2 VTI at 250 + Alex 10 ITOT at 120 (the IRA's shares do not count).
    assert rows[2026].start_value.value == D("1700.00")
    assert rows[2026].harvesting_yield == D("1.76")  # 30 / 1,700


def test_a_missing_close_makes_the_start_value_unknown_not_wrong(history):
    from lots.models import Price

    Price.objects.filter(security__ticker="ITOT", date__lte=date(2026, 1, 1)).delete()
    rows = {r.year: r for r in dashboard.year_rows(household_data(history))}
    assert rows[2026].start_value.value is None and rows[2026].start_value.missing == ("ITOT",)
    assert rows[2026].harvesting_yield is None


def joint_profile(st, lt):
    return taxcore.TaxProfile(
        year=2026, filing_status="mfj", ordinary_income=D("200000.00"), state_rate=D("5.0000"),
        st_gains=st, lt_gains=lt, carryforward_st=D("1000.00"), carryforward_lt=D("0.00"),
    )


def test_a_joint_return_adds_up_both_spouses_and_the_joint_account(history):
    data = household_data(history)
    by_label = {p.label: p for p in dashboard.projections(data, 2026)}
    assert set(by_label) == {"Alex & Jordan", "Trust"}
    joint = by_label["Alex & Jordan"]
    assert joint.filing_status == "mfj"
    assert (joint.realized_short, joint.realized_long) == (D("-30.00"), D("119.00"))
    assert (joint.harvested_short, joint.harvested_long) == (D("-30.00"), D("0.00"))
    after = taxcore.project(joint_profile(D("-30.00"), D("119.00")))
    before = taxcore.project(joint_profile(D("0.00"), D("119.00")))
    assert joint.after == after and joint.before == before
    assert joint.effect == before.total_formula - after.total_formula > 0
    # Carryforward: 1,000 short-term carried in, 30 more lost: the 119 gain and 3,000 of income absorb it all.
    assert joint.carryforward_in_short == D("1000.00")
    assert (joint.after.carryforward_st_next, joint.after.carryforward_lt_next) == (D("0.00"), D("0.00"))
    assert joint.offset_limit == D("3000.00") and joint.offset_used == D("911.00")
    assert joint.offset_left == D("2089.00")


def test_separate_returns_split_a_joint_account_in_halves(history):
    from accounts.models import OwnerTaxProfile

    OwnerTaxProfile.objects.filter(owner=history.jordan_owner, year=2026).update(filing_status="mfs")
    OwnerTaxProfile.objects.filter(owner=history.alex_owner, year=2026).update(filing_status="mfs")
    by_label = {p.label: p for p in dashboard.projections(household_data(history), 2026)}
    assert by_label["Alex"].realized_long == D("59.50") and by_label["Jordan"].realized_long == D("59.50")
    assert by_label["Alex"].realized_short == D("-30.00") and by_label["Jordan"].realized_short == D("0.00")
    assert by_label["Alex"].offset_limit == D("1500.00")


def test_owner_projection_is_the_return_the_owner_is_on(history, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        projection = dashboard.owner_projection(history.jordan_owner, 2026)
    assert projection.label == "Alex & Jordan" and projection.after.total_formula > 0
    value = taxcore.harvest_value(projection.profile, D("500"), D("0"))
    assert value.tax_before == projection.after.total_formula


def test_an_owner_without_a_profile_gets_a_reason_not_a_number(history):
    projection = dashboard.owner_projection(history.jordan_owner, 2025)
    assert projection.after is None and "No tax profile for 2025" in projection.note


def test_the_tax_value_by_year_needs_a_profile_and_says_what_is_missing(history):
    from accounts.models import OwnerTaxProfile

    rows = {r.year: r for r in dashboard.year_rows(household_data(history))}
    # 2025: Alex (single, 90,000) harvested 200 short-term: the exact-rate tax value of that loss.
    single = taxcore.TaxProfile(year=2025, filing_status="single", ordinary_income=D("90000.00"), state_rate=D("0"),
                                st_gains=D("-200.00"))
    expected = taxcore.project(single.with_realized(D("200.00"), D("0"))).total_formula - taxcore.project(single).total_formula
    assert rows[2025].tax_value == expected == D("44.00")  # 22% bracket
    assert rows[2026].tax_value == dashboard.owner_projection(history.alex_owner, 2026).effect
    assert rows[2026].cumulative_tax_value == rows[2025].tax_value + rows[2026].tax_value
    OwnerTaxProfile.objects.filter(year=2025).delete()
    rows = {r.year: r for r in dashboard.year_rows(household_data(history))}
    assert rows[2025].tax_value is None and "Alex" in rows[2025].tax_value_note and "$200.00" in rows[2025].tax_value_note


def test_one_owners_scope_shows_their_accounts_and_their_return(history):
    data = household_data(history, history.jordan_owner)
    assert set(data.accounts) == {history.jordan_ind.pk, history.joint.pk}
    rows = {r.year: r for r in dashboard.year_rows(data)}
    assert rows[2026].realized.long == D("119.00") and rows[2026].realized.short == D("0.00")
    assert [p.label for p in dashboard.projections(data, 2026)] == ["Alex & Jordan"]


def test_the_drill_down_goes_from_owner_groups_to_accounts_to_sales(history):
    data = household_data(history)
    groups = {g.label: g for g in dashboard.drill_groups(data, 2026)}
    assert groups["Alex"].totals.short == D("-30.00") and groups["Alex & Jordan"].totals.long == D("119.00")
    accounts = dashboard.drill_accounts(data, 2026, groups["Alex"].key)
    assert [a.label for a in accounts] == ["Alex individual"]  # the IRA has nothing reportable
    sales, count = dashboard.drill_sales(history.alex_ind.pk, 2026, page=1, harvest_sales=data.harvest_sales)
    assert count == 1 and sales[0].sale_id == history.vea_sale.pk and sales[0].harvest
    assert (sales[0].short, sales[0].disallowed) == (D("-30.00"), D("70.00"))


def test_across_households_the_drill_down_starts_with_households(history):
    from accounts.models import Household

    data = dashboard.dashboard_data(
        dashboard.Scope.for_households(Household.objects.all()), as_of=date(2026, 11, 27)
    )
    labels = [g.label for g in dashboard.drill_groups(data, 2026)]
    assert labels == ["Chen household", "Morgan household"]

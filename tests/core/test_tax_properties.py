"""Properties of the tax projection on generated returns (hypothesis)."""

from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvester.core import TaxProfile, harvest_value, project
from harvester.core.tax_tables import FILING_STATUSES

PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def money(low: int, high: int):
    return st.integers(low * 100, high * 100).map(lambda cents: Decimal(cents) / 100)


@st.composite
def profiles(draw):
    income = draw(st.one_of(money(0, 120_000), money(0, 2_000_000)))
    return TaxProfile(
        year=draw(st.sampled_from([2025, 2026])),
        filing_status=draw(st.sampled_from(FILING_STATUSES)),
        ordinary_income=income,
        qualified_dividends=draw(st.one_of(st.just(Decimal(0)), money(0, 100_000))),
        state_rate=draw(st.sampled_from([Decimal(0), Decimal("4.25"), Decimal("9.3")])),
        st_gains=draw(money(-150_000, 150_000)),
        lt_gains=draw(money(-150_000, 400_000)),
        carryforward_st=draw(st.one_of(st.just(Decimal(0)), money(0, 50_000))),
        carryforward_lt=draw(st.one_of(st.just(Decimal(0)), money(0, 50_000))),
        net_investment_income_extra=draw(st.one_of(st.just(Decimal(0)), money(0, 50_000))),
    )


@PROFILE
@given(profiles(), money(0, 300_000))
def test_tax_never_falls_when_income_rises(profile, more):
    richer = replace(profile, ordinary_income=profile.ordinary_income + more)
    before, after = project(profile), project(richer)
    assert after.total >= before.total
    assert after.total_formula >= before.total_formula


@PROFILE
@given(profiles(), money(0, 100_000), money(0, 100_000), st.booleans())
def test_a_larger_loss_never_increases_tax(profile, loss, extra, short):
    def after(amount):
        return profile.with_realized(-amount, Decimal(0)) if short else profile.with_realized(Decimal(0), -amount)

    smaller, larger = project(after(loss)), project(after(loss + extra))
    assert larger.total <= smaller.total
    assert larger.total_formula <= smaller.total_formula


@PROFILE
@given(profiles())
def test_carryforward_plus_used_loss_is_the_net_loss(profile):
    b = project(profile)
    net_loss = -b.net_capital if b.net_capital < 0 else Decimal(0)
    assert b.carryforward_st_next + b.carryforward_lt_next + b.loss_used == net_loss
    assert b.loss_used <= b.capital_loss_deduction <= (1500 if profile.filing_status == "mfs" else 3000)
    # Character is kept: a carryforward only of a kind that was a net loss.
    assert b.carryforward_st_next == 0 or b.net_short_term < 0
    assert b.carryforward_lt_next == 0 or b.net_long_term < 0


@PROFILE
@given(profiles(), money(0, 100_000), money(0, 100_000))
def test_the_value_of_harvesting_is_never_negative(profile, loss_short, loss_long):
    value = harvest_value(profile, loss_short, loss_long)
    assert value.value_now >= 0
    assert value.value_now == value.tax_before - value.tax_after
    assert value.basis_reduction == loss_short + loss_long


@PROFILE
@given(profiles())
def test_the_parts_add_up_to_the_total(profile):
    b = project(profile)
    assert b.total == b.income_tax + b.niit + b.state_tax
    assert b.taxable_income == b.ordinary_taxable_income + b.preferential_income
    assert sum(line.amount for line in b.ordinary_lines) == b.ordinary_taxable_income
    assert sum(line.amount for line in b.preferential_lines) == b.preferential_income
    if b.method == "formula":
        assert b.income_tax == b.income_tax_formula and b.income_tax_table is None
    else:
        assert abs(b.income_tax - b.income_tax_formula) <= Decimal("10")  # half a $50 row at 24%, plus rounding

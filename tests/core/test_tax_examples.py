"""The worked examples of docs/tax_projection.md, one per filing status: each number asserted here is a
line of the document. If one changes, change both."""

from decimal import Decimal

import pytest

from harvester.core import TaxProfile, harvest_value, project
from harvester.core.tax import tax_table_row, tax_table_tax
from harvester.core.tax_tables import load_year


def D(text) -> Decimal:
    return Decimal(str(text))


def lines(breakdown, which="ordinary_lines"):
    return [(str(line.rate), str(line.amount), str(line.tax)) for line in getattr(breakdown, which)]


def test_example_1_single_2026_long_term_gains_on_top_of_ordinary_income():
    b = project(TaxProfile(2026, "single", ordinary_income=D("150000"), qualified_dividends=D("2000"),
                           st_gains=D("4000"), lt_gains=D("20000"), carryforward_lt=D("5000"), state_rate=D("5"),
                           net_investment_income_extra=D("1000")))
    assert (b.net_short_term, b.net_long_term, b.net_capital) == (D("4000"), D("15000"), D("19000"))
    assert (b.agi, b.deduction, b.taxable_income) == (D("171000"), D("16100"), D("154900"))
    assert (b.ordinary_taxable_income, b.preferential_income) == (D("137900"), D("17000"))
    assert lines(b) == [("0.10", "12400.00", "1240.00"), ("0.12", "38000.00", "4560.00"),
                        ("0.22", "55300.00", "12166.00"), ("0.24", "32200.00", "7728.00")]
    assert b.ordinary_tax == D("25694")
    assert lines(b, "preferential_lines") == [("0.15", "17000.00", "2550.00")]
    assert (b.preferential_tax, b.regular_tax, b.income_tax, b.method) == (D("2550"), D("29774"), D("28244"),
                                                                            "formula")
    assert b.income_tax_table is None and b.income_tax_formula == D("28244")
    assert (b.net_investment_income, b.niit) == (D("22000"), D("0"))
    assert (b.state_tax, b.total) == (D("7745"), D("35989"))
    assert (b.carryforward_st_next, b.carryforward_lt_next) == (D("0"), D("0"))


def test_example_2_mfj_2025_netting_and_the_investment_income_tax():
    b = project(TaxProfile(2025, "mfj", ordinary_income=D("260000"), qualified_dividends=D("10000"),
                           st_gains=D("-8000"), lt_gains=D("30000")))
    assert (b.net_short_term, b.net_long_term, b.net_capital) == (D("-8000"), D("30000"), D("22000"))
    assert (b.agi, b.deduction, b.taxable_income) == (D("292000"), D("31500"), D("260500"))
    assert (b.ordinary_taxable_income, b.preferential_income) == (D("228500"), D("32000"))
    assert lines(b) == [("0.10", "23850.00", "2385.00"), ("0.12", "73100.00", "8772.00"),
                        ("0.22", "109750.00", "24145.00"), ("0.24", "21800.00", "5232.00")]
    assert (b.ordinary_tax, b.preferential_tax, b.income_tax) == (D("40534"), D("4800"), D("45334"))
    assert b.regular_tax == D("48214")
    assert (b.net_investment_income, b.niit) == (D("32000"), D("1216"))
    assert (b.state_tax, b.total, b.method) == (D("0"), D("46550"), "formula")


def test_example_3_mfs_2026_net_loss_limit_and_carryforward_by_character_with_the_tax_table():
    b = project(TaxProfile(2026, "mfs", ordinary_income=D("70000"), st_gains=D("-4000"), lt_gains=D("1000"),
                           carryforward_lt=D("2000"), state_rate=D("4")))
    assert (b.net_short_term, b.net_long_term, b.net_capital) == (D("-4000"), D("-1000"), D("-5000"))
    assert (b.capital_loss_deduction, b.loss_used) == (D("1500"), D("1500"))
    assert (b.carryforward_st_next, b.carryforward_lt_next) == (D("2500"), D("1000"))
    assert (b.agi, b.taxable_income) == (D("68500"), D("52400"))
    assert lines(b) == [("0.10", "12400.00", "1240.00"), ("0.12", "38000.00", "4560.00"),
                        ("0.22", "2000.00", "440.00")]
    assert tax_table_row(D("52400")) == (D("52400"), D("52450"))
    assert (b.income_tax_formula, b.income_tax_table, b.income_tax, b.method) == (D("6240"), D("6246"), D("6246"),
                                                                                   "tax_table")
    assert (b.niit, b.state_tax, b.total, b.total_formula) == (D("0"), D("2096"), D("8342"), D("8336"))


def test_example_4_hoh_2025_gains_across_the_0_and_15_percent_rates():
    b = project(TaxProfile(2025, "hoh", ordinary_income=D("70010"), qualified_dividends=D("1000"),
                           lt_gains=D("20000"), state_rate=D("3")))
    assert (b.agi, b.deduction, b.taxable_income) == (D("91010"), D("23625"), D("67385"))
    assert (b.ordinary_taxable_income, b.preferential_income) == (D("46385"), D("21000"))
    assert lines(b) == [("0.10", "17000.00", "1700.00"), ("0.12", "29385.00", "3526.20")]
    assert lines(b, "preferential_lines") == [("0.00", "18365.00", "0.00"), ("0.15", "2635.00", "395.25")]
    assert b.ordinary_tax == D("5225")  # Tax Table row 46,350-46,400: the tax on 46,375
    assert (b.income_tax, b.income_tax_formula, b.method) == (D("5620.25"), D("5621.45"), "tax_table")
    assert b.regular_tax == D("7998")  # the Tax Table on all of 67,385: row 67,350-67,400
    assert (b.state_tax, b.total, b.total_formula) == (D("2021.55"), D("7641.80"), D("7643.00"))


def test_example_5_trust_2026_compressed_brackets_20_percent_gains_and_niit():
    b = project(TaxProfile(2026, "trust", ordinary_income=D("12000"), qualified_dividends=D("3000"),
                           lt_gains=D("10000"), carryforward_st=D("1000"), state_rate=D("5"),
                           net_investment_income_extra=D("12000")))
    assert (b.net_short_term, b.net_long_term, b.net_capital) == (D("-1000"), D("10000"), D("9000"))
    assert (b.agi, b.deduction, b.taxable_income) == (D("24000"), D("100"), D("23900"))
    assert (b.ordinary_taxable_income, b.preferential_income) == (D("11900"), D("12000"))
    assert lines(b) == [("0.10", "3300.00", "330.00"), ("0.24", "8400.00", "2016.00"), ("0.35", "200.00", "70.00")]
    assert lines(b, "preferential_lines") == [("0.15", "4350.00", "652.50"), ("0.20", "7650.00", "1530.00")]
    assert (b.ordinary_tax, b.preferential_tax, b.income_tax, b.method) == (D("2416"), D("2182.50"), D("4598.50"),
                                                                            "formula")
    assert b.regular_tax == D("6774")
    assert "Form 1041 has no Tax Table" in b.method_note
    assert (b.net_investment_income, b.niit, b.state_tax, b.total) == (D("24000"), D("304"), D("1195"), D("6097.50"))


def test_example_6_single_2025_a_loss_that_lowers_nothing_carries_forward_whole():
    b = project(TaxProfile(2025, "single", ordinary_income=D("10000"), st_gains=D("-5000")))
    assert (b.capital_loss_deduction, b.agi, b.taxable_income) == (D("3000"), D("7000"), D("0"))
    assert b.loss_used == D("0")  # worksheet: line 1 (-8,750) + line 2 (3,000) is below zero
    assert (b.carryforward_st_next, b.carryforward_lt_next, b.total) == (D("5000"), D("0"), D("0"))


def test_example_7_the_value_of_harvesting_3000_for_the_single_filer_of_example_1():
    profile = TaxProfile(2026, "single", ordinary_income=D("150000"), qualified_dividends=D("2000"),
                         st_gains=D("4000"), lt_gains=D("20000"), carryforward_lt=D("5000"), state_rate=D("5"),
                         net_investment_income_extra=D("1000"))
    v = harvest_value(profile, loss_short=D("3000"), loss_long=D("0"))
    assert (v.tax_before, v.tax_after, v.value_now) == (D("35989"), D("35119"), D("870"))
    assert (v.federal_saving, v.niit_saving, v.state_saving) == (D("720"), D("0"), D("150"))
    assert (v.basis_reduction, v.carryforward_added_st) == (D("3000"), D("0"))
    assert "deferred, not forgiven" in v.explanation
    after = project(profile.with_realized(D("-3000"), D("0")))
    assert (after.net_short_term, after.net_capital, after.taxable_income) == (D("1000"), D("16000"), D("151900"))
    assert (after.ordinary_taxable_income, after.income_tax, after.state_tax) == (D("134900"), D("27524"), D("7595"))


@pytest.mark.parametrize("income, row, tax", [
    ("0", ("0", "5"), "0"),
    ("4.99", ("0", "5"), "0"),
    ("5", ("5", "15"), "1"),
    ("20", ("15", "25"), "2"),
    ("30", ("25", "50"), "4"),  # 10% of 37.50 = 3.75
    ("2999", ("2975", "3000"), "299"),  # 10% of 2,987.50 = 298.75
    ("3000", ("3000", "3050"), "303"),  # 10% of 3,025 = 302.50, half up
    ("99999", ("99950", "100000"), "16909"),  # 1,192.50 + 4,386 + 22% of (99,975 - 48,475) = 16,908.50
])
def test_the_tax_table_rows_and_their_midpoint_tax(income, row, tax):
    brackets = load_year(2025).ordinary["single"]
    assert tax_table_row(D(income)) == (D(row[0]), D(row[1]))
    assert tax_table_tax(D(income), brackets) == D(tax)


def test_the_tax_table_stops_at_100000():
    at = project(TaxProfile(2025, "single", ordinary_income=D("115750")))  # taxable income exactly 100,000
    below = project(TaxProfile(2025, "single", ordinary_income=D("115749")))
    assert (at.method, below.method) == ("formula", "tax_table")

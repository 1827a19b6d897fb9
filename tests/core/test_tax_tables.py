"""The tax tables are data: one JSON file per year, parsed as Decimal, checked for shape, with sources."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from harvester.core import TaxProfile, project
from harvester.core.tax_tables import FILING_STATUSES, TAX_DIR, TaxTableError, available_years, load_year, parse_tables


def test_2025_and_2026_are_there_with_a_source_for_every_section():
    assert {2025, 2026} <= set(available_years())
    assert "Rev. Proc. 2024-40" in load_year(2025).sources["ordinary_brackets"]
    assert "Rev. Proc. 2025-32" in load_year(2026).sources["ordinary_brackets"]
    assert "P.L. 119-21" in load_year(2025).sources["standard_deduction"]


def test_figures_are_exact_decimals_from_the_json_text():
    t = load_year(2026)
    assert t.ordinary["single"][1].start == Decimal("12400") and t.ordinary["single"][1].rate == Decimal("0.12")
    assert t.niit_rate == Decimal("0.038")
    assert (t.capital_loss_limit["mfs"], t.capital_loss_limit["mfj"]) == (Decimal("1500"), Decimal("3000"))
    assert t.standard_deduction["mfj"] == Decimal("32200")
    assert t.niit_threshold["trust"] == t.ordinary["trust"][-1].start == Decimal("16000")


@pytest.mark.parametrize("year, status, zero_to, fifteen_to", [
    (2025, "single", "48350", "533400"), (2025, "mfj", "96700", "600050"), (2025, "mfs", "48350", "300000"),
    (2025, "hoh", "64750", "566700"), (2025, "trust", "3250", "15900"), (2026, "single", "49450", "545500"),
    (2026, "mfj", "98900", "613700"), (2026, "mfs", "49450", "306850"), (2026, "hoh", "66200", "579600"),
    (2026, "trust", "3300", "16250"),
])
def test_capital_gain_breakpoints_match_product_tax_facts(year, status, zero_to, fifteen_to):
    brackets = load_year(year).capital_gains[status]
    assert (brackets[1].start, brackets[2].start) == (Decimal(zero_to), Decimal(fifteen_to))


def test_a_missing_year_is_a_clear_error():
    with pytest.raises(TaxTableError, match=r"no tax tables for 2031: add .*2031.json .*years available: 2025, 2026"):
        load_year(2031)
    with pytest.raises(TaxTableError, match="no tax tables for 2031"):
        project(TaxProfile(2031, "single"))


def _raw(year=2026):
    return json.loads((TAX_DIR / f"{year}.json").read_text(), parse_float=Decimal, parse_int=Decimal)


@pytest.mark.parametrize("damage, message", [
    (lambda r: r.pop("niit"), "missing section 'niit'"),
    (lambda r: r["ordinary_brackets"].pop("hoh"), "missing filing status 'hoh'"),
    (lambda r: r["ordinary_brackets"]["single"].reverse(), "starts must increase"),
    (lambda r: r["ordinary_brackets"]["single"][0].__setitem__(1, Decimal("22")), "not a fraction"),
    (lambda r: r["capital_gains"]["mfj"].pop(), "0%, 15% and 20%"),
    (lambda r: r["standard_deduction"].__setitem__("mfs", "16100"), "expected a non-negative number"),
    (lambda r: r["niit"]["threshold"].__setitem__("trust", Decimal("1")), "top trust bracket"),
    (lambda r: r["sources"].__setitem__("niit", ""), "sources.niit"),
])
def test_a_malformed_year_fails_at_load_time(damage, message):
    raw = _raw()
    damage(raw)
    with pytest.raises(TaxTableError, match=message):
        parse_tables(raw)


def test_a_new_year_is_a_data_change(tmp_path: Path):
    raw = json.loads((TAX_DIR / "2026.json").read_text())
    raw["year"] = 2027
    (tmp_path / "2027.json").write_text(json.dumps(raw))
    tables = load_year(2027, tmp_path)
    assert tables.year == 2027
    b = project(TaxProfile(2027, "single", ordinary_income=Decimal("50000")), tables)
    assert b.taxable_income == Decimal("33900.00")


def test_every_status_is_in_every_section():
    for year in available_years():
        t = load_year(year)
        for section in (t.ordinary, t.capital_gains, t.niit_threshold, t.standard_deduction, t.capital_loss_limit):
            assert set(section) == set(FILING_STATUSES)

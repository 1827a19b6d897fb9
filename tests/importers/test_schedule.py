"""Dates of scheduled purchases and the NYSE calendar (lots/schedule.py): pure, no database."""

from datetime import date
from types import SimpleNamespace

import pytest

from lots.schedule import Schedule, is_trading_day, next_dates, nyse_holidays, scheduled_dates, trading_days_after


def test_it_knows_the_nyse_holidays_of_2026():
    assert sorted(nyse_holidays(2026)) == [
        date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16), date(2026, 4, 3), date(2026, 5, 25),
        date(2026, 6, 19), date(2026, 7, 3), date(2026, 9, 7), date(2026, 11, 26), date(2026, 12, 25)]


def test_it_observes_saturday_holidays_on_friday_but_not_new_year_in_the_year_before():
    assert date(2027, 6, 18) in nyse_holidays(2027)  # Juneteenth on a Saturday
    assert date(2021, 12, 31) not in nyse_holidays(2021)  # 2022-01-01 was a Saturday: no holiday
    assert not is_trading_day(date(2025, 1, 9))  # national day of mourning (President Carter)


def test_trading_days_after_counts_open_days_only():
    friday = date(2026, 11, 20)
    assert trading_days_after(friday, date(2026, 11, 22)) == 0  # weekend
    assert trading_days_after(friday, date(2026, 11, 25)) == 3
    assert trading_days_after(friday, date(2026, 11, 27)) == 4  # Thanksgiving (26th) is closed
    assert trading_days_after(friday, friday) == 0


def test_it_gives_monthly_dates_rolled_to_the_next_trading_day():
    spec = Schedule("contribution", "monthly", date(2026, 1, 3))
    assert scheduled_dates(spec, date(2026, 1, 1), date(2026, 4, 30)) == [
        date(2026, 1, 5), date(2026, 2, 3), date(2026, 3, 3), date(2026, 4, 3 + 3)]  # Apr 3 Good Friday -> Mon 6th


def test_it_clamps_the_31st_to_the_end_of_shorter_months():
    spec = Schedule("contribution", "monthly", date(2028, 1, 31))
    # April 30, 2028 is a Sunday: that purchase executes on May 1, outside the window
    assert scheduled_dates(spec, date(2028, 2, 1), date(2028, 4, 30)) == [date(2028, 2, 29), date(2028, 3, 31)]
    # Jan 31 and Feb 28, 2026 are Saturdays: those purchases execute on Monday Feb 2 and Monday March 2
    assert scheduled_dates(Schedule("contribution", "monthly", date(2026, 1, 31)), date(2026, 2, 1),
                           date(2026, 3, 3)) == [date(2026, 2, 2), date(2026, 3, 2)]


@pytest.mark.parametrize(("frequency", "expected"), [
    ("weekly", [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30)]),
    ("biweekly", [date(2026, 11, 9), date(2026, 11, 23)]),
    ("semimonthly", [date(2026, 11, 2), date(2026, 11, 16)]),
    ("quarterly", [date(2026, 11, 9)]),
])
def test_it_gives_each_frequency(frequency, expected):
    spec = Schedule("payroll", frequency, date(2026, 2, 9) if frequency == "quarterly" else date(2026, 10, 26))
    if frequency == "weekly":
        spec = Schedule("payroll", "weekly", date(2026, 10, 26))
    if frequency == "biweekly":
        spec = Schedule("payroll", "biweekly", date(2026, 10, 26))
    assert scheduled_dates(spec, date(2026, 11, 1), date(2026, 11, 30)) == expected


def test_a_drip_of_an_equity_etf_follows_the_quarterly_distribution_months():
    spec = Schedule("drip", "quarterly", date(2025, 1, 1), asset_class="us_total_market")
    assert scheduled_dates(spec, date(2026, 1, 1), date(2026, 12, 31)) == [
        date(2026, 3, 25), date(2026, 6, 25), date(2026, 9, 25), date(2026, 12, 28)]  # Dec 25 closed, 26-27 weekend


def test_a_drip_of_a_bond_etf_is_monthly():
    spec = Schedule("drip", "quarterly", date(2025, 1, 1), asset_class="us_bonds")
    assert scheduled_dates(spec, date(2026, 9, 1), date(2026, 11, 30)) == [
        date(2026, 9, 8), date(2026, 10, 5), date(2026, 11, 5)]  # Sep 5 is a Saturday, the 7th Labor Day


def test_a_pause_end_date_and_inactive_flag_are_respected():
    spec = Schedule("contribution", "weekly", date(2026, 11, 2), paused_until=date(2026, 11, 16),
                    end_date=date(2026, 11, 23))
    assert scheduled_dates(spec, date(2026, 11, 1), date(2026, 12, 31)) == [date(2026, 11, 16), date(2026, 11, 23)]
    inactive = Schedule("contribution", "weekly", date(2026, 11, 2), active=False)
    assert scheduled_dates(inactive, date(2026, 11, 1), date(2026, 12, 31)) == []


def test_nothing_before_the_start_date_or_outside_the_window():
    spec = Schedule("contribution", "monthly", date(2026, 12, 15))
    assert scheduled_dates(spec, date(2026, 11, 1), date(2026, 12, 14)) == []
    assert scheduled_dates(spec, date(2026, 12, 15), date(2026, 12, 15)) == [date(2026, 12, 15)]


def test_it_reads_a_scheduled_purchase_like_object():
    purchase = SimpleNamespace(kind="drip", frequency="monthly", start_date=date(2025, 1, 1), end_date=None,
                               paused_until=None, active=True,
                               security=SimpleNamespace(asset_class=SimpleNamespace(code="muni_national")))
    assert next_dates(purchase, date(2026, 11, 27), count=2) == [date(2026, 12, 7), date(2027, 1, 5)]


def test_it_refuses_an_unknown_frequency():
    with pytest.raises(ValueError, match="unknown frequency"):
        scheduled_dates(Schedule("contribution", "daily", date(2026, 1, 1)), date(2026, 1, 1), date(2026, 2, 1))

"""Dates of scheduled purchases, and the NYSE trading calendar they and price staleness use. Pure: no Django.

    from lots.schedule import Schedule, scheduled_dates
    scheduled_dates(Schedule("contribution", "monthly", date(2026, 1, 3)), date(2026, 11, 27), date(2026, 12, 27))

The forward-looking wash-sale guard (PRODUCT.md "Harvesting", guard 2) asks which automatic buys land in
the next 30 days; `scheduled_dates(spec, start, end)` answers with the trading days on which each one is
expected to execute. `spec` is a Schedule, or any object with the attributes of lots.models.ScheduledPurchase
(kind, frequency, start_date, end_date, paused_until, active; a DRIP also reads security.asset_class.code).

Rules and assumptions (docs/importing.md "Scheduled purchases"):
- weekly / biweekly: every 7 / 14 days from the start date; monthly / quarterly: the start date's day of the
  month every 1 / 3 months (the 31st becomes the month's last day); semimonthly: the 1st and the 15th.
- A date on a weekend or NYSE holiday executes on the next trading day (custodians do that for
  recurring investments and payroll deposits).
- DRIP follows the fund's usual distribution months, since the custodian reinvests on the pay date:
  equity ETFs quarterly in March, June, September and December around the 25th; bond ETFs (asset classes
  us_bonds, muni_national, or any class whose code mentions bond or muni) monthly around the 5th. Pay
  dates vary by a few days from fund to fund: when a DRIP matters, pause it rather than rely on the day.
- Paused: no purchase before `paused_until`; one on `paused_until` itself counts (conservative: the pause
  may end that morning). Inactive: no dates. `end_date` is the last day a purchase can happen.
"""

from dataclasses import dataclass
from datetime import date, timedelta

KINDS = ("contribution", "drip", "payroll")
FREQUENCIES = ("weekly", "biweekly", "semimonthly", "monthly", "quarterly")
BOND_CLASSES = frozenset({"us_bonds", "muni_national"})
EQUITY_DIVIDEND_MONTHS = (3, 6, 9, 12)
EQUITY_DIVIDEND_DAY = 25
BOND_DIVIDEND_DAY = 5


@dataclass(frozen=True, slots=True)
class Schedule:
    """One recurring purchase. `dividend` (DRIP only): "quarterly" or "monthly"; empty: from asset_class."""

    kind: str
    frequency: str
    start_date: date
    end_date: date | None = None
    paused_until: date | None = None
    active: bool = True
    asset_class: str = ""
    dividend: str = ""

    @property
    def dividend_pattern(self) -> str:
        if self.dividend:
            return self.dividend
        code = self.asset_class.lower()
        return "monthly" if code in BOND_CLASSES or "bond" in code or "muni" in code else "quarterly"


def schedule_of(spec) -> Schedule:
    """A Schedule from a Schedule or a ScheduledPurchase-like object (duck typed; no Django import)."""
    if isinstance(spec, Schedule):
        return spec
    asset_class = ""
    security = getattr(spec, "security", None)
    if security is not None and getattr(security, "asset_class", None) is not None:
        asset_class = security.asset_class.code
    return Schedule(spec.kind, spec.frequency, spec.start_date, spec.end_date, spec.paused_until,
                    getattr(spec, "active", True), asset_class)


# ---- NYSE calendar ---------------------------------------------------------------------------------------
def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month = (h + m - 7 * n + 114) // 31
    day = (h + m - 7 * n + 114) % 31 + 1
    return date(year, month, day)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """NYSE Rule 7.2: a Saturday holiday is observed on Friday, a Sunday holiday on Monday."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


# Unscheduled closings (national days of mourning and the like) since 2000.
SPECIAL_CLOSINGS = frozenset({
    date(2001, 9, 11), date(2001, 9, 12), date(2001, 9, 13), date(2001, 9, 14), date(2004, 6, 11),
    date(2007, 1, 2), date(2012, 10, 29), date(2012, 10, 30), date(2018, 12, 5), date(2025, 1, 9),
})


def nyse_holidays(year: int) -> frozenset[date]:
    """NYSE full-day holidays of a year (the rules in force since 2022, Juneteenth included from 2022)."""
    days = {
        _observed(date(year, 1, 1)),
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, 0),  # Memorial Day
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))
    # New Year's Day on a Saturday is not observed on the Friday before (NYSE Rule 7.2): that Friday falls in
    # the previous year and is dropped by the year filter.
    return frozenset(d for d in days if d.year == year) | frozenset(d for d in SPECIAL_CLOSINGS if d.year == year)


_holiday_cache: dict[int, frozenset[date]] = {}


def is_trading_day(day: date) -> bool:
    if day.weekday() >= 5:
        return False
    holidays = _holiday_cache.get(day.year)
    if holidays is None:
        holidays = _holiday_cache[day.year] = nyse_holidays(day.year)
    return day not in holidays


def next_trading_day(day: date) -> date:
    """`day` itself when the market is open, else the next day it is."""
    while not is_trading_day(day):
        day += timedelta(days=1)
    return day


def trading_days_after(day: date, until: date) -> int:
    """How many trading days come after `day`, up to and including `until` (0 when until <= day)."""
    count = 0
    current = day + timedelta(days=1)
    while current <= until:
        if is_trading_day(current):
            count += 1
        current += timedelta(days=1)
    return count


# ---- scheduled dates -------------------------------------------------------------------------------------
def _add_months(day: date, months: int, anchor_day: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(anchor_day, last))


def _nominal(s: Schedule, until: date):
    """The schedule's calendar dates from its start up to `until`, before any trading-day roll."""
    start = s.start_date
    if s.kind == "drip":
        months = range(1, 13) if s.dividend_pattern == "monthly" else EQUITY_DIVIDEND_MONTHS
        anchor = BOND_DIVIDEND_DAY if s.dividend_pattern == "monthly" else EQUITY_DIVIDEND_DAY
        for year in range(start.year, until.year + 1):
            for month in months:
                yield date(year, month, anchor)
        return
    if s.frequency in ("weekly", "biweekly"):
        step = timedelta(days=7 if s.frequency == "weekly" else 14)
        day = start
        while day <= until:
            yield day
            day += step
    elif s.frequency == "semimonthly":
        year, month = start.year, start.month
        while date(year, month, 1) <= until:
            yield date(year, month, 1)
            yield date(year, month, 15)
            year, month = year + (month == 12), month % 12 + 1
    elif s.frequency in ("monthly", "quarterly"):
        step = 1 if s.frequency == "monthly" else 3
        k = 0
        while True:
            day = _add_months(start, k * step, start.day)
            if day > until:
                break
            yield day
            k += 1
    else:
        raise ValueError(f"unknown frequency {s.frequency!r} (expected {', '.join(FREQUENCIES)})")


def scheduled_dates(spec, start: date, end: date) -> list[date]:
    """The trading days in [start, end] (inclusive) on which the scheduled purchase `spec` executes, ascending.

    `spec` is a Schedule or a ScheduledPurchase-like object. Rules and the DRIP assumption: module docstring."""
    s = schedule_of(spec)
    if not s.active or end < start:
        return []
    if s.kind not in KINDS:
        raise ValueError(f"unknown kind {s.kind!r} (expected {', '.join(KINDS)})")
    last = end if s.end_date is None else min(end, s.end_date)
    out = []
    for nominal in _nominal(s, last):
        if nominal < s.start_date:
            continue
        day = next_trading_day(nominal)
        if day < start or day > last or day < s.start_date:
            continue
        if s.paused_until is not None and day < s.paused_until:
            continue
        if not out or out[-1] != day:
            out.append(day)
    return out


def next_dates(spec, after: date, count: int = 3, horizon_days: int = 400) -> list[date]:
    """The next `count` dates on or after `after` (within a bit over a year)."""
    return scheduled_dates(spec, after, after + timedelta(days=horizon_days))[:count]

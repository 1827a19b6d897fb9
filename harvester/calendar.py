"""The harvest calendar: the dates a household must know, built in one place for the feed and the pages.

    events = household_events(household, start, end)     # one household, [start, end] inclusive
    events = user_events(user, start, end)               # every household of a login (the iCalendar feed)
    body = ics_calendar(events, name="Harvester", now=timezone.now())

Events (PRODUCT.md "Measures people expect on the dashboard": upcoming dates):
- wash_window: the 30th day after a sale at a loss in a taxable account. IRC 1091(a): buying substantially
  identical shares within 30 days after the sale (calendar days, the sale day not counted) washes the loss;
  this is the last such day.
- switch_back: the 31st day after an executed harvest: the first day the replacement can be swapped back
  into the sold fund without washing the harvested loss.
- scheduled_purchase: each date of an active recurring contribution, DRIP or payroll purchase (the forward
  look of the wash-sale guard), as lots.schedule.scheduled_dates expects them to execute.
- review: the household's harvesting reviews, every 1, 3 or 6 months (the policy's review_cadence) from the
  date of the policy version in force.
- proposal_expiry: the day an open proposal (proposed, awaiting approval, approved) expires.
- year_end: the last trading day of December (NYSE: 31 December, or the trading day before when it falls on
  a weekend; the exchange does not close on 31 December for New Year's Day). A sale realizes its gain or
  loss on the trade date, so a harvest for the year must trade by then.

The iCalendar text is written by hand per RFC 5545: CRLF line ends, lines folded at 75 octets (never inside
a UTF-8 character), TEXT values escaped (backslash, semicolon, comma, newline), all-day events as
DTSTART/DTEND;VALUE=DATE, a DTSTAMP in UTC and a UID that stays the same for the same event.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count

from accounts.models import Account
from harvester.models import Execution, HarvestProposal
from harvester.money import to_cents
from harvester.rawsql import fetch, sqlite_date, sqlite_decimal
from lots.engine.core import WINDOW_DAYS as WASH_DAYS  # IRC 1091(a), defined once in the engine
from lots.models import Disposal, Security, Transaction

WASH_WINDOW = "wash_window"
SWITCH_BACK = "switch_back"
SCHEDULED_PURCHASE = "scheduled_purchase"
REVIEW = "review"
YEAR_END = "year_end"
PROPOSAL_EXPIRY = "proposal_expiry"
KIND_LABELS = {
    WASH_WINDOW: "Wash-sale window closes",
    SWITCH_BACK: "Switch back possible",
    SCHEDULED_PURCHASE: "Scheduled purchase",
    REVIEW: "Harvesting review",
    YEAR_END: "Year-end trading deadline",
    PROPOSAL_EXPIRY: "Proposal expires",
}

MAX_SPAN_DAYS = 3 * 366  # a page or feed never asks for more than three years of dates


@dataclass(frozen=True)
class Event:
    """One all-day entry of a household's harvest calendar."""

    day: date
    kind: str
    title: str
    description: str
    household_id: int
    household_name: str
    uid: str
    url: str = ""

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def household_events(household, start: date, end: date) -> list[Event]:
    """Every calendar event of one household dated from `start` to `end` (inclusive), in date order.

    A constant number of queries per household (loss sales, executions, scheduled purchases, policy)."""
    return _events([household], start, end)


def households_events(households, start: date, end: date) -> list[Event]:
    """The events of several households at once (same queries as one household, plus the policies)."""
    return _events(list(households), start, end)


def user_events(user, start: date, end: date) -> list[Event]:
    """The events of every household the login belongs to or advises (the iCalendar feed)."""
    from accounts.access import households_for

    return _events(list(households_for(user).order_by("name", "id")), start, end)


def last_trading_day_of_december(year: int) -> date:
    """31 December, or the last NYSE trading day before it (weekends, holidays and special closings as
    lots.schedule.is_trading_day knows them)."""
    from lots.schedule import is_trading_day

    day = date(year, 12, 31)
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


def _events(households: list, start: date, end: date) -> list[Event]:
    if end < start:
        return []
    if (end - start).days > MAX_SPAN_DAYS:
        raise ValueError(f"a calendar covers at most {MAX_SPAN_DAYS} days")
    if not households:
        return []
    names = {h.pk: h.name for h in households}
    events: list[Event] = []
    events += _wash_windows(names, start, end)
    events += _switch_backs(names, start, end)
    events += _scheduled(names, start, end)
    events += _reviews(households, start, end)
    events += _expiries(names, start, end)
    for household_id, name in names.items():
        for year in range(start.year, end.year + 1):
            day = last_trading_day_of_december(year)
            if start <= day <= end:
                events.append(
                    Event(
                        day=day,
                        kind=YEAR_END,
                        title=f"Last trading day of {year}",
                        description=(
                            f"A sale realizes its gain or loss on the trade date: harvests meant for {year} must trade "
                            f"by today. A replacement bought in the 30 days after a December loss sale still washes "
                            f"it, even in {year + 1}."
                        ),
                        household_id=household_id,
                        household_name=name,
                        uid=f"year-end-{year}-household-{household_id}",
                        url=f"/households/{household_id}/dashboard/",
                    )
                )
    events.sort(key=lambda e: (e.day, e.household_name, e.kind, e.title, e.uid))
    return events


def _wash_windows(names: dict[int, str], start: date, end: date) -> list[Event]:
    rows = fetch(_WASH_SQL.format(marks=", ".join(["%s"] * len(names))), [
        *names, Transaction.Action.SELL, start - timedelta(days=WASH_DAYS), end - timedelta(days=WASH_DAYS), True,
    ], _WASH_CONVERT)
    events = []
    for sale_id, date_sold, account_id, account, household_id, ticker, loss, quantity in rows:
        closes = date_sold + timedelta(days=WASH_DAYS)
        events.append(
            Event(
                day=closes,
                kind=WASH_WINDOW,
                title=f"Wash-sale window closes: {ticker} sold in {account}",
                description=(
                    f"{_qty(quantity)} sh {ticker} were sold at a loss of {_usd(-loss)} in {account} on "
                    f"{date_sold:%Y-%m-%d}. Through today, buying {ticker} or a fund tracking the same index in "
                    f"any account of the household (IRAs and a spouse's accounts included) would wash that loss; "
                    f"from tomorrow it no longer does."
                ),
                household_id=household_id,
                household_name=names[household_id],
                uid=f"wash-window-sale-{sale_id}",
                url=f"/households/{household_id}/dashboard/?year={date_sold.year}&account={account_id}#drill",
            )
        )
    return events


def _switch_backs(names: dict[int, str], start: date, end: date) -> list[Event]:
    rows = fetch(_SWITCH_BACK_SQL.format(marks=", ".join(["%s"] * len(names))), [
        *names, HarvestProposal.Kind.HARVEST, start - timedelta(days=WASH_DAYS + 1), end - timedelta(days=WASH_DAYS + 1),
    ], (None, sqlite_date, None, None, None, None, None))
    events = []
    for execution_id, trade_date, proposal_id, household_id, account, sold, bought in rows:
        events.append(
            Event(
                day=Execution(trade_date=trade_date).switch_back_on,
                kind=SWITCH_BACK,
                title=f"Switch back possible: {bought} to {sold} in {account}",
                description=(
                    f"{sold} was harvested in {account} on {trade_date:%Y-%m-%d} and replaced by {bought}. "
                    f"From today, 31 days later, {sold} can be bought back without washing that loss. Switch back "
                    f"only if selling {bought} realizes no gain, or a gain within the household's limit."
                ),
                household_id=household_id,
                household_name=names[household_id],
                uid=f"switch-back-execution-{execution_id}",
                url=f"/proposals/{proposal_id}/",
            )
        )
    return events


# The two reads the dashboard makes on every view, in plain SQL (the ORM took longer to build them than
# the database took to answer): loss sales whose wash-sale window closes in the range (the sales of the
# window through the (account, trade date) index, their reportable disposals through the sale index, added
# up per sale), and executed harvests that may switch back in it.
_WASH_SQL = f"""
    SELECT d.sale_id, d.date_sold, d.account_id, a.name, a.household_id, s.ticker,
           SUM(d.proceeds - d.cost_basis), SUM(d.quantity)
    FROM {Disposal._meta.db_table} d
    JOIN {Account._meta.db_table} a ON a.id = d.account_id
    JOIN {Security._meta.db_table} s ON s.id = d.security_id
    WHERE d.sale_id IN (
        SELECT t.id FROM {Transaction._meta.db_table} t JOIN {Account._meta.db_table} ta ON ta.id = t.account_id
        WHERE ta.household_id IN ({{marks}}) AND t.action = %s AND t.trade_date >= %s AND t.trade_date <= %s)
      AND d.reportable = %s
    GROUP BY d.sale_id, d.date_sold, d.account_id, a.name, a.household_id, s.ticker
    HAVING SUM(d.proceeds - d.cost_basis) < 0
    ORDER BY d.date_sold, d.sale_id"""
_WASH_CONVERT = (None, sqlite_date, None, None, None, None, sqlite_decimal(Disposal, "proceeds"),
                 sqlite_decimal(Disposal, "quantity"))
_SWITCH_BACK_SQL = f"""
    SELECT e.id, e.trade_date, p.id, p.household_id, a.name, sold.ticker, bought.ticker
    FROM {Execution._meta.db_table} e
    JOIN {HarvestProposal._meta.db_table} p ON p.id = e.proposal_id
    JOIN {Account._meta.db_table} a ON a.id = p.account_id
    JOIN {Security._meta.db_table} sold ON sold.id = p.sell_security_id
    JOIN {Security._meta.db_table} bought ON bought.id = p.buy_security_id
    WHERE p.household_id IN ({{marks}}) AND p.kind = %s AND e.trade_date >= %s AND e.trade_date <= %s
    ORDER BY e.trade_date, e.id"""


def _expiries(names: dict[int, str], start: date, end: date) -> list[Event]:
    from django.utils import timezone

    from harvester.models import OPEN_PROPOSAL_STATES, HarvestProposal

    proposals = HarvestProposal.objects.filter(
        household_id__in=list(names), status__in=OPEN_PROPOSAL_STATES, expires_at__isnull=False,
        expires_at__date__gte=start - timedelta(days=1), expires_at__date__lte=end + timedelta(days=1),
    ).select_related("account", "sell_security")
    events = []
    for p in proposals:
        day = timezone.localtime(p.expires_at).date()
        if not start <= day <= end:
            continue
        events.append(
            Event(
                day=day,
                kind=PROPOSAL_EXPIRY,
                title=f"Proposal expires: sell {p.sell_security.ticker} in {p.account.name}",
                description=(
                    f"The proposal to harvest {p.sell_security.ticker} in {p.account.name} expires at "
                    f"{timezone.localtime(p.expires_at):%H:%M} unless it is approved and executed before."
                ),
                household_id=p.household_id,
                household_name=names[p.household_id],
                uid=f"proposal-expiry-{p.pk}-v{p.version}",
                url=f"/proposals/{p.pk}/",
            )
        )
    return events


def _scheduled(names: dict[int, str], start: date, end: date) -> list[Event]:
    from lots.models import ScheduledPurchase

    plans = ScheduledPurchase.objects.filter(account__household_id__in=list(names), active=True).select_related(
        "account", "security__asset_class"
    )
    events = []
    for plan in plans:
        household_id = plan.account.household_id
        what = f"{plan.get_kind_display()} of {plan.security.ticker} in {plan.account.name}"
        amount = f" ({_usd(plan.amount)})" if plan.amount else ""
        for day in scheduled_purchase_dates(plan, start, end):
            events.append(
                Event(
                    day=day,
                    kind=SCHEDULED_PURCHASE,
                    title=f"Scheduled purchase: {plan.security.ticker} in {plan.account.name}",
                    description=(
                        f"{what}{amount}. An automatic buy is an acquisition: within 30 days of a loss sale of "
                        f"{plan.security.ticker} or a fund tracking the same index it washes that loss; pause it first."
                    ),
                    household_id=household_id,
                    household_name=names[household_id],
                    uid=f"scheduled-{plan.pk}-{day:%Y%m%d}",
                    url=f"/households/{household_id}/",
                )
            )
    return events


def scheduled_purchase_dates(plan, start: date, end: date) -> list[date]:
    """The trading days a scheduled purchase executes on from `start` to `end` (lots.schedule's rules:
    frequency, weekends and NYSE holidays, pauses, end date, DRIP distribution months)."""
    from lots.schedule import scheduled_dates

    return [d for d in scheduled_dates(plan, start, end) if start <= d <= end]


def policies_in_force(households: list) -> dict:
    """household id -> the policy version in force: harvester.policy.policy_in_force's rule (the newest
    version every owner has acknowledged) for many households in two queries."""
    from accounts.models import Owner
    from harvester.models import HarvestPolicy

    ids = [h.pk for h in households]
    owners = dict(
        Owner.objects.filter(household_id__in=ids).values("household_id").annotate(n=Count("id"))
        .values_list("household_id", "n")
    )
    versions = (
        HarvestPolicy.objects.filter(household_id__in=ids)
        .annotate(acknowledged=Count("acknowledgments__owner", distinct=True))
        .order_by("household_id", "-version")
    )
    in_force: dict = {}
    for policy in versions:
        if policy.household_id not in in_force and policy.acknowledged >= owners.get(policy.household_id, 0):
            in_force[policy.household_id] = policy
    return in_force


def _reviews(households: list, start: date, end: date) -> list[Event]:
    from harvester.policy import CADENCE_MONTHS

    in_force = policies_in_force(households)
    events = []
    for household in households:
        policy = in_force.get(household.pk)
        if policy is None:
            continue
        months = CADENCE_MONTHS.get(policy.review_cadence, 3)
        anchor = policy.created_at.date()
        n = 1
        due = _add_months(anchor, months)
        while due <= end:
            if due >= start:
                events.append(
                    Event(
                        day=due,
                        kind=REVIEW,
                        title="Harvesting review due",
                        description=(
                            f"The household's policy (version {policy.version}) asks for a "
                            f"{policy.get_review_cadence_display().lower()} review: look at the realized losses, the "
                            f"open proposals, scheduled purchases and the policy's thresholds."
                        ),
                        household_id=household.pk,
                        household_name=household.name,
                        uid=f"review-household-{household.pk}-{due:%Y%m%d}",
                        url=f"/households/{household.pk}/dashboard/",
                    )
                )
            n += 1
            due = _add_months(anchor, months * n)
    return events


def review_dates(household, start: date, end: date) -> list[date]:
    """The household's review dates from `start` to `end` (the reminder task asks for these)."""
    return [e.day for e in _reviews([household], start, end)]


def _add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day (31 Jan + 1 -> 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _usd(amount: Decimal) -> str:
    value = to_cents(Decimal(amount))
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


def _qty(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


# ---- iCalendar (RFC 5545)


def ics_escape(text: str) -> str:
    """RFC 5545 3.3.11 TEXT: backslash, semicolon and comma escaped; a line break becomes \\n."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def ics_fold(line: str) -> str:
    """RFC 5545 3.1: lines longer than 75 octets are split, each continuation starting with one space.

    Splits at character boundaries, so a multi-octet UTF-8 character is never cut."""
    out, current, size = [], [], 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append("".join(current))
            current, size = [" "], 1  # the leading space counts towards the next line's 75 octets
            limit = 75
        current.append(char)
        size += width
    out.append("".join(current))
    return "\r\n".join(out)


def ics_calendar(events: Iterable[Event], *, name: str, now: datetime, site: str = "", domain: str = "harvester") -> str:
    """The events as an iCalendar (RFC 5545) document: one all-day VEVENT each, CRLF line ends."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Harvester//Harvest calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ics_escape(name)}",
        "X-PUBLISHED-TTL:PT6H",
        "REFRESH-INTERVAL;VALUE=DURATION:PT6H",
    ]
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{ics_escape(e.uid)}@{domain}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{e.day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{e.day + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{ics_escape(e.title + ' (' + e.household_name + ')')}",
            f"DESCRIPTION:{ics_escape(e.description)}",
            f"CATEGORIES:{ics_escape(e.kind_label)}",
            "TRANSP:TRANSPARENT",
        ]
        if site and e.url:
            lines.append(f"URL:{site.rstrip('/')}{e.url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(ics_fold(line) + "\r\n" for line in lines)

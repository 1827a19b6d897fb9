"""Dashboard pages (household, one owner, all of an advisor's households), the iCalendar feed and the page
that manages a login's reporting access (API token, calendar address). Views parse, access, read, render."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.access import access_household, households_for
from harvester import calendar, dashboard, svg
from reporting import services

EVENTS_AHEAD_DAYS = 90
MIN_YEAR, MAX_YEAR = 1990, 2100


@dataclass(frozen=True)
class Drill:
    level: str  # groups, accounts, sales
    rows: list
    year: int
    group: str | None = None
    group_label: str | None = None
    account: object = None
    page: int = 1
    pages: int = 1
    count: int = 0


def _int_param(request, name: str, *, low: int, high: int) -> int | None:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise Http404(f"No such {name}") from None
    if not low <= value <= high:
        raise Http404(f"No such {name}")
    return value


def _drill(request, data: dashboard.Data, year: int) -> Drill:
    account_id = _int_param(request, "account", low=1, high=2**62)
    group = request.GET.get("group") or None
    if account_id is not None:
        account = data.accounts.get(account_id)
        if account is None:
            raise Http404("No such account in this dashboard")
        page = _int_param(request, "page", low=1, high=10**6) or 1
        rows, count = dashboard.drill_sales(
            account_id, year, page=page, harvest_sales=data.harvest_sales, stamp=data.stamp
        )
        pages = max(1, -(-count // dashboard.SALES_PAGE))
        if page > pages:
            raise Http404("No such page")
        key = dashboard._group_key(data.account_owners[account_id])
        label = dashboard.group_label(data, key)
        return Drill("sales", rows, year, key, label, account, page, pages, count)
    if group is not None and not data.scope.across_households:
        label = dashboard.group_label(data, group)
        if label is None:
            raise Http404("No such owner group")
        return Drill("accounts", dashboard.drill_accounts(data, year, group), year, group, label)
    if data.scope.owner_id is not None:
        return Drill("accounts", dashboard.drill_accounts(data, year), year)
    return Drill("groups", dashboard.drill_groups(data, year), year)


def _charts(rows: list[dashboard.YearRow], chart_prefix: str) -> dict:
    years = [str(r.year) for r in rows]
    return {
        "realized": svg.bar_chart(
            chart_id=f"{chart_prefix}-realized",
            title="Realized gains and losses by tax year",
            description="Short-term and long-term net gain or loss of reportable sales each year; losses below the zero line.",
            categories=years,
            series=[
                svg.Series("Short-term", "hatch", [r.realized.short for r in rows]),
                svg.Series("Long-term", "dots", [r.realized.long for r in rows]),
            ],
        ),
        "harvested": svg.bar_chart(
            chart_id=f"{chart_prefix}-harvested",
            title="Losses harvested and their estimated tax value by year",
            description="Losses harvested each year, the estimated tax they saved that year, and the running total of that value.",
            categories=years,
            series=[
                svg.Series("Losses harvested", "solid", [r.harvested for r in rows]),
                svg.Series("Estimated tax value", "hatch", [r.tax_value for r in rows]),
            ],
            lines=[svg.Line("Cumulative tax value", [r.cumulative_tax_value for r in rows])],
        ),
        "wash": svg.bar_chart(
            chart_id=f"{chart_prefix}-wash",
            title="Wash-sale disallowed losses by year",
            description="Disallowed losses deferred into a replacement lot's basis, and those lost for good to an IRA replacement.",
            categories=years,
            series=[
                svg.Series("Deferred into basis", "hatch", [r.deferred for r in rows]),
                svg.Series("Permanently lost (IRA)", "cross", [r.permanent for r in rows]),
            ],
        ),
        "yield": svg.bar_chart(
            chart_id=f"{chart_prefix}-yield",
            title="Harvesting yield by year",
            description="Losses harvested in a year divided by the taxable portfolio's value on 1 January of that year.",
            categories=years,
            series=[svg.Series("Harvesting yield", "dots", [r.harvesting_yield for r in rows])],
            fmt=svg.percent_text,
            short_fmt=svg.percent_text,
        ),
    }


def _render(request, *, data: dashboard.Data, base_url: str, extra: dict, events_households: list):
    today = timezone.localdate()
    year = _int_param(request, "year", low=MIN_YEAR, high=MAX_YEAR) or today.year
    drill = _drill(request, data, year)
    owner_param = f"owner={data.scope.owner_id}&" if data.scope.owner_id else ""
    context = {
        **extra,
        "scope": data.scope,
        "year": year,
        "years": sorted(set(data.years) | {year}, reverse=True),
        "base_url": base_url,
        "q": owner_param,
        "drill": drill,
        "harvest_source": data.harvest_source,
        "as_of": today,
    }
    if request.htmx and request.htmx.target == "drill":
        return render(request, "harvester/dashboard.html#drill", context)
    rows = dashboard.year_rows(data)
    focus = next((r for r in rows if r.year == year), None)
    context.update(
        {
            "rows": rows,
            "focus": focus,
            "projections": dashboard.projections(data, year),
        }
    )
    if request.htmx and request.htmx.target == "focus":
        return render(request, "harvester/dashboard.html#focus", context)
    context.update(
        {
            "charts": _charts(rows, "c"),
            "events": calendar.households_events(events_households, today, today + timedelta(days=EVENTS_AHEAD_DAYS))[:25],
        }
    )
    return render(request, "harvester/dashboard.html", context)


def _parts(request) -> dict:
    """The drill-down partial needs no tax profiles."""
    if request.htmx and request.htmx.target == "drill":
        return {"with_profiles": False}
    return {}


@login_required
def household_dashboard(request, household_id):
    household = access_household(request.user, household_id)
    owner_id = _int_param(request, "owner", low=1, high=2**62)
    scope = dashboard.Scope((household.pk,), owner_id, household.name)
    data = dashboard.dashboard_data(scope, as_of=timezone.localdate(), households=[household], **_parts(request))
    owner = data.owners.get(owner_id) if owner_id is not None else None
    if owner_id is not None and owner is None:
        raise Http404("No such owner in this household")
    if owner is not None:
        data.scope = dashboard.Scope.for_household(household, owner)
    owners = sorted(data.owners.values(), key=lambda o: (o.name, o.pk))
    extra = {"household": household, "owner": owner, "owners": owners}
    return _render(
        request, data=data, base_url=reverse("dashboard", args=[household.pk]), extra=extra,
        events_households=[household],
    )


@login_required
def all_dashboard(request):
    """Every household of the caller (an advisor's book), compared and added up."""
    households = list(households_for(request.user).order_by("name", "id"))
    data = dashboard.dashboard_data(
        dashboard.Scope.for_households(households), as_of=timezone.localdate(), households=households, **_parts(request)
    )
    return _render(
        request, data=data, base_url=reverse("dashboard-all"), extra={"households": households},
        events_households=households,
    )


# ---- the iCalendar feed


def calendar_feed(request, token: str):
    """The caller's harvest calendar as iCalendar, authenticated by the secret token in the address.

    Without a valid token and without a session the answer is 403 (the address is wrong or revoked); a
    logged-in caller whose token is not a live one gets 404, like any address that is not theirs."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    user = services.calendar_token_user(token)
    if user is None:
        if not request.user.is_authenticated:
            return HttpResponse("This calendar address is not valid (it may have been revoked).\n", status=403,
                                content_type="text/plain; charset=utf-8")
        raise Http404("No such calendar")
    today = timezone.localdate()
    events = calendar.user_events(user, today - timedelta(days=60), today + timedelta(days=400))
    body = calendar.ics_calendar(events, name="Harvester", now=timezone.now(), site=request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="harvester.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response


# ---- a login's reporting access: API token and calendar address


@login_required
@require_http_methods(["GET", "POST"])
def reporting_access(request):
    """Make, replace or revoke the caller's read-only API token and calendar address (shown once)."""
    shown = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "api-rotate":
            shown["new_api_token"] = services.api_token_rotate(user=request.user, request=request).key
            messages.success(request, "New API token made; the old one no longer works. Copy it now: it is shown once.")
        elif action == "api-revoke":
            services.api_token_revoke(user=request.user, request=request)
            messages.success(request, "API token revoked.")
        elif action == "calendar-rotate":
            key = services.calendar_token_create(user=request.user, request=request)
            shown["calendar_url"] = request.build_absolute_uri(reverse("calendar-feed", args=[key]))
            messages.success(request, "New calendar address made; the old one no longer works. It is shown once.")
        elif action == "calendar-revoke":
            services.calendar_token_revoke(user=request.user, request=request)
            messages.success(request, "Calendar address revoked.")
        else:
            return HttpResponse("Unknown action.", status=400)
        if not shown:
            return redirect("reporting-access")
    context = {
        "api_token": services.api_token_status(request.user),
        "calendar_token": services.calendar_token_status(request.user),
        **shown,
    }
    response = render(request, "harvester/dashboard_access.html", context)
    response["Cache-Control"] = "no-store"  # a token shown once must not sit in a cache
    return response

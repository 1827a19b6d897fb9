"""Realized gains by owner and year with their wash-sale (W) adjustments, and the Form 8949 download."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from accounts.access import access_household
from accounts.models import Account
from harvester.csvsafe import csv_text
from lots import selectors
from lots.engine.report import FORM8949_COLUMNS


def _year(request, years: list[int]) -> int | None:
    raw = request.GET.get("year")
    if raw is None:
        return years[0] if years else None
    try:
        return int(raw)
    except ValueError:
        raise Http404("No such year") from None


@login_required
def realized(request, household_id):
    household = access_household(request.user, household_id)
    years = selectors.tax_years(household)
    year = _year(request, years)
    owners = selectors.realized(household, year=year)
    context = {"household": household, "years": years, "year": year, "owners": owners}
    if request.htmx:
        return render(request, "lots/realized.html#year", context)
    return render(request, "lots/realized.html", context)


@login_required
def form8949_csv(request, household_id):
    """Form 8949 rows of one year for every owner group (column `owners` tells whose return they go on)."""
    household = access_household(request.user, household_id)
    years = selectors.tax_years(household)
    year = _year(request, years)
    rows = []
    for group in selectors.realized(household, year=year):
        rows.extend([group.label, *(r[c] for c in FORM8949_COLUMNS), r["account_name"]] for r in group.rows)
    body = csv_text(["owners", *FORM8949_COLUMNS, "account_name"], rows)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="form8949-{household.pk}-{year}.csv"'
    return response


@login_required
def reconcile(request, household_id):
    """Upload a broker's realized gain/loss report for one account; see what its 1099-B misses."""
    from lots.reconciliation import UploadError, reconcile_upload

    household = access_household(request.user, household_id)
    accounts = household.accounts.filter(kind__in=Account.TAXABLE_KINDS).order_by("name")
    context = {"household": household, "accounts": accounts, "view": None, "error": None}
    if request.method == "POST":
        account = accounts.filter(pk=request.POST.get("account") or 0).first()
        upload = request.FILES.get("report")
        if account is None:
            context["error"] = "Choose the taxable account the report is for."
        elif upload is None:
            context["error"] = "Choose the broker's realized gain/loss file (CSV) to upload."
        else:
            try:
                context["view"] = reconcile_upload(account=account, upload=upload)
            except UploadError as exc:
                context["error"] = str(exc)
        context["chosen"] = account.pk if account else None
    status = 400 if context["error"] else 200
    return render(request, "lots/reconcile.html", context, status=status)

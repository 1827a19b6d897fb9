"""Onboarding pages: import a custodian export (upload, preview, confirm), daily prices, scheduled purchases.

Views parse input, call an access_* helper, call one service, render. Imports are advisor-only (they see
and change the household's trades); prices and scheduled purchases are readable by every member and
changed by the advisor.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import access_household
from lots import imports
from lots.importers import ImportFileError
from lots.imports import ImportRefused, ScheduledPurchaseMissing
from lots.onboarding_forms import ImportOptionsForm, ImportUploadForm, PriceUploadForm, ScheduledPurchaseForm
from lots.prices import price_statuses, prices_import_file, stale_trading_days


def _batch(household, batch_id):
    try:
        return imports.import_batches(household).defer(None).get(pk=int(batch_id))
    except (ValueError, TypeError, imports.ImportBatch.DoesNotExist):
        raise Http404("No such import") from None


@login_required
def import_list(request, household_id):
    """Upload a file (POST: keep it and preview it) and see the household's earlier imports."""
    household = access_household(request.user, household_id, manage=True)
    form = ImportUploadForm(request.POST or None, request.FILES or None, household=household)
    error = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = imports.read_upload(upload)
        except ImportFileError as exc:
            error = str(exc)
        else:
            batch = imports.import_preview(account=form.cleaned_data["account"], text=text, file_name=upload.name,
                                           actor=request.user, options=form.options())
            return redirect("import-batch", household_id=household.pk, batch_id=batch.pk)
    batches = imports.import_batches(household)[:50]
    status = 400 if request.method == "POST" else 200
    return render(request, "lots/imports.html", {"household": household, "form": form, "error": error,
                                                 "batches": batches}, status=status)


@login_required
def import_batch(request, household_id, batch_id):
    """The preview of one upload (GET), or preview it again with other options (POST)."""
    household = access_household(request.user, household_id, manage=True)
    batch = _batch(household, batch_id)
    form = ImportOptionsForm(request.POST or None, household=household, batch=batch)
    error = None
    if request.method == "POST":
        if form.is_valid():
            try:
                batch = imports.import_repreview(household=household, batch_id=batch.pk, actor=request.user,
                                                 options=form.options(), account=form.cleaned_data["account"])
            except ImportRefused as exc:
                error = str(exc)
            form = ImportOptionsForm(household=household, batch=batch)
        else:
            error = "Check the options below."
    context = {"household": household, "batch": batch, "summary": batch.summary, "form": form, "error": error}
    status = 400 if error else 200
    if request.htmx:
        return render(request, "lots/import_batch.html#preview", context, status=status)
    return render(request, "lots/import_batch.html", context, status=status)


@login_required
@require_POST
def import_confirm(request, household_id, batch_id):
    """Commit exactly what the preview showed (the form carries the upload's sha256)."""
    household = access_household(request.user, household_id, manage=True)
    batch = _batch(household, batch_id)
    try:
        result = imports.import_commit(household=household, batch_id=batch.pk, sha256=request.POST.get("sha256", ""),
                                       actor=request.user, request=request)
    except ImportRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Imported {result.transactions} transactions ({result.lots} lots) into "
                                  f"{batch.account.name}; {result.duplicates} already on record were skipped. "
                                  "Lots and realized gains are being recomputed.")
    return redirect("import-batch", household_id=household.pk, batch_id=batch.pk)


@login_required
def prices(request, household_id):
    """Latest closes of the household's securities with their staleness; the advisor uploads a price CSV."""
    household = access_household(request.user, household_id, manage=request.method == "POST")
    form = PriceUploadForm(request.POST or None, request.FILES or None)
    result = error = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            text = imports.read_upload(upload)
            result = prices_import_file(text=text, name=upload.name, actor=request.user, household=household,
                                        ticker=form.cleaned_data["ticker"] or None, request=request)
        except ImportFileError as exc:
            error = str(exc)
    from lots.models import Security

    security_ids = Security.objects.filter(transactions__account__household=household).values_list("id", flat=True)
    as_of = timezone.localdate()
    context = {"household": household, "form": form, "result": result, "error": error, "as_of": as_of,
               "statuses": price_statuses(set(security_ids), as_of=as_of), "limit": stale_trading_days()}
    return render(request, "lots/prices.html", context, status=400 if error else 200)


@login_required
def scheduled(request, household_id):
    """Scheduled purchases with their dates in the next 30 days (what the wash-sale guard sees); add one."""
    household = access_household(request.user, household_id, manage=request.method == "POST")
    form = ScheduledPurchaseForm(request.POST or None, household=household)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            imports.scheduled_purchase_create(household=household, actor=request.user, request=request,
                                              **form.cleaned_data)
        except ImportRefused as exc:
            error = str(exc)
        else:
            messages.success(request, "Scheduled purchase added.")
            return redirect("scheduled", household_id=household.pk)
    as_of = timezone.localdate()
    context = {"household": household, "form": form, "error": error, "as_of": as_of,
               "views": imports.scheduled_with_dates(household, as_of=as_of)}
    status = 400 if request.method == "POST" else 200
    if request.htmx and request.method == "GET":
        return render(request, "lots/scheduled.html#table", context)
    return render(request, "lots/scheduled.html", context, status=status)


@login_required
def scheduled_edit(request, household_id, purchase_id):
    household = access_household(request.user, household_id, manage=True)
    try:
        purchase = imports.scheduled_purchase_get(household, purchase_id)
    except ScheduledPurchaseMissing:
        raise Http404("No such scheduled purchase") from None
    form = ScheduledPurchaseForm(request.POST or None, instance=purchase, household=household)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            imports.scheduled_purchase_update(household=household, purchase_id=purchase.pk, actor=request.user,
                                              request=request, **form.cleaned_data)
        except ImportRefused as exc:
            error = str(exc)
        else:
            messages.success(request, "Scheduled purchase changed.")
            return redirect("scheduled", household_id=household.pk)
    return render(request, "lots/scheduled_edit.html", {"household": household, "form": form, "purchase": purchase,
                                                         "error": error},
                  status=400 if request.method == "POST" else 200)


@login_required
@require_POST
def scheduled_delete(request, household_id, purchase_id):
    household = access_household(request.user, household_id, manage=True)
    try:
        imports.scheduled_purchase_delete(household=household, purchase_id=purchase_id, actor=request.user,
                                          request=request)
    except ScheduledPurchaseMissing:
        raise Http404("No such scheduled purchase") from None
    messages.success(request, "Scheduled purchase removed.")
    return redirect("scheduled", household_id=household.pk)


@login_required
def transactions_csv(request, household_id):
    """Every transaction of the household (or of ?account=) in the generic CSV format: re-importing the file
    into the same account adds nothing. Cells that a spreadsheet would run as formulas are escaped."""
    from accounts.models import Account
    from harvester.csvsafe import csv_text
    from lots.importers.base import plain
    from lots.models import Transaction

    household = access_household(request.user, household_id)
    rows = Transaction.objects.filter(account__household=household).select_related("account", "security",
                                                                                      "specific_lot")
    if request.GET.get("account"):
        account = Account.objects.filter(household=household, pk=request.GET["account"] if
                                         request.GET["account"].isdigit() else 0).first()
        if account is None:
            raise Http404("No such account in this household")
        rows = rows.filter(account=account)
    header = ["trade_id", "date", "account", "ticker", "action", "quantity", "price", "fees", "lot_id",
              "acquired_date", "basis", "lot_method"]

    def trade_id(t):
        return t.custodian_txn_id or f"h{t.pk}"

    body = csv_text(header, (
        [trade_id(t), t.trade_date, t.account.name, t.security.ticker, t.action, plain(t.quantity),
         plain(t.price), t.fees, trade_id(t.specific_lot) if t.specific_lot_id else "", t.acquired_date or "",
         "" if t.basis is None else t.basis, t.lot_selection if t.action == "sell" else ""]
        for t in rows.order_by("account__name", "trade_date", "seq", "id").iterator(chunk_size=2000)
        if t.action != "split"))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="transactions-{household.pk}.csv"'
    return response

"""Reconcile a broker's realized gain/loss (1099-B) report with the household's stored ledger.

A thin shell: read the upload as text, parse it with the engine's broker parsers, and compare it with
the stored disposals through the engine's reconcile(). Nothing is written.
"""

from dataclasses import dataclass, replace

from accounts.models import Account
from lots import convert, engine
from lots.engine.brokers import BrokerReport, parse_broker_report
from lots.engine.csvio import InputError, InputErrors
from lots.models import Disposal, WashSaleAdjustment

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class UploadError(Exception):
    """The upload cannot be read; the message says exactly why (file, row, column, reason)."""


@dataclass(frozen=True)
class ReconciliationView:
    report: BrokerReport
    result: engine.Reconciliation
    account: Account


def read_upload_text(upload, *, name: str) -> str:
    """The upload as text: at most 20 MB, UTF-8 (with or without BOM) or, failing that, Windows-1252."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise UploadError(f"{name} is {upload.size / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB.")
    raw = upload.read()
    if b"\x00" in raw[:8192]:
        raise UploadError(f"{name} is not a text file (it contains NUL bytes): export it as CSV.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UploadError(f"{name} is not UTF-8 or Windows-1252 text.")


def reconcile_upload(*, account: Account, upload) -> ReconciliationView:
    """Compare a broker report for `account` with the engine's sales of that account (raises UploadError)."""
    name = getattr(upload, "name", "upload")
    text = read_upload_text(upload, name=name)
    try:
        report = parse_broker_report(text, name=name)
    except (InputError, InputErrors) as exc:
        raise UploadError(str(exc)) from None
    household = account.household
    disposals = Disposal.objects.filter(account__household=household).select_related("security")
    adjustments = WashSaleAdjustment.objects.filter(disposal__account__household=household).select_related(
        "disposal__security", "replacement__security"
    )
    stored = convert.stored_result(list(disposals), list(adjustments))
    accounts = [
        convert.account_to_engine(a) for a in household.accounts.prefetch_related("owners").order_by("pk")
    ]
    # The broker names accounts its own way; the caller chose which of ours the report is for.
    rows = [replace(r, account=str(account.pk)) for r in report.rows]
    result = engine.reconcile(stored, rows, str(account.pk), accounts=accounts, period=report.period)
    return ReconciliationView(report, result, account)


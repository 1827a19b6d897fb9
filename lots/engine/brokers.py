"""Parsers for brokers' realized gain/loss (1099-B) reports, for reconciliation.

Three formats, told apart by their header row (BROKER_FORMATS.md section 0: never assume the header
is on line 1):
- generic: account,ticker,date_acquired,date_sold,quantity,proceeds,cost_basis,wash_sale_disallowed
  (account and date_acquired optional; docs/formats.md);
- Schwab "Realized Gain/Loss" transaction level (GainLoss_Realized, BROKER_FORMATS.md 2a): one row
  per closing transaction, no acquisition date;
- Schwab "Realized Gain/Loss - Lot Details" (BROKER_FORMATS.md 2b): one row per closed lot, with the
  Opened Date; the All_Accounts variant repeats an account label row and the header per account.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from .csvio import InputError, InputErrors, parse_date, parse_decimal
from .reconcile import BrokerRow
from .types import MONEY_ZERO

GENERIC = "generic"
SCHWAB_REALIZED = "schwab_realized"
SCHWAB_LOT_DETAILS = "schwab_lot_details"

GENERIC_REQUIRED = ("ticker", "date_sold", "quantity", "proceeds", "cost_basis", "wash_sale_disallowed")
GENERIC_OPTIONAL = ("account", "date_acquired")
_SCHWAB_COMMON = ("Symbol", "Closed Date", "Quantity", "Proceeds", "Cost Basis (CB)", "Wash Sale?",
                  "Disallowed Loss")
_SKIP_FIRST_CELLS = {"total", "transactions total", "account total", "total:"}
_PERIOD = re.compile(r"(\d{2}/\d{2}/\d{4}) to (\d{2}/\d{2}/\d{4})")
_TITLE_ACCOUNT = (
    re.compile(r"^Realized Gain/Loss - Lot Details for (.+?) as of "),
    re.compile(r"^Realized Gain/Loss for (.+?) for \d{2}/\d{2}/\d{4}"),
)


@dataclass(frozen=True, slots=True)
class BrokerReport:
    format: str
    rows: tuple[BrokerRow, ...]
    account_label: str | None  # the account named in the title, if any
    period: tuple[date, date] | None  # the report's date range, if it says


def money(text: str) -> Decimal | None:
    """A broker's money cell: "$1,234.56", "-$20.00", "$-20.00", "(1,500.00)", "=\"12.00\"" -> Decimal;
    "", "--", "N/A" -> None (no value, not zero). BROKER_FORMATS.md section 0."""
    text = text.strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    text = text.lstrip("=").strip()
    if text in ("", "--", "N/A", "n/a"):
        return None
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    text = text.replace("$", "").replace(",", "").strip()
    if text.startswith("+"):
        text = text[1:]
    try:
        value = parse_decimal(text)
    except ValueError:
        raise ValueError(f"not an amount: {text!r}") from None
    return -value if negative else value


def us_date(text: str) -> date | None:
    """MM/DD/YYYY (or "MM/DD/YYYY as of MM/DD/YYYY": the "as of" date is the trade date); "Various",
    "" -> None."""
    text = text.strip()
    if not text or text.lower() == "various":
        return None
    if " as of " in text:
        text = text.split(" as of ", 1)[1].strip()
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()
    except ValueError:
        raise ValueError(f"not a date in MM/DD/YYYY form: {text!r}") from None


def _detect(header: list[str]) -> str | None:
    cells = [c.strip() for c in header]
    lowered = [c.lower() for c in cells]
    if all(c in lowered for c in GENERIC_REQUIRED):
        return GENERIC
    if all(c in cells for c in _SCHWAB_COMMON):
        return SCHWAB_LOT_DETAILS if "Opened Date" in cells else SCHWAB_REALIZED
    return None


def parse_broker_report(text: str, name: str = "broker report") -> BrokerReport:
    """Read a broker realized gain/loss report in any supported format (detected from the header)."""
    records = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    title = None
    fmt = None
    for cells in records:
        fmt = _detect(cells)
        if fmt:
            break
        if title is None and any(c.strip() for c in cells):
            title = cells[0].strip()
    if fmt is None:
        raise InputErrors([InputError(
            name, None, None, "no known header found: expected the generic format (account,ticker,date_acquired,"
            "date_sold,quantity,proceeds,cost_basis,wash_sale_disallowed) or a Schwab Realized Gain/Loss export",
        )])
    if fmt == GENERIC:
        rows = _parse_generic(records, name)
        return BrokerReport(GENERIC, rows, None, None)
    label, period = _title_info(title)
    rows = _parse_schwab(records, name, fmt, label)
    return BrokerReport(fmt, rows, label, period)


def _title_info(title: str | None) -> tuple[str | None, tuple[date, date] | None]:
    if not title:
        return None, None
    label = None
    for pattern in _TITLE_ACCOUNT:
        m = pattern.search(title)
        if m:
            label = m.group(1).strip()
            break
    period = None
    m = _PERIOD.search(title)
    if m:
        period = (us_date(m.group(1)), us_date(m.group(2)))
    return label, period


def _parse_generic(records: list[list[str]], name: str) -> tuple[BrokerRow, ...]:
    errors: list[InputError] = []
    rows: list[BrokerRow] = []
    header = None
    for line, cells in enumerate(records, start=1):
        if header is None:
            if _detect(cells) == GENERIC:
                header = [c.strip().lower() for c in cells]
                unknown = [c for c in header if c and c not in GENERIC_REQUIRED + GENERIC_OPTIONAL]
                errors += [InputError(name, line, c, "unknown column") for c in unknown]
            continue
        if not any(c.strip() for c in cells):
            continue
        row = dict(zip(header, (c.strip() for c in cells), strict=False))
        before = len(errors)
        cell = _Cells(row, line, name, errors)
        ticker = cell.get("ticker", str.upper)
        sold = cell.get("date_sold", parse_date)
        acquired = cell.get("date_acquired", parse_date, required=False)
        qty = cell.get("quantity", parse_decimal)
        proceeds = cell.get("proceeds", parse_decimal)
        basis = cell.get("cost_basis", parse_decimal)
        disallowed = cell.get("wash_sale_disallowed", parse_decimal, required=False)
        if qty is not None and qty <= 0:
            errors.append(InputError(name, line, "quantity", f"quantity must be positive, got {qty}"))
        if len(errors) == before:
            rows.append(BrokerRow(
                account=row.get("account") or None, ticker=ticker, date_sold=sold, quantity=qty,
                proceeds=proceeds, cost_basis=basis, wash_sale_disallowed=disallowed or MONEY_ZERO,
                date_acquired=acquired, line=line,
            ))
    if errors:
        raise InputErrors(errors)
    return tuple(rows)


class _Cells:
    """Typed cells of one row; a bad or missing cell adds an InputError instead of raising."""

    def __init__(self, row: dict[str, str], line: int, name: str, errors: list[InputError]):
        self.row, self.line, self.name, self.errors = row, line, name, errors

    def get(self, column: str, parse, required: bool = True):
        text = self.row.get(column, "")
        if not text:
            if required:
                self.errors.append(InputError(self.name, self.line, column, "empty"))
            return None
        try:
            return parse(text)
        except ValueError as exc:
            self.errors.append(InputError(self.name, self.line, column, str(exc)))
            return None


def _parse_schwab(records: list[list[str]], name: str, fmt: str, title_label: str | None) -> tuple[BrokerRow, ...]:
    errors: list[InputError] = []
    rows: list[BrokerRow] = []
    header: list[str] | None = None
    section_label = title_label
    pending_label = None
    for line, cells in enumerate(records, start=1):
        cells = [c.strip() for c in cells]
        while cells and not cells[-1]:
            cells.pop()  # trailing empty cells (BROKER_FORMATS.md section 0)
        if not cells:
            continue
        if _detect(cells):
            header = cells
            if pending_label is not None:
                section_label, pending_label = pending_label, None
            continue
        first = cells[0]
        if len(cells) == 1 and not first.startswith("There are no transactions") and line > 1:
            pending_label = first  # an account label row of the All_Accounts variant
            continue
        if header is None or first.lower() in _SKIP_FIRST_CELLS or first.startswith("There are no transactions"):
            continue
        row = dict(zip(header, cells, strict=False))
        try:
            qty = money(row.get("Quantity", ""))
            sold = us_date(row.get("Closed Date", ""))
            acquired = us_date(row.get("Opened Date", "")) if fmt == SCHWAB_LOT_DETAILS else None
            proceeds = money(row.get("Proceeds", ""))
            basis = money(row.get("Cost Basis (CB)", ""))
            disallowed = money(row.get("Disallowed Loss", ""))
        except (ValueError, InvalidOperation) as exc:
            errors.append(InputError(name, line, None, str(exc)))
            continue
        if qty is None or sold is None:
            errors.append(InputError(name, line, "Quantity" if qty is None else "Closed Date", "empty"))
            continue
        rows.append(BrokerRow(
            account=section_label, ticker=first.upper(), date_sold=sold, quantity=abs(qty), proceeds=proceeds,
            cost_basis=basis, wash_sale_disallowed=disallowed or MONEY_ZERO, date_acquired=acquired, line=line,
        ))
    if errors:
        raise InputErrors(errors)
    return tuple(rows)

"""Shared values and cell readers of the importers: pure, standard library and Decimal only.

A parser turns a custodian's export (text) into normalized `Record`s plus `Skipped` rows and notes.
Row numbers are the ones a spreadsheet shows (the first line of the file is row 1); XML and OFX files
have no rows, so there a record's row is the line of its element (IBKR) or its position in the
statement's transaction list (OFX). BROKER_FORMATS.md section 0 gives the conventions read here.
"""

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

BUY = "buy"
SELL = "sell"
REINVEST = "reinvest"
TRANSFER_IN = "transfer_in"
SPLIT = "split"
ACTIONS = (BUY, SELL, REINVEST, TRANSFER_IN)
ACQUISITIONS = frozenset({BUY, REINVEST, TRANSFER_IN})

# What a file is: trades, a snapshot of open lots or positions (opening lots), or closed lots.
TRANSACTIONS = "transactions"
OPENING = "opening"
CLOSED_LOTS = "closed_lots"

# Why a row is not imported (Skipped.reason). Each has a sentence for people in REASONS.
CASH = "cash"
MONEY_MARKET = "money_market"
OPTION = "option"
BOND = "bond"
CORPORATE_ACTION = "corporate_action"
CURRENCY = "currency"
SHORT = "short"
TRANSFER = "transfer"
NO_BASIS = "no_basis"
VARIOUS = "various_dates"
UNKNOWN_ACTION = "unknown_action"
DETAIL = "detail"
REASONS = {
    CASH: "cash only (dividends, interest, deposits, fees): no shares change hands",
    MONEY_MARKET: "money-market fund or sweep: treated as cash",
    OPTION: "options are out of scope: Harvester tracks ETF and stock lots only, so these rows are refused "
    "(an option bought within 30 days of a loss sale can still wash it: check those by hand)",
    BOND: "bonds are out of scope (quantity is face value and price a percent of par)",
    CORPORATE_ACTION: "corporate actions (splits, mergers, spin-offs) are not applied: adjust the lots by hand "
    "or import the custodian's open lots after the event",
    CURRENCY: "not in US dollars: Harvester keeps US-dollar amounts only",
    SHORT: "short sales and covers are out of scope",
    TRANSFER: "shares moved in or out without a cost basis: import the lots with their basis instead "
    "(open lot details, or the generic CSV with action transfer_in)",
    NO_BASIS: "no cost basis given, so no lot can be made",
    VARIOUS: "acquired on various dates: no single lot can be made; use the lot-level export",
    UNKNOWN_ACTION: "action not recognized: not imported",
    DETAIL: "detail row repeating a trade already counted",
}

MAX_PROBLEMS = 50
ZERO = Decimal(0)


class Record(NamedTuple):
    """One transaction to import. Quantities are positive; the action gives the direction.

    `lot_ref` (closed lots) is the index, in the same result, of the transfer_in record the sell relieves;
    `lot_id` (generic CSV) names the trade_id of the lot a sell relieves; `time` (HHMMSS) orders trades of
    one day when the file gives execution times; `opening` marks lots from a snapshot (opening positions)."""

    row: int
    date: date
    action: str
    ticker: str
    quantity: Decimal
    price: Decimal
    fees: Decimal = ZERO
    custodian_id: str = ""
    acquired_date: date | None = None
    basis: Decimal | None = None
    account: str = ""
    description: str = ""
    time: str = ""
    lot_ref: int | None = None
    lot_id: str = ""
    lot_method: str = ""
    opening: bool = False


class Skipped(NamedTuple):
    row: int
    reason: str  # one of REASONS
    detail: str  # what the row was, e.g. "Bank Interest" or "SPXW 12/15/2025 6800.00 P"
    account: str = ""


class ParseResult(NamedTuple):
    format: str
    label: str
    kind: str  # TRANSACTIONS, OPENING or CLOSED_LOTS
    records: tuple[Record, ...]
    skipped: tuple[Skipped, ...]
    notes: tuple[str, ...]  # what the parser assumed (sign conventions, dates it chose)
    accounts: tuple[str, ...]  # account labels seen in the file, in order
    as_of: date | None  # the date of a snapshot (positions, open lots) when the file says
    rows_read: int  # data rows read (titles, headers, blank lines and totals not counted)


class Problem(NamedTuple):
    row: int | None
    column: str | None
    reason: str

    def text(self, name: str = "") -> str:
        where = [name] if name else []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class ImportFileError(Exception):
    """The file cannot be imported; `problems` say where and why. Nothing may be written."""

    def __init__(self, problems: Iterable[Problem], name: str = ""):
        self.problems = list(problems)
        self.name = name
        lines = [p.text(name) for p in self.problems[:MAX_PROBLEMS]]
        if len(self.problems) > MAX_PROBLEMS:
            lines.append(f"... and {len(self.problems) - MAX_PROBLEMS} more")
        super().__init__("\n".join(lines))


class UnsupportedFile(ImportFileError):
    """A file we recognize but refuse on purpose (the message says what to use instead), or do not know."""

    def __init__(self, reason: str, name: str = ""):
        super().__init__([Problem(None, None, reason)], name)


class Collector:
    """Collects problems while a parser reads a whole file, so all of them are reported at once."""

    def __init__(self, name: str):
        self.name = name
        self.problems: list[Problem] = []

    def add(self, row: int | None, column: str | None, reason: str) -> None:
        self.problems.append(Problem(row, column, reason))

    def done(self) -> None:
        if self.problems:
            raise ImportFileError(self.problems, self.name)


# ---- cells ------------------------------------------------------------------------------------------
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_EMPTY = frozenset({"", "--", "n/a", "N/A", "NA", "-"})


def money(text: str | None) -> Decimal | None:
    """A broker's number: "$1,234.56", "-$20.00", "$-20.00", "($1,500.00)", "+$1.04", "12%", "=\"12.00\"",
    "1,379.23 " -> Decimal; "", "--", "N/A", "-" -> None (no value, which is not zero). Raises ValueError."""
    if text is None:
        return None
    text = text.strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1].strip()
    if text.startswith("="):
        text = text[1:].strip()
    if text in _EMPTY:
        return None
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    cleaned = text.replace("$", "").replace(",", "").replace("%", "").replace(" ", "")
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    if cleaned.startswith("-"):
        negative, cleaned = not negative, cleaned[1:]
    if cleaned.endswith("."):
        cleaned += "0"
    if not _NUMBER.fullmatch(cleaned):
        raise ValueError(f"not a number: {text!r}")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a number: {text!r}")
    return -value if negative else value


_MDY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MON = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_MON_D_Y = re.compile(r"([A-Za-z]{3})-(\d{1,2})-(\d{4})")


def parse_day(text: str) -> date:
    """A date in any form the supported exports use: MM/DD/YYYY (also M/D/YYYY), YYYY-MM-DD, YYYYMMDD,
    each optionally followed by a time ("09/24/2020 13:42:07", "20130401;093406", "2013-03-05, 19:45:00"),
    and Mon-DD-YYYY. Schwab's "MM/DD/YYYY as of MM/DD/YYYY" gives the "as of" date: the trade date.
    Raises ValueError."""
    text = text.strip()
    if " as of " in text:
        text = text.split(" as of ", 1)[1].strip()
    for pattern, order in ((_MDY, "mdy"), (_ISO, "ymd"), (_COMPACT, "ymd")):
        m = pattern.match(text)
        if m:
            a, b, c = (int(g) for g in m.groups())
            y, mo, d = (c, a, b) if order == "mdy" else (a, b, c)
            rest = text[m.end():]
            if rest and rest[0].isdigit():
                break
            try:
                return date(y, mo, d)
            except ValueError:
                raise ValueError(f"not a valid date: {text!r}") from None
    m = _MON_D_Y.match(text)
    if m and m.group(1).lower() in _MON:
        try:
            return date(int(m.group(3)), _MON[m.group(1).lower()], int(m.group(2)))
        except ValueError:
            raise ValueError(f"not a valid date: {text!r}") from None
    raise ValueError(f"not a date: {text!r}")


def plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros, for content hashes: 45.000 and 45 read the same."""
    if value == 0:
        return "0"
    text = str(value)
    if len(text) <= 28 and "E" not in text and not ("." in text and text[-1] == "0"):
        return text  # already plain (most values): str is several times cheaper than normalize and format
    return format(value.normalize(), "f")


_OPTION_SYMBOL = re.compile(
    r"^[A-Z0-9.]{1,6} \d{2}/\d{2}/\d{4} \d+(\.\d+)? [PC]$"  # Schwab: SPXW 12/15/2025 6800.00 P
    r"|^-[A-Z]{1,6}\d{6}[CP]\d+(\.\d+)?$"  # Fidelity: -AAPL260116C200
    r"|^[A-Z]{1,6} +\d{6}[CP]\d{8}$"  # OCC / IBKR: FB    180921C00200000
)
_CUSIP = re.compile(r"^[0-9]{3}[0-9A-Z]{5}[0-9]$")
_MONEY_MARKET = re.compile(r"^[A-Z]{3}XX$")
CORE_CASH = frozenset({"FCASH", "CORE", "CASH"})


def is_option_symbol(symbol: str) -> bool:
    return bool(_OPTION_SYMBOL.match(symbol.strip()))


def looks_like_cusip(symbol: str) -> bool:
    return bool(_CUSIP.match(symbol)) and any(ch.isdigit() for ch in symbol[3:8]) and len(symbol) == 9


def is_money_market(symbol: str) -> bool:
    """Money-market funds (tickers ending in XX by NASDAQ convention, Fidelity's core positions marked **)."""
    symbol = symbol.strip()
    return symbol.endswith("**") or bool(_MONEY_MARKET.match(symbol)) or symbol in CORE_CASH


def clean_ticker(symbol: str) -> str:
    return symbol.strip().upper().removesuffix("**")


# ---- CSV --------------------------------------------------------------------------------------------
def csv_rows(text: str) -> list[list[str]]:
    """All records of a CSV text (row n of the result is spreadsheet row n+1); a BOM is dropped."""
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def trim(cells: list[str]) -> list[str]:
    """Cells stripped, with empty cells at the end dropped (trailing commas, comma-only rows)."""
    cells = [c.strip() for c in cells]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def header_index(header: list[str]) -> dict[str, int]:
    """Column name (lowercased, stripped, units like " ($)" removed) -> position."""
    index = {}
    for i, cell in enumerate(header):
        key = normalize_column(cell)
        if key and key not in index:
            index[key] = i
    return index


def normalize_column(cell: str) -> str:
    key = cell.strip().lower()
    key = key.removesuffix(" ($)").strip()
    return key


class Row:
    """One data row read by column name; `get` returns the stripped cell or "" when the row is short."""

    __slots__ = ("number", "cells", "index")

    def __init__(self, number: int, cells: list[str], index: dict[str, int]):
        self.number, self.cells, self.index = number, cells, index

    def get(self, *names: str) -> str:
        for name in names:
            i = self.index.get(name)
            if i is not None:
                return self.cells[i].strip() if i < len(self.cells) else ""
        return ""

    def has(self, name: str) -> bool:
        return name in self.index


def read_number(row: Row, problems: Collector, column: str, *aliases: str, required: bool = False,
                label: str | None = None) -> Decimal | None:
    text = row.get(column, *aliases)
    try:
        value = money(text)
    except ValueError as exc:
        problems.add(row.number, label or column, str(exc))
        return None
    if value is None and required:
        problems.add(row.number, label or column, "empty")
    return value


def read_day(row: Row, problems: Collector, column: str, *aliases: str, label: str | None = None) -> date | None:
    text = row.get(column, *aliases)
    if not text:
        problems.add(row.number, label or column, "empty")
        return None
    try:
        return parse_day(text)
    except ValueError as exc:
        problems.add(row.number, label or column, str(exc))
        return None


def price_from_amount(quantity: Decimal, amount: Decimal | None, fees: Decimal, action: str) -> Decimal | None:
    """Per-share price from a trade's cash amount when the export leaves Price empty:
    a buy costs quantity * price + fees; a sale brings quantity * price - fees."""
    if amount is None or not quantity:
        return None
    gross = abs(amount) - fees if action in ACQUISITIONS else abs(amount) + fees
    if gross < 0:
        return None
    return (gross / quantity).quantize(Decimal("0.000001"))


PRICE_PLACES = Decimal("0.000001")


def closed_lot(index: int, *, row: int, ticker: str, quantity: Decimal, opened: date, closed: date,
               basis: Decimal, proceeds: Decimal, account: str = "", description: str = "") -> list[Record]:
    """A closed lot as two records: the lot (transfer_in on its acquisition date with its basis) and the
    sale that relieves exactly that lot (specific identification) at proceeds / quantity per share.
    `index` is the position the transfer_in record will have in the result."""
    per_share = (basis / quantity).quantize(PRICE_PLACES)
    sale_price = (proceeds / quantity).quantize(PRICE_PLACES)
    return [
        Record(row, opened, TRANSFER_IN, ticker, quantity, per_share, ZERO, "", opened, basis, account, description),
        Record(row, closed, SELL, ticker, quantity, sale_price, ZERO, "", None, None, account, description,
               lot_ref=index),
    ]


def content_fingerprints(records: list[Record]) -> list[str]:
    """A content hash per record plus its ordinal among identical records of the same file account, so two
    identical same-day rows stay two transactions and re-importing the file (or an overlapping export)
    yields the same fingerprints (BROKER_FORMATS.md section 0 "Dedup key"). Numbers are hashed in a
    canonical form, so 45 and 45.000 are the same quantity."""
    seen: dict[tuple[str, str], int] = {}
    canonical: dict[Decimal, str] = {}
    dates: dict[date, str] = {}
    out = []
    append = out.append
    sha = hashlib.sha256
    for r in records:
        # canonical text of each value, computed once per distinct value
        q, p, f = r.quantity, r.price, r.fees
        cq = canonical.get(q)
        if cq is None:
            cq = canonical[q] = plain(q)
        cp = canonical.get(p)
        if cp is None:
            cp = canonical[p] = plain(p)
        cf = canonical.get(f)
        if cf is None:
            cf = canonical[f] = plain(f)
        day = dates.get(r.date)
        if day is None:
            day = dates[r.date] = r.date.isoformat()
        extra = ""
        if r.acquired_date is not None or r.basis is not None:
            extra = (f"{r.acquired_date.isoformat() if r.acquired_date else ''}|"
                     f"{plain(r.basis) if r.basis is not None else ''}")
        content = f"{day}|{r.action}|{r.ticker}|{cq}|{cp}|{cf}|{extra}"
        key = (r.account, content)
        ordinal = seen.get(key, 0)
        seen[key] = ordinal + 1
        append("c1:" + sha(f"{content}#{ordinal}".encode()).hexdigest()[:40])  # 160 bits: a smaller index
    return out


def iter_sections(rows: list[list[str]], is_header) -> Iterator[tuple[int, list[str]]]:
    """(row number, header) for each row that is_header(trimmed cells) accepts."""
    for i, cells in enumerate(rows):
        t = trim(cells)
        if t and is_header(t):
            yield i + 1, t


def trade_record(problems, row, *, before: int, day, side: str, symbol: str, quantity, price, fees: Decimal,
                 amount, account, description) -> "Record | None":
    """Finish a custodian trade row: report an empty symbol or zero quantity, derive a missing price from
    the amount (price_from_amount), and return the Record, or None when the row has problems (counted
    from `before`, the problem count when the row started)."""
    if not symbol:
        problems.add(row.number, "Symbol", "empty on a trade")
    if len(problems.problems) != before:
        return None
    quantity = abs(quantity)
    if not quantity:
        problems.add(row.number, "Quantity", "zero on a trade")
        return None
    if price is None:
        price = price_from_amount(quantity, amount, abs(fees), side)
        if price is None:
            problems.add(row.number, "Price", "empty, and no Amount to compute it from")
            return None
    return Record(row.number, day, side, clean_ticker(symbol), quantity, abs(price), abs(fees),
                  account=account, description=description)


def non_fund_kind(symbol: str, *texts: str) -> str | None:
    """MONEY_MARKET or BOND when a row's security is not an exchange-traded fund we lot-track (a sweep or
    money-market fund; a bond: a CUSIP with a coupon "%" in its description), else None."""
    if is_money_market(symbol):
        return MONEY_MARKET
    if looks_like_cusip(symbol) and any("%" in (t or "") for t in texts):
        return BOND
    return None

"""Daily closes from a CSV: pure (standard library and Decimal only).

Three layouts, told apart by the header:
- Harvester's own: `date,ticker,close` (YYYY-MM-DD, one row per ticker and day, any number of tickers);
- Yahoo Finance download: `Date,Open,High,Low,Close,Adj Close,Volume`, one ticker per file. The ticker is
  taken from the file name (VTI.csv) unless given. Close is used, not Adj Close: lots are compared with the
  price actually traded. Rows of "null" are skipped;
- Stooq: the daily download `Date,Open,High,Low,Close,Volume` (file vti_us_d.csv -> VTI), and the bulk
  layout `<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>` (VTI.US, YYYYMMDD).
"""

import re
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from .base import Collector, ImportFileError, Problem, csv_rows, money, parse_day

_STOOQ_NAME = re.compile(r"^([a-z0-9.\-]+?)(?:[._](us))?(?:_d)?(?:\s*\(\d+\))?$", re.I)


class Close(NamedTuple):
    row: int
    ticker: str
    date: date
    close: Decimal


class PriceFile(NamedTuple):
    format: str  # csv, yahoo, stooq
    closes: tuple[Close, ...]
    skipped: int  # rows without a close (null, empty)


def ticker_from_name(name: str) -> str:
    stem = re.split(r"[\\/]", name)[-1].rsplit(".", 1)[0] if "." in name else name
    m = _STOOQ_NAME.match(stem.strip())
    stem = m.group(1) if m else stem
    return stem.upper().removesuffix(".US")


def parse_prices(text: str, *, name: str = "prices.csv", ticker: str | None = None) -> PriceFile:
    """A price file -> closes. Raises ImportFileError (every bad row with its row, column and reason)."""
    rows = csv_rows(text)
    header_at = next((i for i, cells in enumerate(rows) if any(c.strip() for c in cells)), None)
    if header_at is None:
        raise ImportFileError([Problem(None, None, "the file is empty")], name)
    header = [c.strip().strip("<>").lower() for c in rows[header_at]]
    problems = Collector(name)
    closes: list[Close] = []
    skipped = 0
    if {"date", "ticker", "close"} <= set(header) and "per" not in header:
        fmt = "csv"
    elif "ticker" in header and "per" in header and "close" in header:
        fmt = "stooq"
    elif {"date", "close"} <= set(header):
        fmt = "yahoo" if "adj close" in header else "stooq"
        ticker = (ticker or ticker_from_name(name)).upper()
        if not ticker:
            raise ImportFileError([Problem(None, None, "a single-ticker price file needs its ticker (from the "
                                                       "file name, e.g. VTI.csv, or given)")], name)
    else:
        raise ImportFileError([Problem(header_at + 1, None, "not a price file: expected the columns date,ticker,close "
                                                            "or a Yahoo / Stooq download")], name)
    col = {c: i for i, c in reversed(list(enumerate(header)))}
    seen: dict[tuple[str, date], int] = {}
    for i in range(header_at + 1, len(rows)):
        cells = rows[i]
        if not any(c.strip() for c in cells):
            continue
        line = i + 1

        def cell(key, cells=cells):
            j = col.get(key)
            return cells[j].strip() if j is not None and j < len(cells) else ""

        symbol = (cell("ticker").upper().removesuffix(".US") if fmt != "yahoo" and "ticker" in col else ticker)
        raw_close = cell("close")
        if raw_close.lower() in ("null", "", "nan", "-"):
            skipped += 1
            continue
        try:
            day = parse_day(cell("date"))
        except ValueError as exc:
            problems.add(line, "date", str(exc))
            continue
        try:
            close = money(raw_close)
        except ValueError as exc:
            problems.add(line, "close", str(exc))
            continue
        if close is None or close <= 0:
            problems.add(line, "close", f"a close must be positive, not {raw_close!r}")
            continue
        if not symbol:
            problems.add(line, "ticker", "empty")
            continue
        key = (symbol, day)
        if key in seen:
            problems.add(line, "date", f"{symbol} on {day} already given on row {seen[key]}")
            continue
        seen[key] = line
        closes.append(Close(line, symbol, day, close))
    problems.done()
    if not closes:
        raise ImportFileError([Problem(None, None, "no closes in the file")], name)
    return PriceFile(fmt, tuple(closes), skipped)

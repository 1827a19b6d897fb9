"""Reading the wash-sale CLI's CSV inputs (accounts, trades, identity) and writing its outputs.

Pure: text in, engine values out. Every problem is reported with the file, the row (the line number
a spreadsheet shows, header = 1), the column and the reason; all problems of a file are collected
before anything is computed. Formats: docs/formats.md, "Wash-sale CLI formats".
"""

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from .types import ACCOUNT_KINDS, ACTIONS, LOT_METHODS, TRANSFER_IN, ZERO, Account, Trade
from .universe import IdentityMap

MAX_ERRORS = 20
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class InputError(Exception):
    """One bad cell (or row, or file): where it is and why it is wrong."""

    def __init__(self, file: str, row: int | None, column: str | None, reason: str):
        self.file, self.row, self.column, self.reason = file, row, column, reason
        where = [file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {reason}")


class InputErrors(Exception):
    """Several InputErrors, reported together."""

    def __init__(self, errors: Sequence[InputError]):
        self.errors = list(errors)
        lines = [str(e) for e in self.errors[:MAX_ERRORS]]
        if len(self.errors) > MAX_ERRORS:
            lines.append(f"... and {len(self.errors) - MAX_ERRORS} more")
        super().__init__("\n".join(lines))


class _Table:
    """A CSV file read with its header checked; yields (row number, {column: stripped cell})."""

    def __init__(self, text: str, name: str, required: Sequence[str], optional: Sequence[str] = ()):
        self.name = name
        self.errors: list[InputError] = []
        self.reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
        header = next(self.reader, None)
        if header is None:
            raise InputErrors([InputError(name, None, None, "the file is empty (no header row)")])
        self.columns = [h.strip().lower() for h in header]
        missing = [c for c in required if c not in self.columns]
        unknown = [c for c in self.columns if c and c not in required and c not in optional]
        problems = [InputError(name, 1, c, "missing column") for c in missing]
        problems += [InputError(name, 1, c, f"unknown column (expected {', '.join([*required, *optional])})")
                     for c in unknown]
        dupes = {c for c in self.columns if c and self.columns.count(c) > 1}
        problems += [InputError(name, 1, c, "column appears twice") for c in sorted(dupes)]
        if problems:
            raise InputErrors(problems)

    def __iter__(self):
        width = len(self.columns)
        for cells in self.reader:
            if not any(c.strip() for c in cells):
                continue
            line = self.reader.line_num
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                cells = cells[:width]
            if len(cells) != width:
                self.error(line, None, f"has {len(cells)} cells, the header has {width}")
                continue
            yield line, {col: cell.strip() for col, cell in zip(self.columns, cells, strict=True) if col}

    def error(self, row: int | None, column: str | None, reason: str) -> None:
        self.errors.append(InputError(self.name, row, column, reason))

    def done(self) -> None:
        if self.errors:
            raise InputErrors(self.errors)


def parse_decimal(text: str) -> Decimal:
    """A plain decimal number as written in the CLI's CSVs ("12", "-0.5", "3.141593"): no currency
    signs, thousands separators or exponents. Raises ValueError otherwise."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"not a decimal number: {text!r}")
    return Decimal(text)


def parse_date(text: str) -> date:
    """A date as YYYY-MM-DD. Raises ValueError otherwise."""
    if not _DATE.fullmatch(text):
        raise ValueError(f"not a date in YYYY-MM-DD form: {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a valid date: {text!r}") from None


def _cell(table: _Table, line: int, row: dict, column: str, parse, *, required=True):
    text = row.get(column, "")
    if not text:
        if required:
            table.error(line, column, "empty")
        return None
    try:
        return parse(text)
    except ValueError as exc:
        table.error(line, column, str(exc))
        return None


ACCOUNT_COLUMNS = ("account", "owner", "taxpayer", "kind")


def parse_accounts(text: str, name: str = "accounts.csv") -> tuple[list[Account], dict[str, int]]:
    """accounts CSV -> (accounts, {account: row number})."""
    table = _Table(text, name, ACCOUNT_COLUMNS)
    accounts: list[Account] = []
    rows: dict[str, int] = {}
    for line, row in table:
        account = row["account"]
        kind = row["kind"].lower()
        bad = False
        for column in ACCOUNT_COLUMNS:
            if not row[column]:
                table.error(line, column, "empty")
                bad = True
        if kind and kind not in ACCOUNT_KINDS:
            table.error(line, "kind", f"unknown kind {row['kind']!r} (expected {', '.join(sorted(ACCOUNT_KINDS))})")
            bad = True
        if account in rows:
            table.error(line, "account", f"account {account!r} already defined on row {rows[account]}")
            bad = True
        if not bad:
            rows[account] = line
            accounts.append(Account(account=account, owner=row["owner"], taxpayer=row["taxpayer"], kind=kind))
    table.done()
    if not accounts:
        raise InputErrors([InputError(name, None, None, "no accounts")])
    return accounts, rows


TRADE_COLUMNS = ("trade_id", "date", "account", "ticker", "action", "quantity", "price")
TRADE_OPTIONAL = ("fees", "lot_id", "acquired_date", "basis", "lot_method")


def parse_trades(
    text: str, name: str = "trades.csv", accounts: Iterable[str] | None = None
) -> tuple[list[Trade], dict[str, int]]:
    """trades CSV -> (trades in file order, {trade_id: row number}).

    Checks each row on its own and, when `accounts` is given, that it names a known account. Checks
    that need the position (oversells, lot_id pointing at a sold-out lot) are the engine's."""
    table = _Table(text, name, TRADE_COLUMNS, TRADE_OPTIONAL)
    known = set(accounts) if accounts is not None else None
    trades: list[Trade] = []
    rows: dict[str, int] = {}
    for line, row in table:
        before = len(table.errors)
        trade_id = row["trade_id"]
        if not trade_id:
            table.error(line, "trade_id", "empty")
        elif trade_id in rows:
            table.error(line, "trade_id", f"trade_id {trade_id!r} already used on row {rows[trade_id]}")
        day = _cell(table, line, row, "date", parse_date)
        account = row["account"]
        if not account:
            table.error(line, "account", "empty")
        elif known is not None and account not in known:
            table.error(line, "account", f"unknown account {account!r} (not in the accounts file)")
        ticker = row["ticker"].upper()
        if not ticker:
            table.error(line, "ticker", "empty")
        action = row["action"].lower()
        if action not in ACTIONS:
            table.error(line, "action", f"unknown action {row['action']!r} (expected buy, sell, reinvest or "
                                        "transfer_in)")
        quantity = _cell(table, line, row, "quantity", parse_decimal)
        if quantity is not None and quantity <= 0:
            table.error(line, "quantity", f"{'negative' if quantity < 0 else 'zero'} quantity {row['quantity']}"
                                          " (quantities are positive; the action gives the direction)")
        basis = _cell(table, line, row, "basis", parse_decimal, required=False)
        price = _cell(table, line, row, "price", parse_decimal,
                      required=not (action == TRANSFER_IN and basis is not None))
        fees = _cell(table, line, row, "fees", parse_decimal, required=False)
        for column, value in (("price", price), ("fees", fees), ("basis", basis)):
            if value is not None and value < 0:
                table.error(line, column, f"negative {column} {value}")
        lot_id = row.get("lot_id") or None
        acquired = _cell(table, line, row, "acquired_date", parse_date, required=False)
        method = (row.get("lot_method") or "").lower() or None
        if method is not None and method not in LOT_METHODS:
            table.error(line, "lot_method", f"unknown lot method {row['lot_method']!r} (expected fifo, hifo or "
                                            "specific)")
        if action and action in ACTIONS:
            if lot_id and action != "sell":
                table.error(line, "lot_id", "lot_id is only allowed on a sell")
            if action != TRANSFER_IN:
                for column, value in (("acquired_date", acquired), ("basis", basis)):
                    if value is not None:
                        table.error(line, column, f"{column} is only allowed on a transfer_in")
        if acquired is not None and day is not None and acquired > day:
            table.error(line, "acquired_date", f"acquired_date {acquired} is after the trade date {day}")
        if len(table.errors) == before:
            rows[trade_id] = line
            trades.append(Trade(
                trade_id=trade_id, date=day, account=account, ticker=ticker, action=action,
                quantity=quantity, price=price if price is not None else ZERO,
                fees=fees if fees is not None else ZERO, lot_id=lot_id, acquired_date=acquired, basis=basis,
                lot_method=method,
            ))
        elif trade_id and trade_id not in rows:
            rows[trade_id] = line
    table.done()
    return trades, rows


def parse_identity(text: str, name: str = "identity.csv") -> IdentityMap:
    """identity CSV (ticker,group[,since]) -> IdentityMap. A ticker may have several rows with different
    `since` dates (YYYY-MM-DD; empty = from the beginning)."""
    table = _Table(text, name, ("ticker", "group"), ("since",))
    periods: dict[str, list[tuple[date | None, str]]] = {}
    seen: dict[tuple[str, date | None], int] = {}
    for line, row in table:
        ticker = row["ticker"].upper()
        group = row["group"]
        since = _cell(table, line, row, "since", parse_date, required=False)
        if not ticker:
            table.error(line, "ticker", "empty")
        if not group:
            table.error(line, "group", "empty")
        if ticker and (ticker, since) in seen:
            table.error(line, "ticker", f"{ticker} already has a group from this date on row {seen[ticker, since]}")
        if ticker and group:
            seen[ticker, since] = line
            periods.setdefault(ticker, []).append((since, group))
    table.done()
    return IdentityMap(periods)


def to_csv(rows: Iterable[dict[str, str]], columns: Sequence[str]) -> str:
    """Rows as CSV text with a header, "\\n" line ends."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def to_json(data: dict) -> str:
    return json.dumps(data, indent=2) + "\n"

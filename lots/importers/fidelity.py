"""Fidelity exports (BROKER_FORMATS.md sections 5 and 6).

- Activity & Orders history, both layouts: the older single-account file (comma-only rows before the
  header, disclaimer after) and the 2025 all-accounts file (Account and Account Number columns). The
  Action text carries the type: YOU BOUGHT, YOU SOLD, REINVESTMENT are trades; Quantity is negative on
  sells and read as its absolute value.
- Positions (Portfolio_Positions_*.csv): opening lots, one per position at its Cost Basis Total, as of
  the "Date downloaded" line (or the date the caller gives).
"""

import re
from datetime import date
from decimal import Decimal

from .base import (
    BOND,
    BUY,
    CASH,
    CORPORATE_ACTION,
    NO_BASIS,
    OPENING,
    OPTION,
    REINVEST,
    SELL,
    SHORT,
    TRANSACTIONS,
    TRANSFER,
    TRANSFER_IN,
    UNKNOWN_ACTION,
    ZERO,
    Collector,
    ImportFileError,
    ParseResult,
    Problem,
    Record,
    Row,
    Skipped,
    clean_ticker,
    csv_rows,
    header_index,
    is_option_symbol,
    looks_like_cusip,
    non_fund_kind,
    parse_day,
    read_day,
    read_number,
    trade_record,
    trim,
)

_FILE_ACCOUNT = re.compile(r"History_for_Account_([A-Z0-9]+)", re.I)
_DOWNLOADED = re.compile(r"Date downloaded\s+(\S+)", re.I)
SKIP_FIRST = {"pending activity", "total", "account total"}


def detect_kind(rows: list[list[str]]) -> str | None:
    for cells in rows[:12]:
        names = {c.strip().lower() for c in cells}
        if {"run date", "action", "symbol"} <= names:
            return "fidelity_history"
        if {"account number", "symbol", "cost basis total"} <= names or (
                {"account number", "symbol", "current value"} <= names and "last price" in names):
            return "fidelity_positions"
    return None


def _header(rows: list[list[str]], required: set[str], name: str) -> int:
    for i, cells in enumerate(rows[:12]):
        if required <= {c.strip().lower() for c in cells}:
            return i
    raise ImportFileError([Problem(None, None, f"no header row with {', '.join(sorted(required))}")], name)


def _downloaded(rows: list[list[str]]) -> date | None:
    for cells in reversed(rows[-40:]):
        t = trim(cells)
        if t:
            m = _DOWNLOADED.search(t[0])
            if m:
                try:
                    return parse_day(m.group(1))
                except ValueError:
                    return None
    return None


def _is_footer(cells: list[str]) -> bool:
    first = cells[0]
    return first.startswith("Date downloaded") or len(first) > 60 or first.startswith('"')


def _classify(action: str) -> str | None:
    a = action.strip().upper()
    if a.startswith("YOU BOUGHT"):
        return BUY
    if a.startswith("YOU SOLD"):
        return SELL
    if a.startswith("REINVESTMENT"):
        return REINVEST
    return None


def parse_history(text: str, name: str) -> ParseResult:
    rows = csv_rows(text)
    problems = Collector(name)
    start = _header(rows, {"run date", "action", "symbol"}, name)
    index = header_index(rows[start])
    file_account = ""
    m = _FILE_ACCOUNT.search(name)
    if m:
        file_account = m.group(1)
    records: list[Record] = []
    skipped: list[Skipped] = []
    accounts: dict[str, None] = {}
    rows_read = 0
    for i in range(start + 1, len(rows)):
        cells = trim(rows[i])
        if not cells or _is_footer(cells):
            continue
        row = Row(i + 1, rows[i], index)
        try:
            parse_day(row.get("run date"))
        except ValueError:
            continue  # disclaimer text or another footer line
        rows_read += 1
        account = row.get("account number") or file_account
        if row.get("account") and row.get("account number"):
            account = row.get("account number")
        accounts[account] = None
        action_text = row.get("action")
        symbol = row.get("symbol")
        description = row.get("security description", "description")
        what = action_text[:80]
        upper = action_text.upper()
        side = _classify(action_text)
        if is_option_symbol(symbol) or any(w in upper for w in ("OPENING TRANSACTION", "CLOSING TRANSACTION",
                                                                  "ASSIGNED", "EXPIRED")):
            skipped.append(Skipped(row.number, OPTION, what, account))
            continue
        if side is None:
            if not symbol:
                reason = CASH
            elif any(w in upper for w in ("MERGER", "SPLIT", "SPIN", "EXCHANGE", "REORG", "DISTRIBUTION")):
                reason = CORPORATE_ACTION
            elif any(w in upper for w in ("REDEMPTION",)) and looks_like_cusip(symbol):
                reason = BOND
            elif any(w in upper for w in ("TRANSFER OF ASSETS", "JOURNALED", "TRANSFERRED", "RECEIVED FROM",
                                          "DELIVERED")) and row.get("quantity") not in ("", "0", "0.000"):
                reason = TRANSFER
            elif any(w in upper for w in ("DIVIDEND", "INTEREST", "DEPOSIT", "DEBIT", "TRANSFERRED", "CHECK",
                                          "TAX", "FEE", "CONTRIBUTION", "DISTRIBUTION", "INT ", "CASH",
                                          "REDEMPTION", "WITHDRAWAL", "ELECTRONIC", "WIRE", "BILL PAY")):
                reason = CASH
            else:
                reason = UNKNOWN_ACTION
            skipped.append(Skipped(row.number, reason, what, account))
            continue
        kind = non_fund_kind(symbol, description, action_text)
        if kind:
            skipped.append(Skipped(row.number, kind, what, account))
            continue
        if "SHORT" in upper:
            skipped.append(Skipped(row.number, SHORT, what, account))
            continue
        before = len(problems.problems)
        day = read_day(row, problems, "run date", label="Run Date")
        quantity = read_number(row, problems, "quantity", required=True, label="Quantity")
        price = read_number(row, problems, "price", label="Price")
        fees = (read_number(row, problems, "commission", label="Commission") or ZERO) + (
            read_number(row, problems, "fees", label="Fees") or ZERO)
        amount = read_number(row, problems, "amount", label="Amount")
        record = trade_record(problems, row, before=before, day=day, side=side, symbol=symbol, quantity=quantity,
                              price=price, fees=fees, amount=amount, account=account, description=description)
        if record is not None:
            records.append(record)
    problems.done()
    notes = ("Fidelity: the Action text gives the type (YOU BOUGHT, YOU SOLD, REINVESTMENT); sells carry a negative "
             "Quantity, imported as a sale of its absolute value; Run Date is the trade date.",)
    return ParseResult("fidelity_history", "Fidelity transaction history", TRANSACTIONS, tuple(records),
                       tuple(skipped), notes, tuple(a for a in accounts if a), None, rows_read)


def parse_positions(text: str, name: str, as_of: date | None = None) -> ParseResult:
    rows = csv_rows(text)
    problems = Collector(name)
    start = _header(rows, {"account number", "symbol"}, name)
    index = header_index(rows[start])
    as_of = _downloaded(rows) or as_of
    if as_of is None:
        raise ImportFileError([Problem(None, None, "the file has no 'Date downloaded' line: give the date of the "
                                                   "positions (positions as of)")], name)
    records: list[Record] = []
    skipped: list[Skipped] = []
    accounts: dict[str, None] = {}
    rows_read = 0
    for i in range(start + 1, len(rows)):
        cells = trim(rows[i])
        if not cells or _is_footer(cells):
            continue
        row = Row(i + 1, rows[i], index)
        account = row.get("account number")
        symbol = row.get("symbol")
        if not account or not symbol:
            continue
        rows_read += 1
        accounts[account] = None
        what = f"{symbol} {row.get('description')}".strip()
        if symbol.lower() in SKIP_FIRST:
            skipped.append(Skipped(row.number, CASH, what, account))
            continue
        if is_option_symbol(symbol):
            skipped.append(Skipped(row.number, OPTION, what, account))
            continue
        kind = non_fund_kind(symbol, row.get("description"))
        if kind:
            skipped.append(Skipped(row.number, kind, what, account))
            continue
        before = len(problems.problems)
        quantity = read_number(row, problems, "quantity", label="Quantity")
        basis = read_number(row, problems, "cost basis total", label="Cost Basis Total")
        if len(problems.problems) != before:
            continue
        if quantity is None or basis is None:
            skipped.append(Skipped(row.number, NO_BASIS, what, account))
            continue
        if quantity <= 0:
            skipped.append(Skipped(row.number, SHORT, what, account))
            continue
        records.append(Record(row.number, as_of, TRANSFER_IN, clean_ticker(symbol), quantity,
                              (abs(basis) / quantity).quantize(Decimal("0.000001")), ZERO, "", None, abs(basis),
                              account, row.get("description"), opening=True))
    problems.done()
    notes = (f"Fidelity positions have no lots: each position becomes one opening lot at its Cost Basis Total, "
             f"acquired on {as_of} as far as Harvester knows (its real holding period is unknown and shows as "
             "short-term).",)
    return ParseResult("fidelity_positions", "Fidelity positions", OPENING, tuple(records), tuple(skipped), notes,
                       tuple(accounts), as_of, rows_read)

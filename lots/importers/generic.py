"""The generic CSV (docs/importing.md): the wash-sale CLI's trades format, read for import.

    trade_id,date,account,ticker,action,quantity,price,fees,lot_id,acquired_date,basis,lot_method

Required: date, ticker, action, quantity, and price (except on a transfer_in that gives its basis).
Optional: trade_id (the custodian's id: the dedup key when present), account (the file's account label),
fees, lot_id (a sell relieves the lot bought by that trade_id), acquired_date and basis (transfer_in only:
an opening lot), lot_method (fifo, hifo, specific), description. Values are plain: YYYY-MM-DD dates,
decimal numbers without currency signs or thousands separators, positive quantities.
"""

import re
from datetime import date
from decimal import Decimal

from .base import (
    ACTIONS,
    OPENING,
    TRANSACTIONS,
    TRANSFER_IN,
    ZERO,
    Collector,
    ImportFileError,
    ParseResult,
    Problem,
    Record,
    csv_rows,
)

FORMAT = "generic"
LABEL = "Generic CSV (docs/importing.md)"
REQUIRED = ("date", "ticker", "action", "quantity")
COLUMNS = ("trade_id", "date", "account", "ticker", "action", "quantity", "price", "fees", "lot_id",
           "acquired_date", "basis", "lot_method", "description")
LOT_METHODS = ("fifo", "hifo", "specific")
PLAIN_ACTIONS = frozenset({"buy", "sell", "reinvest"})
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PLAIN_CHARS = "0123456789.+-"


def detect(rows: list[list[str]]) -> bool:
    for cells in rows[:5]:
        names = {c.strip().lower() for c in cells}
        if {"date", "ticker", "action", "quantity"} <= names:
            return True
    return False


def _header(rows: list[list[str]], name: str) -> tuple[int, list[str]]:
    for i, cells in enumerate(rows[:5]):
        names = [c.strip().lower() for c in cells]
        if {"date", "ticker", "action", "quantity"} <= set(names):
            while names and not names[-1]:
                names.pop()
            return i, names
    raise ImportFileError([Problem(1, None, "no header row with date, ticker, action and quantity")], name)


def parse(text: str, name: str = "import.csv") -> ParseResult:
    rows = csv_rows(text)
    start, columns = _header(rows, name)
    problems = Collector(name)
    unknown = [c for c in columns if c and c not in COLUMNS]
    for c in unknown:
        problems.add(start + 1, c, f"unknown column (expected {', '.join(COLUMNS)})")
    for c in REQUIRED:
        if c not in columns:
            problems.add(start + 1, c, "missing column")
    dupes = sorted({c for c in columns if c and columns.count(c) > 1})
    for c in dupes:
        problems.add(start + 1, c, "column appears twice")
    problems.done()
    width = len(columns)
    pos = {c: i for i, c in enumerate(columns)}
    get_id, get_date, get_account = pos.get("trade_id"), pos["date"], pos.get("account")
    get_ticker, get_action, get_qty = pos["ticker"], pos["action"], pos["quantity"]
    get_price, get_fees, get_lot = pos.get("price"), pos.get("fees"), pos.get("lot_id")
    get_acq, get_basis, get_method = pos.get("acquired_date"), pos.get("basis"), pos.get("lot_method")
    get_desc = pos.get("description")
    add = problems.add
    number, day_re = _NUMBER.fullmatch, _DATE.fullmatch
    fromiso = date.fromisoformat
    records: list[Record] = []
    ids: dict[str, int] = {}
    accounts: dict[str, None] = {}
    rows_read = 0

    numbers: dict[str, Decimal] = {}  # cell text -> value: prices, fees and quantities repeat a lot
    days: dict[str, date] = {}
    tickers: set[str] = set()  # cells that are a ticker as they are (upper case, no spaces)

    def num(cells, i, line, column, required):
        if i is None:
            text = ""
        else:
            text = cells[i]
            value = numbers.get(text)
            if value is not None:
                return value
            text = text.strip()
        if not text:
            if required:
                add(line, column, "empty")
            return None
        if text.strip(_PLAIN_CHARS) or not number(text):
            add(line, column, f"not a plain decimal number: {text!r} (no $, commas or exponents)")
            return None
        value = Decimal(text)
        if value < 0:
            add(line, column, f"negative {column} {text}")
            return value
        numbers[cells[i]] = value
        return value

    def day(cells, i, line, column, required):
        if i is None:
            text = ""
        else:
            text = cells[i]
            value = days.get(text)
            if value is not None:
                return value
            text = text.strip()
        if not text:
            if required:
                add(line, column, "empty")
            return None
        if not day_re(text):
            add(line, column, f"not a date in YYYY-MM-DD form: {text!r}")
            return None
        try:
            value = fromiso(text)
        except ValueError:
            add(line, column, f"not a valid date: {text!r}")
            return None
        days[cells[i]] = value
        return value

    def good_number(cell: str) -> Decimal | None:
        """The cell's value when it is a non-negative plain number (remembered), else None: the full check
        below then says what is wrong with it."""
        value = numbers.get(cell)
        if value is None:
            text = cell.strip()
            if text and not text.strip(_PLAIN_CHARS) and number(text):
                value = Decimal(text)
                if value < 0:
                    return None
                numbers[cell] = value
        return value

    def good_day(cell: str) -> date | None:
        value = days.get(cell)
        if value is None:
            text = cell.strip()
            if day_re(text):
                try:
                    value = days[cell] = fromiso(text)
                except ValueError:
                    return None
        return value

    # Columns that a plain trade leaves empty; with any of them set, a row takes the full check below.
    rest = [i for i in (get_acq, get_basis, get_lot, get_method, get_desc) if i is not None]
    fast = get_price is not None
    new_record = Record._make
    for line, cells in enumerate(rows[start + 1:], start + 2):  # line: the spreadsheet's row number
        if len(cells) != width:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                cells = cells[:width]
            elif len(cells) < width:
                cells = cells + [""] * (width - len(cells))  # trailing optional cells left out
            else:
                add(line, None, f"has {len(cells)} cells, the header has {width}")
                continue
        rows_read += 1
        # Fast path: a plain buy, sell or reinvestment whose values are all valid as they are (no problem to
        # report); anything else takes the full check below, which reports every problem of the row.
        action = cells[get_action]
        if fast and action in PLAIN_ACTIONS and not (rest and any(cells[i] for i in rest)):
            trade_date = good_day(cells[get_date])
            quantity = good_number(cells[get_qty])
            price = good_number(cells[get_price])
            fees_text = cells[get_fees] if get_fees is not None else ""
            fees = good_number(fees_text) if fees_text else ZERO
            ticker = cells[get_ticker]
            if ticker not in tickers and ticker and ticker == ticker.strip().upper():
                tickers.add(ticker)
            if trade_date is not None and quantity and price is not None and fees is not None and ticker in tickers:
                trade_id = cells[get_id].strip() if get_id is not None else ""
                if trade_id:
                    if trade_id in ids:
                        add(line, "trade_id", f"trade_id {trade_id!r} already used on row {ids[trade_id]}")
                        continue
                    ids[trade_id] = line
                account = cells[get_account].strip() if get_account is not None else ""
                if account not in accounts:
                    accounts[account] = None
                records.append(new_record((line, trade_date, action, ticker, quantity, price, fees, trade_id, None,
                                           None, account, "", "", None, "", "", False)))
                continue
        before = len(problems.problems)
        action = cells[get_action].strip().lower()
        if action not in ACTIONS:
            add(line, "action", f"unknown action {cells[get_action].strip()!r} (expected buy, sell, reinvest or "
                                "transfer_in)")
        ticker = cells[get_ticker].strip().upper()
        if not ticker:
            add(line, "ticker", "empty")
        trade_date = day(cells, get_date, line, "date", True)
        quantity = num(cells, get_qty, line, "quantity", True)
        if quantity is not None and quantity == 0:
            add(line, "quantity", "zero quantity (quantities are positive; the action gives the direction)")
        basis = num(cells, get_basis, line, "basis", False)
        price = num(cells, get_price, line, "price", not (action == TRANSFER_IN and basis is not None))
        fees = num(cells, get_fees, line, "fees", False)
        acquired = day(cells, get_acq, line, "acquired_date", False)
        trade_id = cells[get_id].strip() if get_id is not None else ""
        if trade_id:
            if trade_id in ids:
                add(line, "trade_id", f"trade_id {trade_id!r} already used on row {ids[trade_id]}")
            else:
                ids[trade_id] = line
        lot_id = cells[get_lot].strip() if get_lot is not None else ""
        method = cells[get_method].strip().lower() if get_method is not None else ""
        if method and method not in LOT_METHODS:
            add(line, "lot_method", f"unknown lot method {method!r} (expected fifo, hifo or specific)")
        if action != "sell" and (lot_id or method):
            add(line, "lot_id" if lot_id else "lot_method", "only a sell names a lot or a lot method")
        if action != TRANSFER_IN and (acquired is not None or basis is not None):
            add(line, "acquired_date" if acquired is not None else "basis", "only a transfer_in carries an "
                "acquisition date and basis")
        if acquired is not None and trade_date is not None and acquired > trade_date:
            add(line, "acquired_date", f"acquired {acquired} after the trade date {trade_date}")
        if len(problems.problems) != before:
            continue
        account = cells[get_account].strip() if get_account is not None else ""
        accounts[account] = None
        if price is None:  # a transfer_in with its basis: the price is the average cost
            price = (basis / quantity).quantize(Decimal("0.000001"))
        records.append(Record(
            line, trade_date, action, ticker, quantity, price, fees if fees is not None else ZERO, trade_id,
            acquired, basis, account, cells[get_desc].strip() if get_desc is not None else "", "", None, lot_id,
            method, action == TRANSFER_IN,
        ))
    if not rows_read:
        add(None, None, "no data rows after the header")
    problems.done()
    kind = OPENING if records and all(r.action == TRANSFER_IN for r in records) else TRANSACTIONS
    labels = tuple(a for a in accounts if a)
    return ParseResult(FORMAT, LABEL, kind, tuple(records), (), (), labels, None, rows_read)

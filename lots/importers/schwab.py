"""Charles Schwab exports (BROKER_FORMATS.md sections 1-4).

- Transactions (History -> Export), both the older layout (title row, "Transactions Total" footer) and
  the 2025 layout: buys, sells and share reinvestments. Quantity is unsigned on buys and sells (the Action
  gives the side); "MM/DD/YYYY as of MM/DD/YYYY" is read as the "as of" date, the trade date.
- Realized Gain/Loss - Lot Details: one closed lot per row (Opened Date, Closed Date, Quantity, Proceeds,
  Unadjusted Cost Basis), imported as the lot (transfer_in on its acquisition date) and the sale of it.
- Open lot details (one symbol per file) and Positions: opening lots as of the file's date.
- Realized Gain/Loss at transaction level and the 1099 composite are recognized and refused with the
  reason (no acquisition dates / tax-form totals): they belong on the Reconcile page.
"""

import re
from datetime import date
from decimal import Decimal

from .base import (
    BOND,
    BUY,
    CASH,
    CLOSED_LOTS,
    CORPORATE_ACTION,
    MONEY_MARKET,
    NO_BASIS,
    OPENING,
    OPTION,
    REINVEST,
    SELL,
    TRANSACTIONS,
    TRANSFER,
    TRANSFER_IN,
    UNKNOWN_ACTION,
    VARIOUS,
    ZERO,
    Collector,
    ImportFileError,
    ParseResult,
    Problem,
    Record,
    Row,
    Skipped,
    UnsupportedFile,
    clean_ticker,
    closed_lot,
    csv_rows,
    header_index,
    is_money_market,
    is_option_symbol,
    looks_like_cusip,
    money,
    non_fund_kind,
    parse_day,
    read_day,
    read_number,
    trade_record,
    trim,
)

TXN_HEADER = ["Date", "Action", "Symbol", "Description", "Quantity", "Price", "Fees & Comm", "Amount"]
SKIP_FIRST = {"total", "transactions total", "account total", "positions total", "cash & cash investments",
              "pending activity", "total:"}

BUY_ACTIONS = {"buy"}
SELL_ACTIONS = {"sell"}
REINVEST_ACTIONS = {"reinvest shares"}
OPTION_ACTIONS = {"buy to open", "sell to close", "sell to open", "buy to close", "expired",
                  "exchange or exercise", "assigned"}
CORPORATE_ACTIONS = {"stock split", "reverse split", "stock merger", "spin-off", "spinoff", "name change"}
TRANSFER_ACTIONS = {"journaled shares", "security transfer", "stock plan activity", "internal transfer"}
CASH_WORDS = ("dividend", "div ", "interest", "journal", "moneylink", "wire", "funds", "fee", "cash in lieu",
              "promotional", "misc cash", "substitute", "cap gain", "adr mgmt", "tax", "deposit",
              "withdrawal", "adjustment", "credit", "check")

_TITLE_TXN = re.compile(r"^Transactions\s+for account (.+?) as of", re.I)
_FILE_ACCOUNT = re.compile(r"_(X{2,}\d{3,4})_", re.I)
_TITLE_POSITIONS = re.compile(r"^Positions for (.+?) as of (.+)$", re.I)
_TITLE_LOTS = re.compile(r"^(\S+) Lot Details for (.+?) as of (.+)$", re.I)
_TITLE_REALIZED = re.compile(r"^Realized Gain/Loss - Lot Details for (.+?) as of ", re.I)
_DATE_IN = re.compile(r"(\d{4}/\d{2}/\d{2}|\d{1,2}/\d{1,2}/\d{4})")


def _first(rows: list[list[str]]) -> list[str]:
    for cells in rows[:3]:
        t = trim(cells)
        if t:
            return t
    return []


def detect_kind(rows: list[list[str]]) -> str | None:
    """Which Schwab export this is, from its title and header rows (None: not Schwab)."""
    first = _first(rows)
    title = first[0] if len(first) == 1 else ""
    for cells in rows[:8]:
        t = trim(cells)
        if t == TXN_HEADER:
            return "schwab_transactions"
        names = set(t)
        if {"Symbol", "Closed Date", "Opened Date", "Cost Basis (CB)"} <= names:
            return "schwab_realized_lots"
        if {"Symbol", "Closed Date", "Cost Basis Method", "Cost Basis (CB)"} <= names:
            return "schwab_realized"
        if {"Open Date", "Quantity", "Cost/Share", "Cost Basis", "Holding Period"} <= names:
            return "schwab_open_lots"
        if "Symbol" in names and "Description" in names and "Cost Basis" in names and (
                "Quantity" in names or "Qty (Quantity)" in names):
            return "schwab_positions"
    if title.startswith("Realized Gain/Loss"):
        return "schwab_realized_lots" if "Lot Details" in title else "schwab_realized"
    if first[:1] == ["Account"] and any(trim(c)[:1] == ["Form 1099 B"] for c in rows[:200]):
        return "schwab_1099"
    return None


def _title_date(text: str) -> date | None:
    m = _DATE_IN.search(text)
    if not m:
        return None
    value = m.group(1)
    if "/" in value and len(value.split("/")[0]) == 4:
        y, mo, d = value.split("/")
        return date(int(y), int(mo), int(d))
    return parse_day(value)


def _account_from_name(name: str) -> str:
    m = _FILE_ACCOUNT.search(name)
    return m.group(1).upper() if m else ""


# ---- transactions -----------------------------------------------------------------------------------
def parse_transactions(text: str, name: str) -> ParseResult:
    rows = csv_rows(text)
    problems = Collector(name)
    account = _account_from_name(name)
    header_at = None
    for i, cells in enumerate(rows[:10]):
        t = trim(cells)
        if t == TXN_HEADER:
            header_at = i
            break
        if len(t) == 1:
            m = _TITLE_TXN.match(t[0])
            if m:
                account = m.group(1).strip()
    if header_at is None:
        raise ImportFileError([Problem(None, None, "no Schwab transactions header row")], name)
    index = header_index(rows[header_at])
    records: list[Record] = []
    skipped: list[Skipped] = []
    notes = ["Schwab: Quantity is unsigned on buys and sells; the Action column gives the side.",
             "Schwab: a date written 'MM/DD/YYYY as of MM/DD/YYYY' is imported on its 'as of' (trade) date."]
    rows_read = 0
    for i in range(header_at + 1, len(rows)):
        cells = trim(rows[i])
        if not cells or cells[0].strip().lower() in SKIP_FIRST:
            continue
        row = Row(i + 1, cells, index)
        rows_read += 1
        action_text = row.get("action")
        action = action_text.lower()
        symbol = row.get("symbol")
        what = f"{action_text} {symbol}".strip()
        if is_option_symbol(symbol) or action in OPTION_ACTIONS:
            skipped.append(Skipped(row.number, OPTION, what, account))
            continue
        if action in CORPORATE_ACTIONS:
            skipped.append(Skipped(row.number, CORPORATE_ACTION, what, account))
            continue
        if action in TRANSFER_ACTIONS:
            skipped.append(Skipped(row.number, TRANSFER, what, account))
            continue
        if action in BUY_ACTIONS:
            side = BUY
        elif action in SELL_ACTIONS:
            side = SELL
        elif action in REINVEST_ACTIONS:
            side = REINVEST
        elif not symbol or any(word in action for word in CASH_WORDS) or action.startswith("reinvest"):
            skipped.append(Skipped(row.number, CASH, what, account))
            continue
        else:
            skipped.append(Skipped(row.number, UNKNOWN_ACTION, what, account))
            continue
        kind = non_fund_kind(symbol, row.get("description"))
        if kind:
            skipped.append(Skipped(row.number, kind, what, account))
            continue
        before = len(problems.problems)
        day = read_day(row, problems, "date", label="Date")
        quantity = read_number(row, problems, "quantity", required=True, label="Quantity")
        price = read_number(row, problems, "price", label="Price")
        fees = read_number(row, problems, "fees & comm", label="Fees & Comm") or ZERO
        amount = read_number(row, problems, "amount", label="Amount")
        record = trade_record(problems, row, before=before, day=day, side=side, symbol=symbol, quantity=quantity,
                              price=price, fees=fees, amount=amount, account=account, description=row.get("description"))
        if record is not None:
            records.append(record)
    problems.done()
    return ParseResult("schwab_transactions", "Schwab transactions", TRANSACTIONS, tuple(records),
                       tuple(skipped), tuple(notes), (account,) if account else (), None, rows_read)


# ---- realized gain/loss, lot details -------------------------------------------------------------------
def parse_realized_lots(text: str, name: str) -> ParseResult:
    rows = csv_rows(text)
    problems = Collector(name)
    account = ""
    first = _first(rows)
    if first:
        m = _TITLE_REALIZED.match(first[0])
        if m:
            account = m.group(1).strip()
    index: dict[str, int] | None = None
    records: list[Record] = []
    skipped: list[Skipped] = []
    accounts: dict[str, None] = {}
    rows_read = 0
    for i, raw in enumerate(rows):
        cells = trim(raw)
        if not cells:
            continue
        if "Closed Date" in cells and "Opened Date" in cells:
            index = header_index(cells)
            continue
        if len(cells) == 1 and index is not None and not cells[0].lower().startswith("there are no"):
            account = cells[0]  # All_Accounts: a section starts with the account label
            continue
        if len(cells) == 1 and index is None:
            m = _TITLE_REALIZED.match(cells[0])
            if m:
                account = m.group(1).strip()
            else:
                account = cells[0]
            continue
        if index is None or cells[0].lower() in SKIP_FIRST or cells[0].lower().startswith("there are no"):
            continue
        if cells[0].startswith("Realized Gain/Loss"):
            continue
        row = Row(i + 1, cells, index)
        rows_read += 1
        symbol = row.get("symbol")
        if is_option_symbol(symbol):
            skipped.append(Skipped(row.number, OPTION, symbol, account))
            continue
        if row.get("opened date").lower() == "various":
            skipped.append(Skipped(row.number, VARIOUS, symbol, account))
            continue
        before = len(problems.problems)
        opened = read_day(row, problems, "opened date", label="Opened Date")
        closed = read_day(row, problems, "closed date", label="Closed Date")
        quantity = read_number(row, problems, "quantity", required=True, label="Quantity")
        proceeds = read_number(row, problems, "proceeds", required=True, label="Proceeds")
        basis = read_number(row, problems, "unadjusted cost basis", label="Unadjusted Cost Basis")
        if basis is None:
            basis = read_number(row, problems, "cost basis (cb)", required=True, label="Cost Basis (CB)")
        if len(problems.problems) != before:
            continue
        quantity = abs(quantity)
        if not quantity:
            problems.add(row.number, "Quantity", "zero")
            continue
        if opened > closed:
            problems.add(row.number, "Opened Date", f"opened {opened} after it was closed {closed}")
            continue
        accounts[account] = None
        records.extend(closed_lot(len(records), row=row.number, ticker=clean_ticker(symbol), quantity=quantity,
                                  opened=opened, closed=closed, basis=abs(basis), proceeds=abs(proceeds),
                                  account=account, description=row.get("name")))
    problems.done()
    notes = ["Schwab lot details: each closed lot becomes a lot acquired on its Opened Date with its Unadjusted "
             "Cost Basis and a sale of exactly that lot on its Closed Date (proceeds / quantity per share); "
             "the household engine recomputes wash sales itself."]
    return ParseResult("schwab_realized_lots", "Schwab realized gain/loss, lot details", CLOSED_LOTS,
                       tuple(records), tuple(skipped), tuple(notes), tuple(a for a in accounts if a) or (
                           (account,) if account else ()), None, rows_read)


# ---- open lot details (one symbol) ---------------------------------------------------------------------
def parse_open_lots(text: str, name: str) -> ParseResult:
    rows = csv_rows(text)
    problems = Collector(name)
    first = _first(rows)
    m = _TITLE_LOTS.match(first[0]) if len(first) == 1 else None
    if not m:
        raise ImportFileError([Problem(1, None, "expected the title '<SYMBOL> Lot Details for <account> as of "
                                                "<time>, MM/DD/YYYY' (the symbol is only in the title)")], name)
    symbol, account = m.group(1), m.group(2).strip()
    as_of = _title_date(m.group(3))
    if as_of is None:
        raise ImportFileError([Problem(1, None, f"no date in the title {first[0]!r}")], name)
    index = None
    records: list[Record] = []
    skipped: list[Skipped] = []
    rows_read = 0
    for i, raw in enumerate(rows):
        cells = trim(raw)
        if not cells or i == 0:
            continue
        if "Open Date" in cells:
            index = header_index(cells)
            continue
        if index is None or cells[0].lower() in SKIP_FIRST:
            continue
        row = Row(i + 1, cells, index)
        rows_read += 1
        if is_option_symbol(symbol):
            skipped.append(Skipped(row.number, OPTION, symbol, account))
            continue
        before = len(problems.problems)
        opened = read_day(row, problems, "open date", label="Open Date")
        quantity = read_number(row, problems, "quantity", required=True, label="Quantity")
        basis = read_number(row, problems, "cost basis", required=True, label="Cost Basis")
        if len(problems.problems) != before:
            continue
        if quantity <= 0:
            skipped.append(Skipped(row.number, "short", f"{quantity} {symbol}", account))
            continue
        if opened > as_of:
            problems.add(row.number, "Open Date", f"opened {opened} after the file's date {as_of}")
            continue
        records.append(Record(row.number, as_of, TRANSFER_IN, clean_ticker(symbol), quantity,
                              (abs(basis) / quantity).quantize(Decimal("0.000001")), ZERO, "", opened, abs(basis),
                              account, opening=True))
    problems.done()
    return ParseResult("schwab_open_lots", "Schwab open lot details", OPENING, tuple(records), tuple(skipped),
                       (f"Schwab open lots: each lot is an opening lot held on {as_of} with its Open Date and "
                        "Cost Basis.",), (account,), as_of, rows_read)


# ---- positions ----------------------------------------------------------------------------------------------
def parse_positions(text: str, name: str, as_of: date | None = None) -> ParseResult:
    rows = csv_rows(text)
    problems = Collector(name)
    first = _first(rows)
    m = _TITLE_POSITIONS.match(first[0]) if len(first) == 1 else None
    account = ""
    file_date = None
    if m:
        account = m.group(1).strip()
        if account.lower().startswith("account "):
            account = account[8:].strip()
        file_date = _title_date(m.group(2))
    as_of = file_date or as_of
    if as_of is None:
        raise ImportFileError([Problem(1, None, "the file does not say the date of the positions: give it "
                                                "(positions as of)")], name)
    index = None
    records: list[Record] = []
    skipped: list[Skipped] = []
    accounts: dict[str, None] = {}
    rows_read = 0
    for i, raw in enumerate(rows):
        cells = trim(raw)
        if not cells or (i == 0 and m):
            continue
        if "Symbol" in cells and "Description" in cells:
            index = header_index(cells)
            continue
        if len(cells) == 1:
            account = cells[0]
            continue
        if index is None or cells[0].lower() in SKIP_FIRST:
            continue
        row = Row(i + 1, cells, index)
        rows_read += 1
        symbol = row.get("symbol")
        what = f"{symbol} {row.get('description')}".strip()
        if is_option_symbol(symbol):
            skipped.append(Skipped(row.number, OPTION, what, account))
            continue
        if is_money_market(symbol) or "cash" in row.get("security type", "asset type").lower():
            skipped.append(Skipped(row.number, MONEY_MARKET, what, account))
            continue
        if "fixed income" in row.get("security type", "asset type").lower() or (
                looks_like_cusip(symbol) and "%" in row.get("description")):
            skipped.append(Skipped(row.number, BOND, what, account))
            continue
        before = len(problems.problems)
        quantity = read_number(row, problems, "quantity", "qty (quantity)", required=True, label="Quantity")
        basis = read_number(row, problems, "cost basis", label="Cost Basis")
        if len(problems.problems) != before:
            continue
        if basis is None:
            skipped.append(Skipped(row.number, NO_BASIS, what, account))
            continue
        if quantity <= 0:
            skipped.append(Skipped(row.number, "short", what, account))
            continue
        accounts[account] = None
        records.append(Record(row.number, as_of, TRANSFER_IN, clean_ticker(symbol), quantity,
                              (abs(basis) / quantity).quantize(Decimal("0.000001")), ZERO, "", None, abs(basis),
                              account, row.get("description"), opening=True))
    problems.done()
    notes = (f"Schwab positions have no lots: each position becomes one opening lot at its total Cost Basis, "
             f"acquired on {as_of} as far as Harvester knows (its real holding period is unknown and shows as "
             "short-term; import open lot details to replace it).",)
    seen = tuple(dict.fromkeys([*accounts, *([account] if account and not accounts else [])]))
    return ParseResult("schwab_positions", "Schwab positions", OPENING, tuple(records), tuple(skipped), notes,
                       seen, as_of, rows_read)


def refuse_realized(name: str) -> ParseResult:
    raise UnsupportedFile(
        "Schwab 'Realized Gain/Loss' at transaction level has no acquisition dates, so it cannot make lots. "
        "Export 'Realized Gain/Loss - Lot Details' instead (one row per closed lot), or compare this file "
        "with the household's ledger on the Reconcile page.", name)


def refuse_1099(name: str) -> ParseResult:
    raise UnsupportedFile(
        "This is a Schwab 1099 composite (tax form) CSV: it holds per-sale tax totals, not trades or lots. "
        "Use it on the Reconcile page; import the Transactions export or the Realized Gain/Loss Lot Details "
        "for trades and lots.", name)


__all__ = ["detect_kind", "money", "parse_open_lots", "parse_positions", "parse_realized_lots",
           "parse_transactions", "refuse_1099", "refuse_realized"]

"""Interactive Brokers (BROKER_FORMATS.md section 8).

- Flex Query XML: <Trade> rows (stocks and ETFs in US dollars) are trades, with tradeID as the custodian
  id; <OpenPosition> rows are opening lots (levelOfDetail LOT gives each lot's open date and cost;
  SUMMARY rows only the position's total cost). A file with trades imports its trades only: its open
  positions are the result of those trades. All data are attributes; unknown attributes are ignored.
- Activity Statement CSV: the Trades section's Order rows are trades (ClosedLot rows are detail);
  Open Positions is not imported from it.
- Transaction History CSV and the Form 8949 worksheet are recognized and refused with the reason.

The XML is read with expat directly so every record keeps its line number; a DOCTYPE or entity
declaration is refused (no entity expansion).
"""

import xml.parsers.expat
from datetime import date
from decimal import Decimal

from .base import (
    BOND,
    BUY,
    CASH,
    CORPORATE_ACTION,
    CURRENCY,
    DETAIL,
    OPENING,
    OPTION,
    SELL,
    SHORT,
    TRANSACTIONS,
    TRANSFER,
    TRANSFER_IN,
    ZERO,
    Collector,
    ImportFileError,
    ParseResult,
    Problem,
    Record,
    Skipped,
    UnsupportedFile,
    clean_ticker,
    csv_rows,
    money,
    parse_day,
)

ROWS = {"Trade", "Lot", "OpenPosition", "CashTransaction", "CorporateAction", "Transfer", "FxTransaction"}
STOCK = {"STK", "ETF"}
DERIVATIVES = {"OPT", "FOP", "FUT", "WAR", "FSFOP", "FSOPT", "IOPT", "CFD"}


def detect_flex(text: str) -> bool:
    return "<FlexQueryResponse" in text[:4096] or "<FlexStatements" in text[:4096]


def _elements(text: str, name: str) -> list[tuple[str, dict, int]]:
    out: list[tuple[str, dict, int]] = []
    parser = xml.parsers.expat.ParserCreate()
    statement: dict = {}

    def start(tag, attrs):
        nonlocal statement
        if tag == "FlexStatement":
            statement = attrs
        elif tag in ROWS:
            out.append((tag, {**attrs, "_statement_to": statement.get("toDate", ""),
                              "_statement_account": statement.get("accountId", "")}, parser.CurrentLineNumber))

    def refuse(*_args):
        raise ImportFileError([Problem(parser.CurrentLineNumber, None, "DOCTYPE or entity declarations are not "
                                                                       "accepted in an IBKR Flex file")], name)

    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(text.lstrip("\ufeff"), True)
    except xml.parsers.expat.ExpatError as exc:
        raise ImportFileError([Problem(exc.lineno, None, f"not well-formed XML: {xml.parsers.expat.ErrorString(exc.code)}")],
                              name) from None
    return out


def _num(attrs: dict, key: str, line: int, problems: Collector, required: bool = False) -> Decimal | None:
    text = attrs.get(key, "")
    try:
        value = money(text)
    except ValueError as exc:
        problems.add(line, key, str(exc))
        return None
    if value is None and required:
        problems.add(line, key, "empty")
    return value


def _day(attrs: dict, keys: tuple[str, ...], line: int, problems: Collector) -> date | None:
    for key in keys:
        text = attrs.get(key, "").strip()
        if text and text != "--":
            try:
                return parse_day(text)
            except ValueError as exc:
                problems.add(line, key, str(exc))
                return None
    problems.add(line, keys[0], "empty")
    return None


def parse_flex(text: str, name: str) -> ParseResult:
    elements = _elements(text, name)
    problems = Collector(name)
    records: list[Record] = []
    skipped: list[Skipped] = []
    accounts: dict[str, None] = {}
    notes: list[str] = []
    trades = [e for e in elements if e[0] in ("Trade", "Lot")]
    positions = [e for e in elements if e[0] == "OpenPosition"]
    levels = {a.get("levelOfDetail", "EXECUTION") for tag, a, _ in trades if tag == "Trade"}
    use_level = "EXECUTION" if "EXECUTION" in levels else ("ORDER" if "ORDER" in levels else None)
    as_of = None
    rows_read = 0
    for tag, a, line in elements:
        if tag in ("FxTransaction",):
            continue
        rows_read += 1
        account = a.get("accountId") or a.get("_statement_account", "")
        symbol = a.get("symbol", "").strip()
        what = f"{tag} {symbol}".strip()
        if tag == "CashTransaction":
            skipped.append(Skipped(line, CASH, f"{a.get('type', 'cash')} {symbol}".strip(), account))
            continue
        if tag == "CorporateAction":
            skipped.append(Skipped(line, CORPORATE_ACTION, f"{symbol} {a.get('description', '')[:60]}".strip(),
                                   account))
            continue
        if tag == "Transfer":
            skipped.append(Skipped(line, TRANSFER, what, account))
            continue
        category = a.get("assetCategory", "STK")
        if category in DERIVATIVES or a.get("putCall"):
            skipped.append(Skipped(line, OPTION, what, account))
            continue
        if category == "BOND":
            skipped.append(Skipped(line, BOND, what, account))
            continue
        if category == "CASH":
            skipped.append(Skipped(line, CASH, what, account))
            continue
        if category not in STOCK:
            skipped.append(Skipped(line, OPTION if category else CASH, what, account))
            continue
        if a.get("currency", "USD") != "USD":
            skipped.append(Skipped(line, CURRENCY, f"{symbol} in {a.get('currency')}", account))
            continue
        if tag == "Lot" or (tag == "Trade" and a.get("levelOfDetail", "EXECUTION") != use_level):
            skipped.append(Skipped(line, DETAIL, f"{a.get('levelOfDetail', tag)} {symbol}", account))
            continue
        if tag == "OpenPosition":
            if trades and any(e[1].get("assetCategory", "STK") in STOCK for e in trades):
                skipped.append(Skipped(line, DETAIL, f"open position {symbol} (the file's trades are imported)",
                                       account))
                continue
            level = a.get("levelOfDetail", "SUMMARY")
            has_lots = any(p[1].get("levelOfDetail") == "LOT" for p in positions)
            if has_lots and level != "LOT":
                skipped.append(Skipped(line, DETAIL, f"position summary {symbol} (its lots are imported)", account))
                continue
            before = len(problems.problems)
            quantity = _num(a, "position", line, problems, required=True)
            basis = _num(a, "costBasisMoney", line, problems, required=True)
            day = _day(a, ("reportDate", "_statement_to"), line, problems)
            opened = None
            if level == "LOT":
                opened = _day(a, ("openDateTime", "holdingPeriodDateTime"), line, problems)
            if len(problems.problems) != before:
                continue
            if quantity <= 0:
                skipped.append(Skipped(line, SHORT, what, account))
                continue
            if opened is not None and opened > day:
                problems.add(line, "openDateTime", f"opened {opened} after the report date {day}")
                continue
            as_of = max(as_of, day) if as_of else day
            accounts[account] = None
            records.append(Record(line, day, TRANSFER_IN, clean_ticker(symbol), quantity,
                                  (abs(basis) / quantity).quantize(Decimal("0.000001")), ZERO, "", opened,
                                  abs(basis), account, a.get("description", ""), opening=True))
            continue
        # a Trade
        before = len(problems.problems)
        day = _day(a, ("tradeDate", "dateTime"), line, problems)
        quantity = _num(a, "quantity", line, problems, required=True)
        price = _num(a, "tradePrice", line, problems, required=True)
        commission = _num(a, "ibCommission", line, problems) or ZERO
        if len(problems.problems) != before:
            continue
        side = a.get("buySell", "").upper() or (BUY if quantity > 0 else SELL)
        if side.startswith("BUY"):
            side = BUY
        elif side.startswith("SELL"):
            side = SELL
        else:
            problems.add(line, "buySell", f"unknown side {a.get('buySell')!r}")
            continue
        if (side == SELL and a.get("openCloseIndicator") == "O") or (side == BUY and a.get("openCloseIndicator") == "C"):
            skipped.append(Skipped(line, SHORT, what, account))
            continue
        if a.get("ibCommissionCurrency", "USD") not in ("USD", ""):
            commission = ZERO
            notes.append(f"line {line}: commission in {a.get('ibCommissionCurrency')} left out")
        accounts[account] = None
        time = (a.get("tradeTime") or a.get("dateTime", "").partition(";")[2]).replace(":", "")
        records.append(Record(line, day, side, clean_ticker(symbol), abs(quantity), abs(price), abs(commission),
                              a.get("tradeID") or a.get("transactionID", ""), account=account,
                              description=a.get("description", ""), time=time))
    problems.done()
    kind = OPENING if records and all(r.action == TRANSFER_IN for r in records) else TRANSACTIONS
    notes.insert(0, "IBKR Flex: quantity is negative on sells (buySell gives the side); ibCommission is negative "
                    "and imported as a positive fee; tradeID is the custodian id.")
    if kind == OPENING:
        notes.append("IBKR open positions: each position (or lot, when the query has lot detail) becomes an "
                     "opening lot at its costBasisMoney on the report date.")
    return ParseResult("ibkr_flex", "Interactive Brokers Flex Query (XML)", kind, tuple(records), tuple(skipped),
                       tuple(notes), tuple(a for a in accounts if a), as_of, rows_read)


# ---- CSV statements -------------------------------------------------------------------------------------
def detect_csv(rows: list[list[str]]) -> str | None:
    first = [c.strip() for c in rows[0]] if rows else []
    if first[:2] == ["Title", "Worksheet for Form 8949"]:
        return "ibkr_8949"
    if first[:2] == ["Statement", "Header"]:
        for cells in rows[:80]:
            if cells[:2] == ["Transaction History", "Header"]:
                return "ibkr_history"
        return "ibkr_activity"
    return None


def parse_activity(text: str, name: str) -> ParseResult:
    rows = csv_rows(text)
    problems = Collector(name)
    headers: dict[str, list[str]] = {}
    records: list[Record] = []
    skipped: list[Skipped] = []
    account = ""
    base = "USD"
    rows_read = 0
    for i, cells in enumerate(rows):
        if len(cells) < 2:
            continue
        section, kind = cells[0].strip(), cells[1].strip()
        if kind == "Header":
            headers[section] = [c.strip() for c in cells[2:]]
            continue
        if kind != "Data":
            continue
        cols = dict(zip(headers.get(section, []), [c.strip() for c in cells[2:]], strict=False))
        line = i + 1
        if section == "Account Information":
            if cols.get("Field Name") == "Account":
                account = cols.get("Field Value", "")
            elif cols.get("Field Name") == "Base Currency":
                base = cols.get("Field Value", "USD")
            continue
        if section in ("Statement",):
            continue
        rows_read += 1
        symbol = cols.get("Symbol", "")
        if section != "Trades":
            reason = CASH if section in ("Dividends", "Withholding Tax", "Deposits & Withdrawals", "Fees",
                                         "Interest") else DETAIL
            skipped.append(Skipped(line, reason, f"{section} {symbol}".strip(), account))
            continue
        what = f"Trades {cols.get('DataDiscriminator', '')} {symbol}".strip()
        if cols.get("DataDiscriminator") not in ("Order", "Trade"):
            skipped.append(Skipped(line, DETAIL, what, account))
            continue
        if cols.get("Asset Category") != "Stocks":
            skipped.append(Skipped(line, OPTION if "Option" in cols.get("Asset Category", "") else BOND if "Bond" in
                                   cols.get("Asset Category", "") else CASH, what, account))
            continue
        if cols.get("Currency", base) != "USD":
            skipped.append(Skipped(line, CURRENCY, what, account))
            continue
        before = len(problems.problems)
        try:
            day = parse_day(cols.get("Date/Time", ""))
        except ValueError as exc:
            problems.add(line, "Date/Time", str(exc))
            day = None
        try:
            quantity = money(cols.get("Quantity"))
            price = money(cols.get("T. Price"))
            fees = money(cols.get("Comm/Fee")) or ZERO
        except ValueError as exc:
            problems.add(line, None, str(exc))
            continue
        if quantity is None:
            problems.add(line, "Quantity", "empty")
        if price is None:
            problems.add(line, "T. Price", "empty")
        if len(problems.problems) != before:
            continue
        code = cols.get("Code", "")
        side = BUY if quantity > 0 else SELL
        if (side == SELL and "O" in code.split(";")) or (side == BUY and "C" in code.split(";")):
            skipped.append(Skipped(line, SHORT, what, account))
            continue
        time = cols.get("Date/Time", "").partition(",")[2].strip().replace(":", "")
        records.append(Record(line, day, side, clean_ticker(symbol), abs(quantity), abs(price), abs(fees),
                              account=account, time=time))
    problems.done()
    if base != "USD":
        raise UnsupportedFile(f"This IBKR statement's base currency is {base}: Harvester keeps US-dollar amounts "
                              "only.", name)
    notes = ("IBKR activity statement: Trades 'Order' rows are the trades (quantity negative on sells); ClosedLot, "
             "SubTotal and Total rows are detail; Open Positions are not imported from this file (use a Flex "
             "query with open positions at lot level).",)
    return ParseResult("ibkr_activity", "Interactive Brokers activity statement (CSV)", TRANSACTIONS,
                       tuple(records), tuple(skipped), notes, (account,) if account else (), None, rows_read)


def refuse_history(name: str) -> ParseResult:
    raise UnsupportedFile(
        "This is an IBKR 'Transaction History' CSV: its amounts are in the account's base currency and it has "
        "no trade ids. Export a Flex Query (XML) with Trades instead.", name)


def refuse_8949(name: str) -> ParseResult:
    raise UnsupportedFile(
        "This is an IBKR 'Worksheet for Form 8949': it holds tax-form totals, not trades or lots (dates can be "
        "VARIOUS). Import a Flex Query (XML) with Trades, or use the worksheet on the Reconcile page.", name)

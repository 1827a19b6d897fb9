"""Vanguard's OfxDownload.csv (BROKER_FORMATS.md section 7): a holdings table, blank lines, then a
transactions table; and the 2011 layout with only the transactions columns.

Buy, Sell and Reinvestment rows are trades (Shares is negative on sells: its absolute value is used).
Sweeps, dividends, capital-gain distributions and money movements are cash. The holdings table has no
cost basis and is not imported.
"""

from decimal import Decimal

from .base import (
    BUY,
    CASH,
    CORPORATE_ACTION,
    MONEY_MARKET,
    REINVEST,
    SELL,
    TRANSACTIONS,
    TRANSFER,
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
    is_money_market,
    is_option_symbol,
    read_day,
    read_number,
    trim,
)

OPTION = "option"
CASH_TYPES = ("dividend", "capital gain", "sweep", "funds received", "withdrawal", "fee", "interest",
              "contribution", "distribution", "deposit", "transfer (cash", "check")
TRANSFER_TYPES = ("conversion", "transfer", "exchange")


def detect(rows: list[list[str]]) -> bool:
    for cells in rows[:60]:
        names = {c.strip().lower() for c in cells}
        if {"trade date", "transaction type", "symbol", "shares"} <= names:
            return True
    return False


def _side(kind: str) -> str | None:
    k = kind.strip().lower()
    if k == "buy":
        return BUY
    if k == "sell":
        return SELL
    if k.startswith("reinvestment"):
        return REINVEST
    return None


def parse(text: str, name: str) -> ParseResult:
    rows = csv_rows(text)
    problems = Collector(name)
    start = None
    for i, cells in enumerate(rows):
        if {"trade date", "transaction type", "symbol", "shares"} <= {c.strip().lower() for c in cells}:
            start = i
            break
    if start is None:
        raise ImportFileError([Problem(None, None, "no Vanguard transactions header (Trade Date, Transaction Type, "
                                                   "Symbol, Shares)")], name)
    index = header_index(rows[start])
    legacy = "share price" not in index
    records: list[Record] = []
    skipped: list[Skipped] = []
    accounts: dict[str, None] = {}
    rows_read = 0
    for i in range(start + 1, len(rows)):
        cells = trim(rows[i])
        if not cells:
            continue
        row = Row(i + 1, rows[i], index)
        rows_read += 1
        account = row.get("account number")
        accounts[account] = None
        kind = row.get("transaction type")
        symbol = row.get("symbol")
        what = f"{kind} {symbol}".strip()
        side = _side(kind)
        lower = kind.lower()
        if is_option_symbol(symbol):
            skipped.append(Skipped(row.number, OPTION, what, account))
            continue
        if side is None:
            if "corp action" in lower or "split" in lower or "merger" in lower:
                reason = CORPORATE_ACTION
            elif any(w in lower for w in CASH_TYPES):
                reason = CASH
            elif any(w in lower for w in TRANSFER_TYPES):
                reason = TRANSFER
            else:
                reason = UNKNOWN_ACTION
            skipped.append(Skipped(row.number, reason, what, account))
            continue
        if is_money_market(symbol) or not symbol:
            skipped.append(Skipped(row.number, MONEY_MARKET if symbol else CASH, what, account))
            continue
        before = len(problems.problems)
        day = read_day(row, problems, "trade date", label="Trade Date")
        shares = read_number(row, problems, "shares", required=True, label="Shares")
        principal = read_number(row, problems, "principal amount", label="Principal Amount")
        if legacy:
            net = read_number(row, problems, "net amount", label="Net Amount")
            price = None
            fees = abs(principal - net) if principal is not None and net is not None else ZERO
        else:
            price = read_number(row, problems, "share price", label="Share Price")
            fees = read_number(row, problems, "commission fees", "commissions and fees",
                               label="Commission Fees") or ZERO
        if len(problems.problems) != before:
            continue
        quantity = abs(shares)
        if not quantity:
            problems.add(row.number, "Shares", "zero on a trade")
            continue
        if not price:
            if principal is None:
                problems.add(row.number, "Share Price", "empty, and no Principal Amount to compute it from")
                continue
            price = (abs(principal) / quantity).quantize(Decimal("0.000001"))
        records.append(Record(row.number, day, side, clean_ticker(symbol), quantity, abs(price), abs(fees),
                              account=account, description=row.get("investment name")))
    problems.done()
    notes = ["Vanguard: Shares is negative on sells and read as its absolute value; sweeps into and out of the "
             "money-market settlement fund are cash.",
             "Vanguard: the holdings table at the top of the file has no cost basis and is not imported."]
    if legacy:
        notes.append("Vanguard (2011 layout): the price is Principal Amount / Shares and the fees are the "
                     "difference between Principal Amount and Net Amount.")
    return ParseResult("vanguard", "Vanguard transactions (OfxDownload.csv)", TRANSACTIONS, tuple(records),
                       tuple(skipped), tuple(notes), tuple(a for a in accounts if a), None, rows_read)

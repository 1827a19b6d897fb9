"""OFX / QFX investment statements (BROKER_FORMATS.md section 9), read with the maintained `ofxtools`.

Trades: BUYSTOCK/BUYMF/BUYOTHER (BUYTYPE BUY), SELLSTOCK/SELLMF/SELLOTHER (SELLTYPE SELL) and REINVEST;
a TRANSFER IN with AVGCOSTBASIS is a lot moved in with its basis. FITID is the custodian id. Transactions
name securities by CUSIP: the ticker comes from the statement's SECLIST (the CUSIP itself when the list
gives none). Options, bonds, short sales, splits, transfers without basis and cash are skipped with the
reason. Positions (INVPOSLIST) carry no cost basis and are not imported. A record's "row" is its position
in the statement's transaction list. Trade dates are the DTTRADE date as the institution wrote it (its
own time zone), read from the parsed element tree before ofxtools converts times to UTC.
"""

import io
import warnings
from datetime import date
from decimal import Decimal

from .base import (
    BOND,
    BUY,
    CASH,
    CORPORATE_ACTION,
    CURRENCY,
    MONEY_MARKET,
    OPTION,
    REINVEST,
    SELL,
    SHORT,
    TRANSACTIONS,
    TRANSFER,
    TRANSFER_IN,
    ZERO,
    ImportFileError,
    ParseResult,
    Problem,
    Record,
    Skipped,
    clean_ticker,
    is_money_market,
)

BUYS = {"BUYSTOCK", "BUYMF", "BUYOTHER"}
SELLS = {"SELLSTOCK", "SELLMF", "SELLOTHER"}
OPTIONS = {"BUYOPT", "SELLOPT", "CLOSUREOPT"}
BONDS = {"BUYDEBT", "SELLDEBT"}
CASHES = {"INCOME", "INVEXPENSE", "INVBANKTRAN", "MARGININTEREST", "RETOFCAP", "JRNLFUND"}


def detect(text: str) -> bool:
    head = text[:2048].lstrip("\ufeff \r\n\t")
    return head.startswith("OFXHEADER") or "<OFX>" in head.upper() or head.startswith("<?OFX") or (
        head.startswith("<?xml") and "OFX" in head[:400])


def _raw_dates(root) -> dict[str, str]:
    """FITID -> the DTTRADE text of its INVTRAN, as written in the file."""
    out = {}
    for invtran in root.iter("INVTRAN"):
        fitid = invtran.findtext("FITID")
        dttrade = invtran.findtext("DTTRADE")
        if fitid and dttrade:
            out[fitid.strip()] = dttrade.strip()
    return out


def _day(raw: str | None, converted) -> date:
    if raw and len(raw) >= 8 and raw[:8].isdigit():
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:8]))
    return converted.date()


def _encode(text: str) -> bytes:
    head = text[:600].upper()
    if "ENCODING:UTF-8" in head or 'ENCODING="UTF-8"' in head:
        return text.encode("utf-8")
    return text.encode("cp1252", errors="replace")


def parse(text: str, name: str) -> ParseResult:
    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # private tags such as <INTU.BID> are skipped, as they should be
            tree.parse(io.BytesIO(_encode(text.lstrip("\ufeff"))))
            raw_dates = _raw_dates(tree.getroot())
            ofx = tree.convert()
    except Exception as exc:  # ofxtools raises many types (header, syntax, spec validation)
        raise ImportFileError([Problem(None, None, f"not a readable OFX file: {exc}")], name) from None
    statements = [s for s in (getattr(ofx, "statements", None) or []) if type(s).__name__ == "INVSTMTRS"]
    if not statements:
        raise ImportFileError([Problem(None, None, "the OFX file has no investment statement (INVSTMTRS): bank "
                                                   "and credit-card statements hold no trades")], name)
    securities = {}
    kinds = {}
    for sec in getattr(ofx, "securities", None) or []:
        info = sec.secinfo
        key = (info.secid.uniqueidtype, info.secid.uniqueid)
        securities[key] = ((info.ticker or "").strip(), (info.secname or "").strip())
        kinds[key] = type(sec).__name__
    records: list[Record] = []
    skipped: list[Skipped] = []
    notes: list[str] = ["OFX: UNITS is negative on sells (read as its absolute value); commission, fees, taxes and "
                        "load are the fees; FITID is the custodian id."]
    accounts: dict[str, None] = {}
    missing_tickers: set[str] = set()
    rows_read = 0
    for stmt in statements:
        account = stmt.invacctfrom.acctid if stmt.invacctfrom is not None else ""
        accounts[account] = None
        curdef = stmt.curdef or "USD"
        transfers = []
        for tx in stmt.transactions or []:
            rows_read += 1
            number = rows_read
            kind = type(tx).__name__
            invtran = getattr(tx, "invtran", None)
            fitid = (invtran.fitid if invtran is not None else "") or ""
            if kind in CASHES or invtran is None:
                skipped.append(Skipped(number, CASH, kind, account))
                continue
            if kind in OPTIONS:
                skipped.append(Skipped(number, OPTION, kind, account))
                continue
            if kind in BONDS:
                skipped.append(Skipped(number, BOND, kind, account))
                continue
            if kind == "SPLIT":
                skipped.append(Skipped(number, CORPORATE_ACTION, kind, account))
                continue
            if kind == "JRNLSEC":
                skipped.append(Skipped(number, TRANSFER, kind, account))
                continue
            secid = tx.secid
            key = (secid.uniqueidtype, secid.uniqueid)
            ticker, secname = securities.get(key, ("", ""))
            if kinds.get(key) == "OPTINFO":
                skipped.append(Skipped(number, OPTION, f"{kind} {ticker or secid.uniqueid}", account))
                continue
            if kinds.get(key) == "DEBTINFO":
                skipped.append(Skipped(number, BOND, f"{kind} {ticker or secid.uniqueid}", account))
                continue
            if not ticker:
                ticker = secid.uniqueid
                missing_tickers.add(f"{secid.uniqueid} ({secname})" if secname else secid.uniqueid)
            what = f"{kind} {ticker}"
            if is_money_market(ticker):
                skipped.append(Skipped(number, MONEY_MARKET, what, account))
                continue
            day = _day(raw_dates.get(fitid), invtran.dttrade)
            detail = getattr(tx, "invbuy", None) or getattr(tx, "invsell", None) or tx
            currency = getattr(detail, "currency", None) or getattr(detail, "origcurrency", None)
            cursym = currency.cursym if currency is not None else curdef
            if cursym != "USD":
                skipped.append(Skipped(number, CURRENCY, f"{what} in {cursym}", account))
                continue
            fees = sum((getattr(detail, f, None) or ZERO for f in ("commission", "fees", "taxes", "load")), ZERO)
            if kind == "TRANSFER":
                transfers.append((number, tx, ticker, day, fitid, secname))
                continue
            if kind in BUYS:
                if (getattr(tx, "buytype", "BUY") or "BUY").strip() != "BUY":
                    skipped.append(Skipped(number, SHORT, what, account))
                    continue
                side = BUY
            elif kind in SELLS:
                if (getattr(tx, "selltype", "SELL") or "SELL").strip() != "SELL":
                    skipped.append(Skipped(number, SHORT, what, account))
                    continue
                side = SELL
            elif kind == "REINVEST":
                side = REINVEST
            else:
                skipped.append(Skipped(number, CASH, kind, account))
                continue
            units = abs(detail.units)
            if not units:
                skipped.append(Skipped(number, CASH, f"{what} with no units", account))
                continue
            records.append(Record(number, day, side, clean_ticker(ticker), units, abs(detail.unitprice), abs(fees),
                                  fitid, account=account, description=secname or (invtran.memo or "")))
        # Transfers: an IN with its average cost is a lot moved in; IN/OUT pairs of the same units on the same
        # day (moves between a plan's sources) cancel; anything else has no basis to make a lot from.
        pending = list(transfers)
        for number, tx, ticker, day, fitid, secname in transfers:
            units = tx.units
            if tx.tferaction == "IN" and tx.avgcostbasis is not None:
                basis = (abs(units) * tx.avgcostbasis).quantize(Decimal("0.01"))
                acquired = tx.dtpurchase.date() if tx.dtpurchase is not None else None
                records.append(Record(number, day, TRANSFER_IN, clean_ticker(ticker), abs(units), tx.avgcostbasis,
                                      ZERO, fitid, acquired if acquired and acquired <= day else None, basis, account,
                                      secname))
                pending.remove((number, tx, ticker, day, fitid, secname))
        paired = set()
        for a in pending:
            for b in pending:
                if a[0] < b[0] and a[0] not in paired and b[0] not in paired and a[2] == b[2] and a[3] == b[3] and (
                        a[1].units == -b[1].units):
                    paired.update((a[0], b[0]))
        for number, tx, ticker, *_rest in pending:
            reason = "internal transfer in and out (nets to zero)" if number in paired else (
                f"TRANSFER {tx.tferaction} {ticker}")
            skipped.append(Skipped(number, TRANSFER, reason, account))
    if missing_tickers:
        notes.append("OFX: no ticker in the security list for " + ", ".join(sorted(missing_tickers)) +
                     ": its CUSIP is used as the ticker.")
    if any(getattr(s, "invposlist", None) for s in statements):
        notes.append("OFX: positions (INVPOSLIST) carry no cost basis and are not imported.")
    records.sort(key=lambda r: r.row)
    return ParseResult("ofx", "OFX / QFX investment statement", TRANSACTIONS, tuple(records), tuple(skipped),
                       tuple(notes), tuple(a for a in accounts if a), None, rows_read)

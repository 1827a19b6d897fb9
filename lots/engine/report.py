"""Views of a Result for people and programs: JSON-ready dicts, Form 8949 rows, totals."""

from collections.abc import Collection
from datetime import date
from decimal import Decimal

from .types import LONG, MONEY_ZERO, PERMANENT, Result, Sale


def plain(value):
    """A JSON-safe form of an engine value: Decimal -> string without exponent, date -> ISO string."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _record(row) -> dict:
    return {name: plain(value) for name, value in zip(row._fields, row, strict=True)}


def to_jsonable(result: Result) -> dict:
    """The result as plain dicts and lists; money and quantities as decimal strings, dates as ISO strings."""
    return {
        "sales": [_record(s) for s in result.sales],
        "adjustments": [_record(a) for a in result.adjustments],
        "open_lots": [_record(o) for o in result.open_lots],
        "totals": {str(year): {k: plain(v) for k, v in t.items()} for year, t in totals(result).items()},
    }


def totals(result: Result) -> dict[int, dict[str, Decimal]]:
    """Per tax year: reportable proceeds, basis, disallowed and gain/loss by term, and the disallowed
    amount split into deferred (carried in a lot's basis) and permanently lost (IRA replacement)."""
    out: dict[int, dict[str, Decimal]] = {}
    keys = ("proceeds", "cost_basis", "wash_sale_disallowed", "short_term_gain_loss", "long_term_gain_loss",
            "deferred", "permanent")
    for sale in result.sales:
        if not sale.reportable:
            continue
        t = out.setdefault(sale.tax_year, dict.fromkeys(keys, MONEY_ZERO))
        t["proceeds"] += sale.proceeds
        t["cost_basis"] += sale.cost_basis
        t["wash_sale_disallowed"] += sale.wash_sale_disallowed
        t["long_term_gain_loss" if sale.term == LONG else "short_term_gain_loss"] += sale.gain_loss
    for adj in result.adjustments:
        t = out.setdefault(adj.date_sold.year, dict.fromkeys(keys, MONEY_ZERO))
        t["permanent" if adj.kind == PERMANENT else "deferred"] += adj.disallowed
    return dict(sorted(out.items()))


FORM8949_COLUMNS = (
    "part", "box", "description", "date_acquired", "date_sold", "proceeds", "cost_basis", "code",
    "adjustment", "gain_loss", "tax_year", "account", "ticker", "sell_trade", "buy_trade",
)


def describe(qty: Decimal, ticker: str) -> str:
    """Form 8949 column (a), e.g. "10.5 sh VTI"."""
    text = format(qty.normalize(), "f") if qty == qty.to_integral_value() else format(qty, "f").rstrip("0")
    return f"{text} sh {ticker}"


def form8949_rows(result: Result, reported: Collection[tuple[str, str]] = ()) -> list[dict[str, str]]:
    """Form 8949 rows for the reportable sales, part I (short-term) before part II (long-term).

    Columns follow the form: (a) description, (b) date acquired, (c) date sold, (d) proceeds, (e) cost
    basis, (f) code "W" for a wash sale, (g) the disallowed loss as a positive number, (h) = d - e + g.
    (b) is the holding-period start, i.e. the date acquired adjusted for a wash sale's tacked holding
    period, so that (b) to (c) agrees with the part. Box: A/D for sales listed in `reported` (keys
    (sell_trade, buy_trade) found on the broker's 1099-B report), otherwise C/F, "not reported on a
    1099-B", because without the broker's form the engine cannot tell; the column lets a reviewer
    change it. Sales inside IRAs, Roth IRAs, 401(k)s and HSAs are not reportable and are left out."""
    reported = set(reported)
    rows = []
    for index, sale in enumerate(result.sales):
        if not sale.reportable:
            continue
        long_term = sale.term == LONG
        on_1099 = (sale.sell_trade, sale.buy_trade) in reported
        box = ("D" if on_1099 else "F") if long_term else ("A" if on_1099 else "C")
        rows.append(((long_term, box, sale.date_sold, index), _row(sale, "II" if long_term else "I", box)))
    rows.sort(key=lambda r: r[0])
    return [row for _, row in rows]


def _row(sale: Sale, part: str, box: str) -> dict[str, str]:
    return {
        "part": part,
        "box": box,
        "description": describe(sale.qty, sale.ticker),
        "date_acquired": sale.holding_period_start.isoformat(),
        "date_sold": sale.date_sold.isoformat(),
        "proceeds": plain(sale.proceeds),
        "cost_basis": plain(sale.cost_basis),
        "code": sale.code,
        "adjustment": plain(sale.wash_sale_disallowed) if sale.wash_sale_disallowed else "",
        "gain_loss": plain(sale.gain_loss),
        "tax_year": str(sale.tax_year),
        "account": sale.account,
        "ticker": sale.ticker,
        "sell_trade": sale.sell_trade,
        "buy_trade": sale.buy_trade,
    }

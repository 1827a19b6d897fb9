"""Reads of the API's hot path, the open-lots page, in plain SQL (docs/reporting.md "Speed").

A page of open lots is the API's most frequent call. Built with the ORM, its three queries (count, page,
latest closes) cost more Python time to compile than the database needs to answer them, so here they are
one statement written once: the page, the count of all matching lots and the latest close of the page's
securities. It runs on PostgreSQL and SQLite. The rules are the ones of lots.selectors (`household_lots`,
`lots_valued`, `latest_quotes`): tests/reporting/test_api.py checks that the API's pages equal those
selectors' results.
"""

from datetime import date, timedelta
from decimal import Context, Decimal
from typing import NamedTuple

from django.db import connection

from accounts.models import Account
from harvester.money import MONEY, PRICE, QUANTITY
from harvester.rawsql import prepared
from lots.engine import holding_term
from lots.models import Lot, Price, Security
from lots.selectors import lot_value_sql

# No household has this many lots; a larger ?offset= would overflow the database's integer.
MAX_OFFSET = 2**31


class OpenLotRow(NamedTuple):
    """The columns of one open lot that the API shows, with its security's ticker and latest close (None
    when the security has no price yet). A NamedTuple: made from its row in one call. Each decimal has
    exactly its column's places (PostgreSQL's numeric(p, s) answers them so; SQLite's are quantized)."""

    id: int
    account_id: int
    security_id: int
    quantity: Decimal
    cost_basis: Decimal
    wash_sale_adjustment: Decimal
    acquired_date: date
    holding_period_start: date
    origin_id: int
    ticker: str
    close: Decimal | None
    price_date: date | None


_COLUMNS = ("id", "account_id", "security_id", "quantity", "cost_basis", "wash_sale_adjustment", "acquired_date",
            "holding_period_start", "origin_id")


def open_lots_page(household_id: int, *, account_id: int | None = None, owner_id: int | None = None,
                   ticker: str | None = None, limit: int, offset: int) -> tuple[int, list[OpenLotRow]]:
    """How many open lots of the household match, and `limit` of them from `offset`, in ledger order (id),
    each with its security's latest close (as lots.selectors.latest_quotes).

    The filters are those of the open-lots API: one account, the accounts one owner owns, one ticker
    (exact, as stored: upper case). The caller has checked that the household is the caller's and that the
    account and owner belong to it. One query: the count is a one-row derived table that the page is
    joined to, so an empty page still brings the count; the closes are looked up once per security of the
    page."""
    page, params = _page(household_id, account_id, owner_id, ticker, limit, offset)
    sql = (f"{page} SELECT total.n, {', '.join(f'page.{c}' for c in _COLUMNS)}, s.ticker, q.close, q.date "
           f"{_joins()} ORDER BY page.id")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    count = rows[0][0]
    if connection.vendor == "postgresql":  # decimals and dates come back as such
        return count, [OpenLotRow._make(row[1:]) for row in rows if row[1] is not None]
    return count, [_sqlite_row(row[1:]) for row in rows if row[1] is not None]


def open_lots_page_json(household_id: int, *, account_id: int | None = None, owner_id: int | None = None,
                        ticker: str | None = None, limit: int, offset: int, as_of: date) -> tuple[int, str]:
    """open_lots_page's count and page, the page already written as the API's JSON array of lots by
    PostgreSQL (LotOut's fields in its order, decimals as strings with their places), for the JSON answer
    of the API's hottest call: Python then neither converts nor formats a value (docs/reporting.md "Speed").

    The rules stay in Python: the term comes from the last holding-period start that is long-term on
    `as_of` (long_term_until, from lots.engine.holding_term), and the market value is
    lots.selectors.lot_value, in its SQL form. tests/reporting/test_open_lots_json.py checks the JSON against
    open_lots_out. The statement is prepared on the connection (planned once, not on every page).
    PostgreSQL only."""
    page, params = _page(household_id, account_id, owner_id, ticker, limit, offset)
    sql = (f"{page} SELECT MIN(total.n), '[' || COALESCE(string_agg({_LOT_JSON}, ',' ORDER BY page.id), '') || ']' "
           f"{_joins()}")
    count, lots = prepared(sql, [*params, long_term_until(as_of)])[0]  # the term's parameter comes last
    return count, lots


def _lot_json() -> str:
    """One lot as a JSON object, in SQL: concatenated text, which costs PostgreSQL about half of what
    json_build_object does. Only the ticker can hold a character JSON must escape (to_json escapes it);
    the others are numbers, dates and fixed words."""
    value = lot_value_sql("page.quantity", "q.close")

    def text(sql, nullable=False):  # a JSON string; a NULL (no close yet) is JSON null
        quoted = f"""'"' || {sql} || '"'"""
        return f"COALESCE({quoted}, 'null')" if nullable else quoted

    def day(sql):
        return f"to_char({sql}, 'YYYY-MM-DD')"

    fields = [
        ("id", "page.id"), ("account", "page.account_id"), ("ticker", "to_json(s.ticker)::text"),
        ("quantity", text("page.quantity")), ("cost_basis", text("page.cost_basis")),
        ("wash_sale_adjustment", text("page.wash_sale_adjustment")), ("acquired_date", text(day("page.acquired_date"))),
        ("holding_period_start", text(day("page.holding_period_start"))), ("origin_transaction", "page.origin_id"),
        ("price", text("q.close", True)), ("price_date", text(day("q.date"), True)),
        ("market_value", text(value, True)), ("unrealized", text(f"({value} - page.cost_basis)", True)),
        ("term", """CASE WHEN page.holding_period_start <= %s THEN '"long"' ELSE '"short"' END"""),
    ]
    parts = [f"""'{"{" if i == 0 else ","}"{key}":' || {sql}""" for i, (key, sql) in enumerate(fields)]
    return " || ".join(parts) + " || '}'"


_LOT_JSON = _lot_json()


def long_term_until(as_of: date) -> date:
    """The last holding-period start whose shares are long-term if sold on `as_of`: by
    lots.engine.holding_term (the rule), a start is long-term exactly when it is on or before this date
    (the anniversary grows with the start)."""
    day = as_of - timedelta(days=366)
    while holding_term(day + timedelta(days=1), as_of) == "long":
        day += timedelta(days=1)
    while holding_term(day, as_of) != "long":
        day -= timedelta(days=1)
    return day


def _page(household_id, account_id, owner_id, ticker, limit, offset) -> tuple[str, list]:
    """The page's WITH clause and the count's derived table's condition, with their parameters."""
    lots, securities = Lot._meta.db_table, Security._meta.db_table
    accounts, owners = Account._meta.db_table, Account.owners.through._meta.db_table
    where = [f"l.account_id {_in_subquery(f'SELECT a.id FROM {accounts} a WHERE a.household_id = %s')}"]
    params = [household_id]
    if account_id is not None:
        where.append("l.account_id = %s")
        params.append(account_id)
    if owner_id is not None:
        where.append(f"l.account_id {_in_subquery(f'SELECT o.account_id FROM {owners} o WHERE o.owner_id = %s')}")
        params.append(owner_id)
    if ticker is not None:
        where.append(f"l.security_id {_in_subquery(f'SELECT s.id FROM {securities} s WHERE s.ticker = %s')}")
        params.append(ticker)
    condition = " AND ".join(where)
    sql = (
        f"WITH page AS (SELECT {', '.join(f'l.{c}' for c in _COLUMNS)} FROM {lots} l WHERE {condition} "
        "ORDER BY l.id LIMIT %s OFFSET %s), "
        f"total AS (SELECT COUNT(*) AS n FROM {lots} l WHERE {condition})"
    )
    return sql, [*params, limit, min(offset, MAX_OFFSET), *params]


def _joins() -> str:
    """The count, then the page's lots (none on a page past the end) with their ticker and latest close."""
    securities, prices = Security._meta.db_table, Price._meta.db_table
    newest = f"FROM {prices} p WHERE p.security_id = d.security_id ORDER BY p.date DESC LIMIT 1"
    return (
        f"FROM total LEFT JOIN page ON 1 = 1 LEFT JOIN {securities} s ON s.id = page.security_id "
        f"LEFT JOIN (SELECT d.security_id, (SELECT p.close {newest}) AS close, (SELECT p.date {newest}) AS date "
        "FROM (SELECT DISTINCT security_id FROM page) d) q ON q.security_id = page.security_id"
    )


_PLACES = {"quantity": QUANTITY["decimal_places"], "cost_basis": MONEY["decimal_places"],
           "wash_sale_adjustment": MONEY["decimal_places"], "close": PRICE["decimal_places"]}
_SQLITE = Context(prec=15)


def _sqlite_row(values) -> OpenLotRow:
    """SQLite stores decimals as floats or integers and answers those (converted here as Django's SQLite
    backend converts them: 15 significant digits, then the column's places), and a subquery's date as text."""
    row = OpenLotRow._make(values)
    changes = {c: _sqlite_decimal(getattr(row, c), c) for c in _PLACES if getattr(row, c) is not None}
    if isinstance(row.price_date, str):
        changes["price_date"] = date.fromisoformat(row.price_date)
    return row._replace(**changes)


def _sqlite_decimal(value, column: str) -> Decimal:
    number = Decimal(value) if isinstance(value, int) else _SQLITE.create_decimal_from_float(value)
    return number.quantize(Decimal(1).scaleb(-_PLACES[column]))


def _in_subquery(subquery: str) -> str:
    """`IN (subquery)`, written for PostgreSQL as `= ANY(ARRAY(subquery))`: the subquery then runs once and
    each lot is checked against its few ids (the count becomes an index-only scan), where IN joins every
    lot to the subquery's rows, twice as slow for 3,000 lots. SQLite has no ARRAY."""
    return f"= ANY(ARRAY({subquery}))" if connection.vendor == "postgresql" else f"IN ({subquery})"

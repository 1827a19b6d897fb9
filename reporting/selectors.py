"""Reads of the API's hot path, the open-lots page, in plain SQL (docs/reporting.md "Speed").

A page of open lots is the API's most frequent call. Built with the ORM, its three queries (count, page,
latest closes) cost more Python time to compile than the database needs to answer them, so here they are
two statements written once: the page with the count of all matching lots, then the latest close of the
page's securities. Both run on PostgreSQL and SQLite. The rules are the ones of lots.selectors
(`household_lots`, `lots_valued`, `latest_quotes`): tests/reporting/test_api.py checks that the API's
pages equal those selectors' results.
"""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Context, Decimal

from django.db import connection

from accounts.models import Account
from harvester.money import MONEY, PRICE, QUANTITY
from lots.models import Lot, Price, Security
from lots.selectors import Quote

# No household has this many lots; a larger ?offset= would overflow the database's integer.
MAX_OFFSET = 2**31


@dataclass(frozen=True, slots=True)
class OpenLotRow:
    """The columns of one open lot that the API shows, with its security's ticker."""

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


_COLUMNS = ("id", "account_id", "security_id", "quantity", "cost_basis", "wash_sale_adjustment", "acquired_date",
            "holding_period_start", "origin_id")


def open_lots_page(household_id: int, *, account_id: int | None = None, owner_id: int | None = None,
                   ticker: str | None = None, limit: int, offset: int) -> tuple[int, list[OpenLotRow]]:
    """How many open lots of the household match, and `limit` of them from `offset`, in ledger order (id).

    The filters are those of the open-lots API: one account, the accounts one owner owns, one ticker
    (exact, as stored: upper case). The caller has checked that the household is the caller's and that the
    account and owner belong to it. One query: the count is a one-row derived table that the page is
    joined to, so an empty page still brings the count."""
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
    columns = ", ".join(f"l.{c}" for c in _COLUMNS)
    sql = (
        f"SELECT total.n, {', '.join(f'page.{c}' for c in _COLUMNS)}, s.ticker "
        f"FROM (SELECT COUNT(*) AS n FROM {lots} l WHERE {condition}) total "
        f"LEFT JOIN (SELECT {columns} FROM {lots} l WHERE {condition} ORDER BY l.id LIMIT %s OFFSET %s) page ON 1 = 1 "
        f"LEFT JOIN {securities} s ON s.id = page.security_id "
        "ORDER BY page.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *params, limit, min(offset, MAX_OFFSET)])
        rows = cursor.fetchall()
    count = rows[0][0]
    return count, [_lot_row(row[1:]) for row in rows if row[1] is not None]


_PLACES = {"quantity": QUANTITY["decimal_places"], "cost_basis": MONEY["decimal_places"],
           "wash_sale_adjustment": MONEY["decimal_places"], "close": PRICE["decimal_places"]}
_SQLITE = Context(prec=15)


def _decimal(value, column: str) -> Decimal:
    """PostgreSQL answers Decimal; SQLite stores decimals as floats or integers and answers those (converted
    as Django's SQLite backend converts them: 15 significant digits, then the column's places)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return _SQLITE.create_decimal_from_float(value).quantize(Decimal(1).scaleb(-_PLACES[column]))


def _lot_row(values) -> OpenLotRow:
    row = OpenLotRow(*values)
    if isinstance(row.quantity, Decimal) and isinstance(row.cost_basis, Decimal):
        return row  # PostgreSQL
    return replace(row, **{c: _decimal(getattr(row, c), c) for c in ("quantity", "cost_basis", "wash_sale_adjustment")})


def _in_subquery(subquery: str) -> str:
    """`IN (subquery)`, written for PostgreSQL as `= ANY(ARRAY(subquery))`: the subquery then runs once and
    each lot is checked against its few ids (the count becomes an index-only scan), where IN joins every
    lot to the subquery's rows, twice as slow for 3,000 lots. SQLite has no ARRAY."""
    return f"= ANY(ARRAY({subquery}))" if connection.vendor == "postgresql" else f"IN ({subquery})"


def latest_closes(security_ids) -> dict[int, Quote]:
    """The most recent close of each security (as lots.selectors.latest_quotes: one query)."""
    ids = sorted(set(security_ids))
    if not ids:
        return {}
    prices = Price._meta.db_table
    newest = f"FROM {prices} p WHERE p.security_id = s.id ORDER BY p.date DESC LIMIT 1"
    sql = (
        f"SELECT s.id, (SELECT p.close {newest}), (SELECT p.date {newest}) FROM {Security._meta.db_table} s "
        f"WHERE s.id IN ({', '.join(['%s'] * len(ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        return {pk: Quote(_decimal(close, "close"), day) for pk, close, day in cursor.fetchall() if close is not None}

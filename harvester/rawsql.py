"""Raw SQL reads that give what the ORM would: on PostgreSQL psycopg already answers Decimal, date and bool;
on SQLite (the embedded default) decimals come back as floats and expressions' dates as text, converted
here as Django's SQLite backend converts them. Used where building the ORM's query cost more Python time
than the database took to answer it (harvest scans, dashboard partials)."""

import decimal
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import psycopg
from django.db import connection


def columns(model, alias: str, names: tuple[str, ...] | None = None) -> tuple[list[str], str]:
    """A model's concrete fields (or those of `names`) in field order, as Model.from_db takes them, and the
    SELECT list that reads them from the table aliased `alias`. Fields left out are deferred on the
    instances made: reading one loads it."""
    fields = [f for f in model._meta.concrete_fields if names is None or f.attname in names]
    return [f.attname for f in fields], ", ".join(f"{alias}.{f.column}" for f in fields)


def sqlite_decimal(model, name: str):
    """The ORM's reading of a decimal column on SQLite (a float there): 15 digits, the field's places."""
    field = model._meta.get_field(name)
    create = decimal.Context(prec=15).create_decimal_from_float
    quantum = Decimal(1).scaleb(-field.decimal_places)
    return lambda value: create(value).quantize(quantum, context=field.context)


# The ORM's reading on SQLite of a decimal expression (a SUM, a subquery): 15 digits, no fixed places.
sqlite_number = decimal.Context(prec=15).create_decimal_from_float


def sqlite_date(value) -> date:
    """Django's sqlite3 converter already gives a date column as a date; an expression comes as ISO text."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def fetch(sql: str, params, convert: tuple | None = None, *, prepare: bool = False) -> list[tuple]:
    """The rows of a raw query. PostgreSQL (psycopg) already gives Decimal, date and bool; on SQLite, the
    embedded default, `convert` (one function or None per column) does what the ORM's converters do.
    `prepare`: on PostgreSQL, keep the statement prepared on the connection (see prepared)."""
    if prepare and connection.vendor == "postgresql":
        return prepared(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if convert is None or connection.vendor == "postgresql":
        return rows
    return [tuple(value if f is None or value is None else f(value) for f, value in zip(convert, row, strict=True))
            for row in rows]


_PREPARE_WHEN_ASKED = 2**31  # a threshold never reached: only statements executed with prepare=True are prepared


def prepared(sql: str, params: list) -> list[tuple]:
    """The rows of a statement that PostgreSQL keeps prepared on this connection (parsed and planned once:
    for the open-lots page, a sixth of its database time; for the dashboard's page of sales, planning
    took as long as running). Django's cursors bind parameters client-side and never prepare, so this
    takes psycopg's own cursor on Django's connection, with Django's error translation, and logs the query
    where Django logs its own (DEBUG, CaptureQueriesContext). PostgreSQL only."""
    with _psycopg_cursor(lambda: f"{sql} -- {params!r}") as cursor:
        raw = cursor.connection
        if raw.prepare_threshold is None:  # Django's setting: psycopg then prepares nothing, even when asked.
            raw.prepare_threshold = _PREPARE_WHEN_ASKED  # Django's own cursors still never prepare (client-side).
            # Plan it once for any parameters: PostgreSQL would otherwise plan each execution anew (its
            # estimate of the generic plan is worse), which is what preparing should save. Only prepared
            # statements follow this setting, and only these are prepared.
            cursor.execute("SET plan_cache_mode = force_generic_plan", prepare=False)
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall()


# ---- writes: many rows in one statement (PostgreSQL)
# INSERT ... SELECT FROM unnest(%b::type[], ...): every column one array, sent in binary through psycopg's
# own (server-side-binding) cursor on Django's connection and transaction. Django's bulk_create sends
# its rows through its client-side cursor, which quotes each value in Python (each element of an array
# with a regular expression): for a harvest scan's proposals that cost more than the scan, for a ledger
# of 100,000 disposals most of the recompute.


def pg_arrays(columns, rows) -> tuple[str, str, list]:
    """(column list, SELECT list, parameters) of `rows` read through unnest(): JSON travels as text and
    is cast per element, every other column as an array of its own type."""
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(f"%b::{'text' if kind == 'jsonb' else kind}[]" for _, kind in columns)
    select = ", ".join(f"v.{name}::jsonb AS {name}" if kind == "jsonb" else f"v.{name}" for name, kind in columns)
    return names, f"SELECT {select} FROM unnest({arrays}) AS v({names})", [list(c) for c in zip(*rows, strict=True)]


def pg_insert(table: str, columns, rows: list[tuple], returning: str = "") -> list[tuple]:
    """INSERT `rows` (tuples in the order of `columns`: (name, PostgreSQL type)) in one statement."""
    if not rows:
        return []
    names, select, params = pg_arrays(columns, rows)
    sql = f"INSERT INTO {table} ({names}) {select}" + (f" RETURNING {returning}" if returning else "")
    return _execute(sql, params, fetch=bool(returning))


def pg_update(table: str, columns, rows: list[tuple]) -> None:
    """UPDATE the rows whose id is the first column of each of `rows` to the other columns' values."""
    if not rows:
        return
    names, select, params = pg_arrays(columns, rows)
    assignments = ", ".join(f"{name} = u.{name}" for name, _ in columns[1:])
    _execute(f"UPDATE {table} t SET {assignments} FROM ({select}) u WHERE t.id = u.id", params, fetch=False)


def pg_copy(table: str, columns, rows) -> None:
    """COPY `rows` (tuples in the order of `columns`) into `table`: the fastest load PostgreSQL has, for
    rows whose ids the caller knows or does not need (psycopg formats each row in C)."""
    sql = f"COPY {table} ({', '.join(name for name, _ in columns)}) FROM STDIN"
    with _psycopg_cursor(lambda: sql) as cursor, cursor.copy(sql) as copy:
        write = copy.write_row
        for row in rows:
            write(row)


def _execute(sql: str, params: list, *, fetch: bool) -> list[tuple]:
    """Run one statement, not prepared: each is run once, and a transaction-mode pooler could not keep it."""
    with _psycopg_cursor(lambda: sql) as cursor:
        cursor.execute(sql, params, prepare=False)
        return cursor.fetchall() if fetch else []


@contextmanager
def _psycopg_cursor(logged: Callable[[], str]):
    """psycopg's own cursor on the connection and transaction Django holds, with Django's error translation
    (a lost server raises Django's OperationalError, which the callers' retries catch); the statement,
    `logged()`, goes where Django logs its own queries (DEBUG, CaptureQueriesContext)."""
    connection.ensure_connection()
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor
    if connection.queries_logged:
        connection.queries_log.append({"sql": logged(), "time": f"{time.monotonic() - started:.3f}"})

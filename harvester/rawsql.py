"""Raw SQL reads that give what the ORM would: on PostgreSQL psycopg already answers Decimal, date and bool;
on SQLite (the embedded default) decimals come back as floats and expressions' dates as text, converted
here as Django's SQLite backend converts them. Used where building the ORM's query cost more Python time
than the database took to answer it (harvest scans, dashboard partials)."""

import decimal
from datetime import date
from decimal import Decimal

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


def fetch(sql: str, params, convert: tuple | None = None) -> list[tuple]:
    """The rows of a raw query. PostgreSQL (psycopg) already gives Decimal, date and bool; on SQLite, the
    embedded default, `convert` (one function or None per column) does what the ORM's converters do."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if convert is None or connection.vendor == "postgresql":
        return rows
    return [tuple(value if f is None or value is None else f(value) for f, value in zip(convert, row, strict=True))
            for row in rows]

"""python manage.py bench_import [--rows 100000] [--recompute] [--keep]

Generates a generic CSV of --rows trades, imports it into a scratch household in the configured database
(set DATABASE_URL for PostgreSQL) through the real preview -> commit flow, and prints the time of each
step and rows per second. --recompute then times the ledger recompute of the imported trades (what the
import enqueues for after its commit), reported apart from the import. Everything is rolled back
afterwards unless --keep (then the recompute also runs after commit, as after any import). A measurement,
not a test.
"""

import io
import random
import time
from datetime import date, timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from accounts.models import Account, Household, Owner, TaxpayerUnit
from lots import imports
from lots.importers import decode_upload
from lots.imports import ImportOptions
from lots.ledger import ledger_recompute

TICKERS = ["VTI", "ITOT", "SCHB", "VOO", "IVV", "VEA", "IEFA", "VWO", "IEMG", "BND", "AGG", "VXUS"]


def generate(rows: int, seed: int = 1) -> str:
    """A generic CSV of `rows` buys, reinvestments and sales that never sell more than is held."""
    rng = random.Random(seed)
    held = dict.fromkeys(TICKERS, Decimal(0))
    out = io.StringIO()
    out.write("trade_id,date,account,ticker,action,quantity,price,fees\n")
    day = date(2010, 1, 4)
    per_day = max(1, rows // 4000)
    for i in range(rows):
        if i % per_day == 0:
            day += timedelta(days=1)
        ticker = TICKERS[rng.randrange(len(TICKERS))]
        price = Decimal(rng.randrange(2000, 40000)) / 100
        if i % 7 == 6 and held[ticker] >= 2:
            qty = (held[ticker] / 2).quantize(Decimal("0.0001"))
            held[ticker] -= qty
            out.write(f"s{i},{day},bench,{ticker},sell,{qty},{price},0.50\n")
        else:
            qty = Decimal(rng.randrange(1, 5000)) / 100
            held[ticker] += qty
            action = "reinvest" if i % 11 == 0 else "buy"
            out.write(f"b{i},{day},bench,{ticker},{action},{qty},{price},0\n")
    return out.getvalue()


class Command(BaseCommand):
    help = "Time an import of a generated generic CSV (default 100,000 rows) into the configured database."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--recompute", action="store_true", help="also time the ledger recompute after commit")
        parser.add_argument("--keep", action="store_true", help="keep the scratch household and its trades")

    def handle(self, *args, **opts):
        rows = opts["rows"]
        text = generate(rows)
        raw = text.encode()
        self.stdout.write(f"database: {connection.vendor}; file: {rows} rows, {len(raw) / 1e6:.1f} MB")
        with transaction.atomic():
            household = Household.objects.create(name=f"bench-import {time.time():.0f}")
            unit = TaxpayerUnit.objects.create(household=household, name="bench")
            owner = Owner.objects.create(household=household, name="bench", taxpayer_unit=unit)
            account = Account.objects.create(household=household, name="bench", kind="individual")
            account.owners.set([owner])
            imports._parsed.clear()  # measure a cold parse
            t0 = time.perf_counter()
            decoded = decode_upload(raw, name="bench.csv")
            batch = imports.import_preview(account=account, text=decoded, file_name="bench.csv", actor=None,
                                           options=ImportOptions())
            t1 = time.perf_counter()
            if batch.summary["errors"]:
                self.stderr.write("\n".join(batch.summary["errors"][:5]))
                transaction.set_rollback(True)
                return
            result = imports.import_commit(household=household, batch_id=batch.pk, sha256=batch.sha256, actor=None)
            t_written = time.perf_counter()
            if connection.vendor == "postgresql":
                # Foreign keys are checked at commit (deferred); run those checks now so they are timed.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            t2 = time.perf_counter()
            total = t2 - t0
            self.stdout.write(f"preview (decode, parse, validate, plan, keep the upload): {t1 - t0:.2f} s")
            self.stdout.write(f"commit (write {result.transactions} transactions, check constraints, audit): {t2 - t1:.2f} s"
                              f" (of which deferred foreign-key checks: {t2 - t_written:.2f} s)")
            self.stdout.write(f"total: {total:.2f} s = {rows / total:,.0f} rows/s")
            if opts["recompute"]:
                t3 = time.perf_counter()
                summary = ledger_recompute(household_id=household.pk)
                self.stdout.write(f"ledger recompute ({summary.trades} trades -> {summary.open_lots} open lots, "
                                  f"{summary.disposals} disposals): {time.perf_counter() - t3:.2f} s")
            if not opts["keep"]:
                transaction.set_rollback(True)
                self.stdout.write("rolled back (use --keep to keep the scratch household)")


"""Backups: pg_dump with a manifest, pg_restore into an empty database, and a check that they agree.

    python -m ops.backup backup  DATABASE_URL FILE            # FILE (pg_dump -Fc) + FILE.manifest.json
    python -m ops.backup restore FILE TARGET_URL [--create]   # into an empty database, then verify
    python -m ops.backup manifest DATABASE_URL                # print what a manifest would say now
    python -m ops.backup compare A.manifest.json B.manifest.json

scripts/backup and scripts/restore call the first two. Only psycopg and the PostgreSQL client tools are
needed (no Django settings), so a backup host needs no SECRET_KEY.

The manifest describes exactly the data in the dump: it is computed in a REPEATABLE READ transaction whose
snapshot pg_dump is given (`pg_dump --snapshot`), so writes during the backup change neither. It holds
every table's row count, every sequence's column and its largest value (and that the sequence is past
it), the schema objects (indexes, constraints, triggers,
functions) and the ledger totals: per household and tax year the disposals' proceeds, basis, disallowed
loss and gain/loss; per household the open lots' quantity, basis and wash-sale adjustment, the wash-sale
adjustments, and the trades. A restore is verified by computing the same manifest on the restored
database and comparing; any difference is printed and the restore exits non-zero. Runbook:
docs/operations.md.
"""

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

FORMAT = 1
METADATA = ("format", "created_at", "source", "server_version", "pg_dump", "dump_file", "dump_bytes", "dump_sha256")


class BackupError(Exception):
    pass


# ---- PostgreSQL client tools


def pg_tool(name: str) -> str:
    """The newest installed client tool: $PGBIN first, then /usr/lib/postgresql/<v>/bin, then PATH."""
    candidates = []
    if os.environ.get("PGBIN"):
        candidates.append(Path(os.environ["PGBIN"]) / name)
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name.split(".")[0]))
    candidates += [Path(p) / name for p in reversed(versions)]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(f"{name} not found: install the PostgreSQL client (postgresql-client) or set PGBIN")


def libpq_url(url: str) -> str:
    """dj-database-url accepts postgres:// and friends; libpq wants postgres:// or postgresql://."""
    scheme, rest = url.split("://", 1) if "://" in url else ("", url)
    if scheme in ("pgsql", "postgis"):
        return "postgresql://" + rest
    return url


def redacted(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = (f"{parts.username}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


# ---- the manifest


def _rows(cur, query, params=()):
    cur.execute(query, params)
    return cur.fetchall()


def _table_exists(cur, name: str) -> bool:
    return bool(_rows(cur, "SELECT to_regclass(%s) IS NOT NULL", [f"public.{name}"])[0][0])


def _money(value) -> str:
    return "0" if value is None else str(value)


def manifest(conn) -> dict:
    """Row counts, sequences, schema objects and ledger totals of the database `conn` is connected to, as
    its current transaction sees it (run it inside the backup's snapshot)."""
    with conn.cursor() as cur:
        tables = [name for (name,) in _rows(cur, """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname""")]
        counts = {}
        for table in tables:
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = cur.fetchone()[0]
        sequences = _sequences(cur)
        schema = {
            "indexes": [r[0] for r in _rows(cur, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")],
            "constraints": [f"{t}.{c}" for t, c in _rows(cur, """
                SELECT cl.relname, co.conname FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
                JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname = 'public' ORDER BY 1, 2""")],
            "triggers": [f"{t}.{g}" for t, g in _rows(cur, """
                SELECT cl.relname, tg.tgname FROM pg_trigger tg JOIN pg_class cl ON cl.oid = tg.tgrelid
                JOIN pg_namespace n ON n.oid = cl.relnamespace
                WHERE n.nspname = 'public' AND NOT tg.tgisinternal ORDER BY 1, 2""")],
            "functions": [r[0] for r in _rows(cur, """
                SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'public' ORDER BY 1""")],
        }
        ledger = _ledger(cur)
        server_version = _rows(cur, "SHOW server_version")[0][0]
    return {"format": FORMAT, "server_version": server_version, "tables": counts, "sequences": sequences,
            "schema": schema, "ledger": ledger}


def _sequences(cur) -> dict:
    """Each sequence with the column it numbers, that column's largest value in this snapshot, and whether
    the sequence is past it (so the next insert cannot collide). The sequence's own position is not
    compared: sequences ignore snapshots, and pg_dump reads them a moment after the data."""
    out = {}
    for sequence, table, column, last_value in _rows(cur, """
            SELECT s.relname, t.relname, a.attname, ps.last_value
            FROM pg_class s
            JOIN pg_namespace n ON n.oid = s.relnamespace AND n.nspname = 'public'
            JOIN pg_sequences ps ON ps.schemaname = 'public' AND ps.sequencename = s.relname
            LEFT JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
                 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
            LEFT JOIN pg_class t ON t.oid = d.refobjid
            LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
            WHERE s.relkind = 'S' ORDER BY 1"""):
        largest = None
        if table and column:
            cur.execute(sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(column), sql.Identifier(table)))
            largest = cur.fetchone()[0]
        ahead = largest is None or (last_value is not None and last_value >= largest)
        out[sequence] = {"column": f"{table}.{column}" if table else None,
                         "max": None if largest is None else int(largest), "ahead": ahead}
    return out


def _ledger(cur) -> dict:
    """Per household (and tax year) sums of the derived tax rows and of the trades they come from."""
    out = {"disposals": {}, "open_lots": {}, "wash_sale_adjustments": {}, "trades": {}}
    if not all(_table_exists(cur, t) for t in ("accounts_account", "lots_disposal", "lots_lot", "lots_transaction")):
        return out
    for household, year, n, proceeds, basis, disallowed, gain in _rows(cur, """
            SELECT a.household_id, d.tax_year, count(*), sum(d.proceeds), sum(d.cost_basis), sum(d.disallowed),
                   sum(d.gain_loss)
            FROM lots_disposal d JOIN accounts_account a ON a.id = d.account_id GROUP BY 1, 2 ORDER BY 1, 2"""):
        out["disposals"][f"{household}/{year}"] = {
            "rows": n, "proceeds": _money(proceeds), "cost_basis": _money(basis), "disallowed": _money(disallowed),
            "gain_loss": _money(gain)}
    for household, n, quantity, basis, wash in _rows(cur, """
            SELECT a.household_id, count(*), sum(l.quantity), sum(l.cost_basis), sum(l.wash_sale_adjustment)
            FROM lots_lot l JOIN accounts_account a ON a.id = l.account_id GROUP BY 1 ORDER BY 1"""):
        out["open_lots"][str(household)] = {"rows": n, "quantity": _money(quantity), "cost_basis": _money(basis),
                                            "wash_sale_adjustment": _money(wash)}
    if _table_exists(cur, "lots_washsaleadjustment"):
        for household, n, disallowed in _rows(cur, """
                SELECT a.household_id, count(*), sum(w.disallowed) FROM lots_washsaleadjustment w
                JOIN lots_disposal d ON d.id = w.disposal_id JOIN accounts_account a ON a.id = d.account_id
                GROUP BY 1 ORDER BY 1"""):
            out["wash_sale_adjustments"][str(household)] = {"rows": n, "disallowed": _money(disallowed)}
    for household, n, quantity, amount, fees in _rows(cur, """
            SELECT a.household_id, count(*), sum(t.quantity), sum(t.quantity * t.price), sum(t.fees)
            FROM lots_transaction t JOIN accounts_account a ON a.id = t.account_id GROUP BY 1 ORDER BY 1"""):
        out["trades"][str(household)] = {"rows": n, "quantity": _money(quantity), "amount": _money(amount),
                                         "fees": _money(fees)}
    return out


def ledger_totals(data: dict) -> dict:
    """Firm-wide sums of a manifest's ledger (for the one-line summary)."""
    from decimal import Decimal

    def total(section, field):
        return sum((Decimal(v[field]) for v in data["ledger"][section].values()), Decimal("0"))

    return {
        "disposals": sum(v["rows"] for v in data["ledger"]["disposals"].values()),
        "households_with_disposals": len({k.split("/")[0] for k in data["ledger"]["disposals"]}),
        "gain_loss": str(total("disposals", "gain_loss")),
        "disallowed": str(total("disposals", "disallowed")),
        "open_lot_basis": str(total("open_lots", "cost_basis")),
    }


def compare(expected: dict, actual: dict) -> list[str]:
    """Every difference between two manifests (metadata aside), one line each; [] when they agree."""
    problems = []

    def diff_map(label, a: dict, b: dict):
        for key in sorted(set(a) | set(b)):
            if key not in b:
                problems.append(f"{label} {key}: in the backup, missing from the restore")
            elif key not in a:
                problems.append(f"{label} {key}: in the restore, not in the backup")
            elif a[key] != b[key]:
                if isinstance(a[key], dict):
                    fields = [f"{f} {a[key].get(f)} -> {b[key].get(f)}" for f in sorted(set(a[key]) | set(b[key]))
                              if a[key].get(f) != b[key].get(f)]
                    problems.append(f"{label} {key}: " + ", ".join(fields))
                else:
                    problems.append(f"{label} {key}: {a[key]} -> {b[key]}")

    diff_map("table", expected.get("tables", {}), actual.get("tables", {}))
    diff_map("sequence", expected.get("sequences", {}), actual.get("sequences", {}))
    for kind in sorted(set(expected.get("schema", {})) | set(actual.get("schema", {}))):
        a, b = set(expected.get("schema", {}).get(kind, [])), set(actual.get("schema", {}).get(kind, []))
        problems += [f"{kind[:-1]} {name}: in the backup, missing from the restore" for name in sorted(a - b)]
        problems += [f"{kind[:-1]} {name}: in the restore, not in the backup" for name in sorted(b - a)]
    for section in sorted(set(expected.get("ledger", {})) | set(actual.get("ledger", {}))):
        label = {"disposals": "disposals household/year", "open_lots": "open lots household",
                 "wash_sale_adjustments": "wash-sale adjustments household", "trades": "trades household"}.get(section,
                                                                                                             section)
        diff_map(label, expected.get("ledger", {}).get(section, {}), actual.get("ledger", {}).get(section, {}))
    return problems


def summary(data: dict) -> str:
    totals = ledger_totals(data)
    return (f"{len(data['tables'])} tables, {sum(data['tables'].values()):,} rows; {totals['disposals']:,} disposals "
            f"in {totals['households_with_disposals']} households (gain/loss {totals['gain_loss']}, disallowed "
            f"{totals['disallowed']}); open-lot basis {totals['open_lot_basis']}")


# ---- backup and restore


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".manifest.json")


def backup(url: str, dump: Path) -> dict:
    """pg_dump -Fc of `url` into `dump` and its manifest next to it, both of one snapshot."""
    url = libpq_url(url)
    dump = Path(dump)
    if dump.exists():
        raise BackupError(f"{dump} exists: a backup never overwrites another")
    dump.parent.mkdir(parents=True, exist_ok=True)
    pg_dump = pg_tool("pg_dump")
    partial = dump.with_name(dump.name + ".partial")
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        result = subprocess.run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={partial}", url],
                                capture_output=True, text=True)
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed ({result.returncode}): {result.stderr.strip()}")
        data = manifest(conn)
        conn.rollback()
    partial.rename(dump)
    version = subprocess.run([pg_dump, "--version"], capture_output=True, text=True).stdout.strip()
    data.update(created_at=datetime.now(UTC).isoformat(timespec="seconds"), source=redacted(url), pg_dump=version,
                dump_file=dump.name, dump_bytes=dump.stat().st_size, dump_sha256=_sha256(dump))
    manifest_path(dump).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


def create_database(url: str) -> None:
    """CREATE DATABASE for the URL's database name, through the server's 'postgres' database."""
    parts = urlsplit(libpq_url(url))
    name = parts.path.lstrip("/")
    if not name:
        raise BackupError(f"{redacted(url)} names no database")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def restore(dump: Path, url: str, *, create: bool = False) -> tuple[dict, dict | None, list[str]]:
    """pg_restore `dump` into the empty database at `url` in one transaction, then compare its manifest with
    the backup's. Returns (backup manifest or {}, restored manifest, differences)."""
    url = libpq_url(url)
    dump = Path(dump)
    if not dump.is_file():
        raise BackupError(f"{dump}: no such backup file")
    expected = {}
    if manifest_path(dump).is_file():
        expected = json.loads(manifest_path(dump).read_text())
        actual_sha = _sha256(dump)
        if expected.get("dump_sha256") and expected["dump_sha256"] != actual_sha:
            raise BackupError(f"{dump} is damaged: sha256 {actual_sha}, the manifest says {expected['dump_sha256']}")
    if create:
        create_database(url)
    with psycopg.connect(url, autocommit=True) as conn:
        existing = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
    if existing:
        raise BackupError(f"{redacted(url)} already has {existing} tables: restore only into a new, empty database")
    result = subprocess.run([pg_tool("pg_restore"), "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
                             f"--dbname={url}", str(dump)], capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed ({result.returncode}); nothing was restored: {result.stderr.strip()}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    with psycopg.connect(url) as conn:
        actual = manifest(conn)
    return expected, actual, (compare(expected, actual) if expected else [])


# ---- command line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.backup", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("backup", help="pg_dump -Fc and a manifest of the same snapshot")
    p.add_argument("url")
    p.add_argument("file", type=Path)
    p = commands.add_parser("restore", help="pg_restore into an empty database and verify it against the manifest")
    p.add_argument("file", type=Path)
    p.add_argument("url")
    p.add_argument("--create", action="store_true", help="CREATE DATABASE first")
    p = commands.add_parser("manifest", help="print the manifest of a database as it is now")
    p.add_argument("url")
    p = commands.add_parser("compare", help="compare two manifests")
    p.add_argument("expected", type=Path)
    p.add_argument("actual", type=Path)
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if args.command == "backup":
            data = backup(args.url, args.file)
            print(f"backup {args.file} ({data['dump_bytes']:,} bytes) of {data['source']} in "
                  f"{time.monotonic() - started:.1f} s: {summary(data)}")
            print(f"manifest {manifest_path(args.file)}")
        elif args.command == "restore":
            expected, actual, problems = restore(args.file, args.url, create=args.create)
            print(f"restored {args.file} into {redacted(args.url)} in {time.monotonic() - started:.1f} s: {summary(actual)}")
            if not expected:
                print(f"warning: no manifest next to {args.file}; the restore could not be verified", file=sys.stderr)
                return 2
            if problems:
                print(f"the restore differs from the backup's manifest in {len(problems)} ways:", file=sys.stderr)
                for line in problems:
                    print(f"  {line}", file=sys.stderr)
                return 1
            print(f"verified against {manifest_path(args.file).name}: every table's row count, every sequence, "
                  "the schema objects and the ledger totals match")
        elif args.command == "manifest":
            with psycopg.connect(libpq_url(args.url)) as conn:
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                print(json.dumps(manifest(conn), indent=1, sort_keys=True))
        elif args.command == "compare":
            problems = compare(json.loads(args.expected.read_text()), json.loads(args.actual.read_text()))
            for line in problems:
                print(line)
            return 1 if problems else 0
    except (BackupError, psycopg.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""python manage.py import_file PATH --household H --account A [--format auto|...] [--dry-run]

Reads a custodian export, prints what it holds (rows read, transactions and lots to create, rows already
on record, rows skipped with their reasons, warnings) and, unless --dry-run, imports it through the same
preview -> commit flow as the browser and the API (audited; the ledger is recomputed after commit).
Exit status 2, with nothing written, when the file cannot be imported.
"""

from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account, Household
from lots import imports
from lots.importers import FORMATS, ImportFileError, decode_upload
from lots.imports import ImportOptions, ImportRefused


def _find(model, value, **scope):
    rows = model.objects.filter(**scope)
    found = rows.filter(pk=int(value)).first() if str(value).isdigit() else None
    return found or rows.filter(name=value).first()


def print_summary(out, summary: dict, file_name: str) -> None:
    out.write(f"file: {file_name} ({summary.get('label') or 'format not recognized'})")
    if summary.get("source_account"):
        out.write(f"account in the file: {summary['source_account']}")
    out.write(f"rows read: {summary.get('rows_read', 0)}")
    out.write(f"transactions: {summary.get('transactions', 0)} (lots: {summary.get('lots', 0)}, "
              f"sales: {summary.get('sells', 0)})")
    if summary.get("first_date"):
        out.write(f"trade dates: {summary['first_date']} to {summary['last_date']}")
    out.write(f"already on record, skipped: {summary.get('duplicates', 0)}")
    out.write(f"skipped: {summary.get('skipped_count', 0)}")
    for group in summary.get("skipped", []):
        rows = ", ".join(str(r["row"]) for r in group["rows"][:10])
        more = " ..." if group["count"] > 10 else ""
        out.write(f"  {group['count']:>6}  {group['reason']}: {group['text']} (rows {rows}{more})")
    for ticker, info in (summary.get("new_securities") or {}).items():
        out.write(f"new security: {ticker} ({info['asset_class']})")
    if summary.get("history_complete_from"):
        out.write(f"opening lots: wash-sale coverage incomplete before {summary['history_complete_from']}")
    for warning in summary.get("warnings", []):
        out.write(f"warning: {warning}")


class Command(BaseCommand):
    help = "Import a custodian export (CSV, OFX/QFX, IBKR Flex XML) into a household account."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--household", required=True, help="household id or name")
        parser.add_argument("--account", required=True, help="account id or name (in that household)")
        parser.add_argument("--format", default="auto", choices=["auto", *FORMATS])
        parser.add_argument("--source-account", default="", help="the account in a file that holds several")
        parser.add_argument("--as-of", default=None, help="date of a positions file that does not say it (YYYY-MM-DD)")
        parser.add_argument("--new-security", action="append", default=[], metavar="TICKER=ASSET_CLASS",
                            help="create this unknown ticker with that asset class (repeatable)")
        parser.add_argument("--user", default=None, help="username recorded as the actor in the audit log")
        parser.add_argument("--dry-run", action="store_true", help="print the summary; write nothing")

    def handle(self, *args, **opts):
        def fail(message):
            raise CommandError(message, returncode=2)

        household = _find(Household, opts["household"])
        if household is None:
            fail(f"no household {opts['household']!r}")
        account = _find(Account, opts["account"], household=household)
        if account is None:
            fail(f"no account {opts['account']!r} in {household.name}")
        actor = None
        if opts["user"]:
            actor = get_user_model().objects.filter(username=opts["user"]).first()
            if actor is None:
                fail(f"no user {opts['user']!r}")
        new = {}
        for item in opts["new_security"]:
            ticker, _, code = item.partition("=")
            if not ticker or not code:
                fail(f"--new-security {item!r}: expected TICKER=ASSET_CLASS")
            new[ticker.strip().upper()] = code.strip()
        try:
            as_of = date.fromisoformat(opts["as_of"]) if opts["as_of"] else None
        except ValueError:
            fail(f"--as-of {opts['as_of']!r} is not a YYYY-MM-DD date")
        path = Path(opts["path"])
        try:
            raw = path.read_bytes()
        except OSError as exc:
            fail(f"cannot read {path}: {exc.strerror}")
        try:
            text = decode_upload(raw, name=path.name)
        except ImportFileError as exc:
            fail(str(exc))
        options = ImportOptions(format=opts["format"], source_account=opts["source_account"], as_of=as_of,
                                new_securities=new)
        if opts["dry_run"]:
            plan = imports.import_plan(account=account, text=text, file_name=path.name, options=options)
            summary = plan.summary()
        else:
            batch = imports.import_preview(account=account, text=text, file_name=path.name, actor=actor,
                                           options=options)
            summary = batch.summary
        print_summary(self.stdout, summary, path.name)
        if summary.get("errors"):
            for error in summary["errors"]:
                self.stderr.write(f"error: {error}")
            fail("nothing imported")
        if opts["dry_run"]:
            self.stdout.write("dry run: nothing written")
            return
        try:
            result = imports.import_commit(household=household, batch_id=batch.pk, sha256=batch.sha256, actor=actor)
        except ImportRefused as exc:
            fail(str(exc))
        self.stdout.write(f"imported: {result.transactions} transactions ({result.lots} lots) into {account.name} "
                          f"(import {batch.pk}); the ledger is recomputed after commit")

"""python manage.py import_prices PATH [--ticker VTI]  |  import_prices --synthetic [--days 30]

Stores daily closes from a CSV (date,ticker,close, or a Yahoo / Stooq download), or the demo's synthetic
closes of the last --days days (labelled source="synthetic"). Exit status 2, nothing stored, on a bad file.
"""

from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from lots.importers import ImportFileError, decode_upload
from lots.models import Security
from lots.prices import get_provider, prices_fetch, prices_import_file


class Command(BaseCommand):
    help = "Import daily closes from a CSV file (or the demo's synthetic closes with --synthetic)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?")
        parser.add_argument("--ticker", default=None, help="ticker of a one-ticker download (default: file name)")
        parser.add_argument("--synthetic", action="store_true", help="store the demo's synthetic closes instead")
        parser.add_argument("--days", type=int, default=30, help="with --synthetic: how many days back")

    def handle(self, *args, **opts):
        if opts["synthetic"]:
            end = timezone.localdate()
            tickers = Security.objects.values_list("ticker", flat=True)
            result = prices_fetch(provider=get_provider("synthetic"), tickers=tickers,
                                  start=end - timedelta(days=opts["days"]), end=end)
        else:
            if not opts["path"]:
                raise CommandError("give a PATH (or --synthetic)", returncode=2)
            path = Path(opts["path"])
            try:
                text = decode_upload(path.read_bytes(), name=path.name)
                result = prices_import_file(text=text, name=path.name, actor=None, ticker=opts["ticker"])
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=2) from None
            except ImportFileError as exc:
                raise CommandError(f"{exc}\nnothing stored", returncode=2) from None
        self.stdout.write(f"source: {result.source}")
        self.stdout.write(f"closes stored: {result.created} new, {result.updated} replaced, {result.unchanged} "
                          f"unchanged" + (f", {result.kept} real closes kept" if result.kept else ""))
        if result.first_date:
            self.stdout.write(f"dates: {result.first_date} to {result.last_date}")
        if result.skipped_rows:
            self.stdout.write(f"rows without a close: {result.skipped_rows}")
        for ticker, count in sorted(result.unknown_tickers.items()):
            self.stdout.write(f"not stored (not in the security list): {ticker} ({count} closes)")

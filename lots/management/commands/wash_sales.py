"""python manage.py wash_sales: realized gains, wash sales and Form 8949 rows from CSV files.

A thin shell over lots.engine.cli (which also runs without Django); it never touches the database.
"""

from django.core.management.base import BaseCommand, CommandError

from lots.engine import cli


class _Raw:
    """Django's OutputWrapper adds a newline to every write; the CLI writes whole files."""

    def __init__(self, wrapper):
        self._wrapper = wrapper

    def write(self, text: str) -> None:
        self._wrapper.write(text, ending="")


class Command(BaseCommand):
    help = (
        "Compute realized gains and losses with household-wide wash sales from accounts and trades CSVs, "
        "optionally reconciled with a broker's realized gain/loss report. Formats: docs/formats.md."
    )
    requires_system_checks: list = []  # pure computation from files: no models, no database

    def add_arguments(self, parser):
        cli.add_arguments(parser)

    def handle(self, *args, **options):
        try:
            cli.run(options, _Raw(self.stdout))
        except cli.CliError as exc:
            raise CommandError(str(exc), returncode=exc.returncode) from exc

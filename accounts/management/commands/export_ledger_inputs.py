from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Household
from lots.export import ledger_inputs_write


class Command(BaseCommand):
    help = "Write a household's accounts, trades and identity groups as the wash_sales CLI's CSV files."

    def add_arguments(self, parser):
        parser.add_argument("--household", required=True, help="household id or exact name")
        parser.add_argument("--out", required=True, help="directory to write accounts.csv, trades.csv, identity.csv")

    def handle(self, *args, household, out, **options):
        qs = Household.objects.filter(pk=int(household)) if household.isdigit() else Household.objects.filter(name=household)
        found = qs.first()
        if found is None:
            raise CommandError(f"no household {household!r}", returncode=2)
        paths = ledger_inputs_write(household=found, out=Path(out))
        for name, path in paths.items():
            self.stdout.write(f"{name}: {path}")
        self.stdout.write(
            f"Reproduce: python manage.py wash_sales --accounts {paths['accounts']} --trades {paths['trades']} "
            f"--identity {paths['identity']} --format json"
        )

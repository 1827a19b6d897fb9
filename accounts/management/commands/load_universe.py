from django.core.management.base import BaseCommand

from lots.reference import load_universe


class Command(BaseCommand):
    help = "Load or refresh the ETF universe and default replacement chains from harvester/data/ (idempotent)."

    def handle(self, *args, **options):
        counts = load_universe()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))

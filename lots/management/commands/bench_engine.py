"""python manage.py bench_engine: time the wash-sale engine on generated households (no database).

A thin shell over lots.engine.bench, which also runs as `python -m lots.engine.bench`.
"""

from django.core.management.base import BaseCommand, CommandError

from lots.engine import bench


class Command(BaseCommand):
    help = "Benchmark the wash-sale engine: trades, seconds, trades per second, peak memory, wash-sale adjustments."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        bench.add_arguments(parser)

    def handle(self, *args, **options):
        try:
            sizes = bench.parse_sizes(options["sizes"])
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        bench.run(sizes, seed=options["seed"], trace=options["tracemalloc"], out=self.stdout)

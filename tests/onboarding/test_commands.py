"""import_file, import_prices and bench_import print what they did; bad input exits 2 and writes nothing."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from harvester.models import AuditEvent
from lots.models import Price, Transaction

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent.parent / "importers" / "fixtures"


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_import_file_dry_run_prints_the_summary_and_writes_nothing(world):
    out = run("import_file", str(FIXTURES / "Joint_XXX876_Transactions_20250503-142105.csv"),
              "--household", world.household.name, "--account", "Alex individual", "--dry-run")
    assert "rows read: 9" in out and "transactions: 5 (lots: 4, sales: 1)" in out
    assert "     3  cash: cash only" in out and "dry run: nothing written" in out
    assert not Transaction.objects.exists()


def test_import_file_imports_once(world):
    args = ("import_file", str(FIXTURES / "generic_trades.csv"), "--household", str(world.household.pk),
            "--account", str(world.alex_ind.pk), "--user", "advisor")
    assert "imported: 5 transactions (4 lots)" in run(*args)
    out = run(*args)
    assert "already on record, skipped: 5" in out and "imported: 0 transactions" in out
    assert Transaction.objects.count() == 5
    assert AuditEvent.objects.filter(action="import.commit", actor=world.advisor).count() == 2


def test_import_file_exits_2_on_a_bad_file(world):
    with pytest.raises(CommandError) as exc:
        run("import_file", str(FIXTURES / "generic_bad.csv"), "--household", str(world.household.pk),
            "--account", "Alex individual")
    assert exc.value.returncode == 2 and not Transaction.objects.exists()
    with pytest.raises(CommandError) as exc:
        run("import_file", "/nonexistent.csv", "--household", str(world.household.pk), "--account", "Joint")
    assert exc.value.returncode == 2
    with pytest.raises(CommandError, match="no account"):
        run("import_file", str(FIXTURES / "generic_trades.csv"), "--household", str(world.household.pk),
            "--account", "Chen individual")


def test_import_file_creates_a_security_given_its_asset_class(world):
    out = run("import_file", str(FIXTURES / "schwab_2025.csv"), "--household", str(world.household.pk),
              "--account", "Alex individual", "--new-security", "NVDA=us_large_cap")
    assert "new security: NVDA (us_large_cap)" in out and "imported: 5 transactions" in out


def test_import_prices_stores_closes_and_exits_2_on_a_bad_file(world):
    out = run("import_prices", str(FIXTURES / "prices.csv"))
    assert "closes stored: 3 new" in out and "ZZZZ (1 closes)" in out
    assert "0 new, 0 replaced, 3 unchanged" in run("import_prices", str(FIXTURES / "prices.csv"))
    bad = FIXTURES / "generic_bad.csv"
    with pytest.raises(CommandError) as exc:
        run("import_prices", str(bad))
    assert exc.value.returncode == 2 and Price.objects.count() == 3


def test_synthetic_prices_never_replace_real_ones(world):
    run("import_prices", str(FIXTURES / "prices.csv"))  # VTI on 2026-11-23 and 24 from a file
    from datetime import date

    from lots.prices import get_provider, prices_fetch

    result = prices_fetch(provider=get_provider("synthetic"), tickers=["VTI"], start=date(2026, 11, 20),
                          end=date(2026, 11, 24))
    assert result.kept == 2 and result.created == 1  # the 20th was missing
    assert Price.objects.get(security__ticker="VTI", date=date(2026, 11, 23)).source == "csv"
    assert Price.objects.get(security__ticker="VTI", date=date(2026, 11, 20)).source == "synthetic"


def test_bench_import_prints_rows_per_second_and_leaves_nothing(world):
    out = run("bench_import", "--rows", "300", "--recompute")
    assert "rows/s" in out and "rolled back" in out
    assert "ledger recompute (300 trades -> " in out
    assert not Transaction.objects.exists()

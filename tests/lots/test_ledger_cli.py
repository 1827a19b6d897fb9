"""The stored ledger equals the wash_sales CLI's result on the same trades (issue: persistence).

The demo household (two years of contributions, harvests, a spouse's and an IRA's wash sales) is
exported as the CLI's files; the CLI runs in a separate process whose DATABASE_URL points nowhere,
which also proves it needs no database.
"""

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from accounts.demo import MAIN, demo_seed
from accounts.models import Household
from lots import convert, engine, ledger
from lots.export import ledger_inputs_write
from lots.models import Disposal, Lot, WashSaleAdjustment

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run_cli(paths) -> dict:
    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nowhere", "DJANGO_SETTINGS_MODULE": "harvester.settings"}
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "wash_sales", "--accounts", str(paths["accounts"]), "--trades",
         str(paths["trades"]), "--identity", str(paths["identity"]), "--format", "json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_the_stored_ledger_equals_the_cli(universe, tmp_path):
    demo_seed(today=date(2026, 11, 27))
    household = Household.objects.get(name=MAIN)
    cli = run_cli(ledger_inputs_write(household=household, out=tmp_path))

    stored_sales = sorted(
        (str(d.sale_id), str(d.origin_id), d.quantity, d.proceeds, d.cost_basis, d.disallowed, d.gain_loss, d.term)
        for d in Disposal.objects.filter(account__household=household)
    )
    cli_sales = sorted(
        (s["sell_trade"], s["buy_trade"], Decimal(s["qty"]), Decimal(s["proceeds"]), Decimal(s["cost_basis"]),
         Decimal(s["wash_sale_disallowed"]), Decimal(s["gain_loss"]), s["term"])
        for s in cli["sales"]
    )
    assert stored_sales == cli_sales and len(cli_sales) > 20

    stored_adjustments = sorted(
        (str(a.disposal.sale_id), str(a.replacement_id), a.quantity, a.disallowed, a.kind)
        for a in WashSaleAdjustment.objects.filter(disposal__account__household=household).select_related("disposal")
    )
    cli_adjustments = sorted(
        (a["sell_trade"], a["replacement_trade"], Decimal(a["qty"]), Decimal(a["disallowed"]), a["kind"])
        for a in cli["adjustments"]
    )
    assert stored_adjustments == cli_adjustments
    assert {a[4] for a in cli_adjustments} == {"deferred", "permanent"}

    stored_lots = sorted(
        (str(lot.origin_id), lot.quantity, lot.cost_basis, lot.holding_period_start.isoformat())
        for lot in Lot.objects.filter(account__household=household)
    )
    cli_lots = sorted(
        (o["buy_trade"], Decimal(o["qty"]), Decimal(o["adjusted_basis"]), o["holding_period_start"])
        for o in cli["open_lots"]
    )
    assert stored_lots == cli_lots


def stored_rows(household) -> tuple[list, list, list]:
    """Every stored field of the household's disposals, adjustments and lots, as the engine's values."""
    disposals = Disposal.objects.filter(account__household=household).select_related("security")
    adjustments = WashSaleAdjustment.objects.filter(disposal__account__household=household).select_related(
        "disposal__security", "replacement__security")
    lots = Lot.objects.filter(account__household=household).select_related("security")
    return (
        sorted(convert.disposal_to_sale(d) for d in disposals),
        sorted(convert.adjustment_to_engine(a) for a in adjustments),
        sorted((str(lot.account_id), lot.security.ticker, str(lot.origin_id), lot.piece, lot.acquired_date, lot.quantity,
                lot.cost_basis, lot.holding_period_start, lot.wash_sale_adjustment) for lot in lots),
    )


def test_both_ledger_writers_store_every_field_of_the_engines_result(universe):
    demo_seed(today=date(2026, 11, 27))
    household = Household.objects.get(name=MAIN)
    accounts, trades, identity, securities = ledger.ledger_inputs(household)
    result = engine.compute(accounts, trades, identity=identity)
    pieces: dict[str, int] = {}
    expected_lots = []
    for o in result.open_lots:
        piece = pieces[o.buy_trade] = pieces.get(o.buy_trade, -1) + 1
        expected_lots.append((o.account, o.ticker, o.buy_trade, piece, o.acquired_date, o.qty, o.adjusted_basis,
                              o.holding_period_start, o.wash_sale_adjustment))
    expected = (sorted(result.sales), sorted(result.adjustments), sorted(expected_lots))
    assert any(o.wash_sale_adjustment for o in result.open_lots)  # the demo has deferred losses in open lots
    assert len({s.tax_year for s in result.sales}) > 1 and {s.code for s in result.sales} == {"W", ""}

    # The recompute the demo ran wrote with COPY (PostgreSQL); write the same result through bulk_create.
    assert stored_rows(household) == expected
    ledger._delete_derived(household.pk)
    assert stored_rows(household) == ([], [], [])
    ledger._write_orm(result, securities)
    assert stored_rows(household) == expected
    # A recompute over the stored ledger replaces it: the same rows again, none twice.
    ledger.ledger_recompute(household_id=household.pk)
    assert stored_rows(household) == expected

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

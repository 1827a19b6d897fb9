"""Write a household's ledger inputs as the wash-sale CLI's files, so any figure can be reproduced
without the database: `python manage.py wash_sales --accounts accounts.csv --trades trades.csv
--identity identity.csv` gives the same disposals as the stored ledger."""

from pathlib import Path

from accounts.models import Household
from lots.engine.csvio import to_csv
from lots.engine.report import plain
from lots.ledger import ledger_inputs

TRADE_COLUMNS = ("trade_id", "date", "account", "ticker", "action", "quantity", "price", "fees", "lot_id",
                 "acquired_date", "basis", "lot_method")


def ledger_inputs_write(*, household: Household, out: Path) -> dict[str, Path]:
    """Write accounts.csv, trades.csv and identity.csv for `household` into `out`; return their paths."""
    accounts, trades, identity, _ = ledger_inputs(household)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "accounts": (
            [{"account": a.account, "owner": a.owner, "taxpayer": a.taxpayer, "kind": a.kind} for a in accounts],
            ("account", "owner", "taxpayer", "kind"),
        ),
        "trades": (
            [{c: "" if getattr(t, c) is None else plain(getattr(t, c)) for c in TRADE_COLUMNS if c != "trade_id"}
             | {"trade_id": t.trade_id, "date": t.date.isoformat()} for t in trades],
            TRADE_COLUMNS,
        ),
        "identity": (
            [{"ticker": t, "group": g, "since": since.isoformat() if since else ""} for t, g, since in identity.as_rows()],
            ("ticker", "group", "since"),
        ),
    }
    paths = {}
    for name, (rows, columns) in files.items():
        paths[name] = out / f"{name}.csv"
        paths[name].write_text(to_csv(rows, columns), encoding="utf-8")
    return paths

"""Load the reference ETF universe (harvester/data/etf_universe.csv) into the database, idempotently.

Each row gives a security, its asset class and the index it tracks (its identity group) from a date.
harvester/data/index_history.csv adds earlier indexes of funds that changed index. Default replacement
chains take, per asset class, the first fund of each identity group in file order, verified funds first.
"""

import csv
from datetime import date
from pathlib import Path

from django.conf import settings

DATA_DIR = Path(settings.BASE_DIR) / "harvester" / "data"
UNIVERSE_CSV = DATA_DIR / "etf_universe.csv"
HISTORY_CSV = DATA_DIR / "index_history.csv"

ASSET_CLASS_NAMES = {
    "us_total_market": "US total market",
    "us_large_cap": "US large cap",
    "us_large_value": "US large value",
    "us_small_cap": "US small cap",
    "intl_total": "International total",
    "intl_developed": "International developed",
    "emerging": "Emerging markets",
    "us_bonds": "US bonds",
    "muni_national": "National municipal bonds",
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_universe(apps=None) -> dict[str, int]:
    """Create or update asset classes, securities, index history and default chains. Returns counts."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    AssetClass = apps.get_model("lots", "AssetClass")
    Security = apps.get_model("lots", "Security")
    SecurityIndex = apps.get_model("lots", "SecurityIndex")
    ReplacementChain = apps.get_model("lots", "ReplacementChain")
    ReplacementChainEntry = apps.get_model("lots", "ReplacementChainEntry")

    rows = _rows(UNIVERSE_CSV)
    classes = {}
    for row in rows:
        code = row["asset_class"]
        if code not in classes:
            classes[code], _ = AssetClass.objects.get_or_create(
                code=code, defaults={"name": ASSET_CLASS_NAMES.get(code, code.replace("_", " ").capitalize())}
            )
    securities = {}
    for row in rows:
        security, _ = Security.objects.update_or_create(
            ticker=row["ticker"],
            defaults={
                "name": row["name"],
                "asset_class": classes[row["asset_class"]],
                "verified": row["verified"].strip().lower() == "yes",
                "note": row["note"],
            },
        )
        securities[row["ticker"]] = security
        since = date.fromisoformat(row["index_since"]) if row["index_since"] else None
        SecurityIndex.objects.update_or_create(
            security=security, since=since, defaults={"index_name": row["tracked_index"], "source": "etf_universe.csv"}
        )
    for row in _rows(HISTORY_CSV):
        since = date.fromisoformat(row["since"]) if row["since"] else None
        SecurityIndex.objects.update_or_create(
            security=securities[row["ticker"]],
            since=since,
            defaults={"index_name": row["index_name"], "source": row["source"]},
        )

    chains = 0
    for code, asset_class in classes.items():
        chain, created = ReplacementChain.objects.get_or_create(asset_class=asset_class, household=None)
        if not created:
            continue
        members = [r for r in rows if r["asset_class"] == code]
        members.sort(key=lambda r: r["verified"].strip().lower() != "yes")  # stable: verified first
        seen_groups: set[str] = set()
        position = 0
        for r in members:
            if r["tracked_index"] in seen_groups:
                continue
            seen_groups.add(r["tracked_index"])
            position += 1
            ReplacementChainEntry.objects.create(chain=chain, position=position, security=securities[r["ticker"]])
        chains += 1
    return {"securities": len(securities), "asset_classes": len(classes), "chains_created": chains}

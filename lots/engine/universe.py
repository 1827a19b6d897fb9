"""Identity groups: which securities are substantially identical for the wash-sale rule (IRC 1091).

PRODUCT.md "Wash sales" 9: the IRS does not define "substantially identical" for funds; practitioner
convention, followed here, is same tracked index = identical, different index = not identical.
A fund's group can change with time (VXUS changed index in 2013), so a group is looked up for a date.
"""

import csv
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "harvester" / "data"
UNIVERSE_CSV = DATA_DIR / "etf_universe.csv"
HISTORY_CSV = DATA_DIR / "index_history.csv"


class IdentityMap:
    """ticker -> identity group, possibly changing on given dates.

    `periods` maps a ticker to (since, group) pairs; `since` None means "from the beginning". On a date
    before a ticker's first `since`, and for a ticker not in the map, the ticker is its own group
    (its group's name is the ticker itself). The same ticker is always identical to itself."""

    __slots__ = ("_periods", "_static")

    def __init__(self, periods: Mapping[str, Iterable[tuple[date | None, str]]]):
        self._periods: dict[str, tuple[tuple[date | None, str], ...]] = {}
        self._static: dict[str, str] = {}
        for ticker, pairs in periods.items():
            ordered = tuple(sorted(pairs, key=lambda p: (p[0] is not None, p[0] or date.min)))
            if len(ordered) == 1 and ordered[0][0] is None:
                self._static[ticker] = ordered[0][1] or ticker
            elif ordered:
                self._periods[ticker] = ordered

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str]) -> "IdentityMap":
        """A map whose groups never change: {ticker: group}."""
        return cls({ticker: [(None, group)] for ticker, group in mapping.items()})

    def group_on(self, ticker: str, day: date) -> str:
        """The identity group of `ticker` on `day`."""
        group = self._static.get(ticker)
        if group is not None:
            return group
        found = ticker
        for since, name in self._periods.get(ticker, ()):
            if since is None or since <= day:
                found = name or ticker
            else:
                break
        return found

    def groups_of(self, ticker: str) -> set[str]:
        """Every group `ticker` can be in (on any date)."""
        if ticker in self._static:
            return {self._static[ticker]}
        periods = self._periods.get(ticker)
        if not periods:
            return {ticker}
        groups = {name or ticker for _, name in periods}
        if periods[0][0] is not None:
            groups.add(ticker)
        return groups

    def is_static(self, ticker: str) -> bool:
        return ticker not in self._periods

    def as_rows(self) -> list[tuple[str, str, date | None]]:
        """(ticker, group, since) rows, for display and for the identity CSV."""
        rows = [(t, g, None) for t, g in sorted(self._static.items())]
        for ticker, periods in sorted(self._periods.items()):
            rows.extend((ticker, group, since) for since, group in periods)
        return rows


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=1)
def default_identity() -> IdentityMap:
    """The built-in universe (harvester/data/etf_universe.csv): ticker -> tracked_index.

    A fund with `index_since` is in its tracked index's group from that date. Before it, it is in the
    group of its earlier index when harvester/data/index_history.csv records one (ticker,index_name,since),
    and otherwise its own group: the universe does not say which funds it matched then, and a fund is
    always identical to itself, so its own group is the only grouping the data supports."""
    periods: dict[str, list[tuple[date | None, str]]] = {}
    for row in _read(UNIVERSE_CSV):
        since = row.get("index_since") or ""
        periods.setdefault(row["ticker"].strip().upper(), []).append(
            (date.fromisoformat(since) if since else None, row["tracked_index"].strip())
        )
    if HISTORY_CSV.exists():
        for row in _read(HISTORY_CSV):
            ticker = row["ticker"].strip().upper()
            since = row.get("since") or ""
            periods.setdefault(ticker, []).append(
                (date.fromisoformat(since) if since else None, row["index_name"].strip())
            )
    return IdentityMap(periods)

"""Federal tax tables as data: one JSON file per year in harvester/data/tax/, each figure with its source.

A new year is a data change: add `harvester/data/tax/<year>.json` with the same shape as 2026.json.
Numbers are parsed as Decimal straight from the JSON text (never through float), and the shape is
checked when a year is loaded, so a typo fails loudly at load time rather than as a wrong tax.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

TAX_DIR = Path(__file__).resolve().parents[1] / "data" / "tax"

SINGLE = "single"
MFJ = "mfj"
MFS = "mfs"
HOH = "hoh"
TRUST = "trust"
FILING_STATUSES = (SINGLE, MFJ, MFS, HOH, TRUST)

_SECTIONS = ("ordinary_brackets", "capital_gains", "niit", "standard_deduction", "capital_loss_limit", "tax_table")


class TaxTableError(ValueError):
    """A year has no tax table file, or its file does not have the expected shape."""


@dataclass(frozen=True, slots=True)
class Bracket:
    """A rate that applies to income over `start` (up to the next bracket's start)."""

    start: Decimal
    rate: Decimal


@dataclass(frozen=True, slots=True)
class YearTables:
    """One year's federal figures, per filing status (single, mfj, mfs, hoh, trust).

    `capital_gains` are the 0% / 15% / 20% breakpoints of IRC 1(h) as brackets (0% from 0, 15% from the
    0% limit, 20% from the 15% limit); `tax_table_below`: taxable income under which the Form 1040 Tax
    Table must be used, for the statuses in `tax_table_statuses` (not trusts: Form 1041 has no table)."""

    year: int
    ordinary: Mapping[str, tuple[Bracket, ...]]
    capital_gains: Mapping[str, tuple[Bracket, ...]]
    niit_rate: Decimal
    niit_threshold: Mapping[str, Decimal]
    standard_deduction: Mapping[str, Decimal]
    capital_loss_limit: Mapping[str, Decimal]
    tax_table_below: Decimal
    tax_table_statuses: frozenset[str]
    sources: Mapping[str, str]


def available_years() -> tuple[int, ...]:
    """The years that have a data file, ascending."""
    return tuple(sorted(int(p.stem) for p in TAX_DIR.glob("*.json") if p.stem.isdigit()))


@lru_cache(maxsize=16)
def load_year(year: int, directory: Path | None = None) -> YearTables:
    """The tax tables of `year`, read from `<directory or harvester/data/tax>/<year>.json`.

    Raises TaxTableError naming the missing file and the years available, or the first shape problem."""
    folder = directory or TAX_DIR
    path = folder / f"{int(year)}.json"
    if not path.exists():
        have = ", ".join(str(y) for y in available_years()) or "none"
        raise TaxTableError(
            f"no tax tables for {year}: add {path} (same shape as the latest year; years available: {have})"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal, parse_int=Decimal)
    except json.JSONDecodeError as exc:
        raise TaxTableError(f"{path}: not valid JSON ({exc})") from exc
    return parse_tables(raw, where=str(path))


def parse_tables(raw: Mapping, where: str = "tax tables") -> YearTables:
    """Check the shape of one year's data (numbers already Decimal) and build YearTables."""
    for section in ("year", "sources", *_SECTIONS):
        if section not in raw:
            raise TaxTableError(f"{where}: missing section {section!r}")
    sources = raw["sources"]
    for section in _SECTIONS:
        if not isinstance(sources.get(section), str) or not sources[section].strip():
            raise TaxTableError(f"{where}: sources.{section} must name the source of the figures")
    ordinary = {s: _brackets(raw["ordinary_brackets"], s, f"{where}: ordinary_brackets") for s in FILING_STATUSES}
    gains = {s: _brackets(raw["capital_gains"], s, f"{where}: capital_gains") for s in FILING_STATUSES}
    for status, brackets in gains.items():
        if [b.rate for b in brackets] != [Decimal("0"), Decimal("0.15"), Decimal("0.20")]:
            raise TaxTableError(f"{where}: capital_gains.{status} must be the 0%, 15% and 20% breakpoints")
    niit = raw["niit"]
    niit_rate = _amount(niit.get("rate"), f"{where}: niit.rate")
    niit_threshold = _per_status(niit.get("threshold"), f"{where}: niit.threshold")
    # IRC 1411(a)(2): a trust's threshold is where its highest bracket starts; keep the two figures in step.
    if niit_threshold[TRUST] != ordinary[TRUST][-1].start:
        raise TaxTableError(f"{where}: niit.threshold.trust must equal the start of the top trust bracket")
    table = raw["tax_table"]
    statuses = table.get("statuses")
    if not isinstance(statuses, list) or not set(statuses) <= set(FILING_STATUSES):
        raise TaxTableError(f"{where}: tax_table.statuses must list filing statuses")
    return YearTables(
        year=int(raw["year"]),
        ordinary=ordinary,
        capital_gains=gains,
        niit_rate=niit_rate,
        niit_threshold=niit_threshold,
        standard_deduction=_per_status(raw["standard_deduction"], f"{where}: standard_deduction"),
        capital_loss_limit=_per_status(raw["capital_loss_limit"], f"{where}: capital_loss_limit"),
        tax_table_below=_amount(table.get("below"), f"{where}: tax_table.below"),
        tax_table_statuses=frozenset(statuses),
        sources=dict(sources),
    )


def _amount(value, where: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise TaxTableError(f"{where}: expected a non-negative number, got {value!r}")
    return value


def _per_status(section, where: str) -> dict[str, Decimal]:
    if not isinstance(section, Mapping):
        raise TaxTableError(f"{where}: expected an object keyed by filing status")
    missing = [s for s in FILING_STATUSES if s not in section]
    if missing:
        raise TaxTableError(f"{where}: missing filing status {', '.join(missing)}")
    return {s: _amount(section[s], f"{where}.{s}") for s in FILING_STATUSES}


def _brackets(section, status: str, where: str) -> tuple[Bracket, ...]:
    if not isinstance(section, Mapping) or status not in section:
        raise TaxTableError(f"{where}: missing filing status {status!r}")
    rows = section[status]
    if not isinstance(rows, list) or not rows:
        raise TaxTableError(f"{where}.{status}: expected a list of [start, rate] pairs")
    out = []
    for row in rows:
        if not isinstance(row, list) or len(row) != 2:
            raise TaxTableError(f"{where}.{status}: each bracket is [start, rate], got {row!r}")
        start = _amount(row[0], f"{where}.{status}")
        rate = _amount(row[1], f"{where}.{status}")
        if rate > 1:
            raise TaxTableError(f"{where}.{status}: rate {rate} is not a fraction (0.22 for 22%)")
        if out and (start <= out[-1].start or rate < out[-1].rate):
            raise TaxTableError(f"{where}.{status}: starts must increase and rates must not fall")
        out.append(Bracket(start, rate))
    if out[0].start != 0:
        raise TaxTableError(f"{where}.{status}: the first bracket must start at 0")
    return tuple(out)

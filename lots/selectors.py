"""Reads for pages and the API: lots valued at the latest price, positions, account totals, realized
results (every sale through the engine's reports, or only the totals, from GROUP BY rows)."""

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.core.cache import cache
from django.db.models import DecimalField, OuterRef, Subquery, Sum
from django.db.models.functions import Round

from harvester.money import MONEY, to_cents
from lots import engine
from lots.engine.types import LONG, MONEY_ZERO, PERMANENT
from lots.models import Lot, Price, Security

ZERO = Decimal("0")


@dataclass(frozen=True)
class Quote:
    close: Decimal
    date: date


@dataclass(frozen=True)
class LotView:
    lot: Lot
    quote: Quote | None
    market_value: Decimal | None
    unrealized: Decimal | None
    unrealized_percent: Decimal | None
    term: str

    @property
    def basis_per_share(self) -> Decimal:
        return (self.lot.cost_basis / self.lot.quantity).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class PositionView:
    account_id: int
    account_name: str
    security: Security
    quantity: Decimal
    cost_basis: Decimal
    market_value: Decimal | None
    unrealized: Decimal | None
    lots: int


def latest_quotes(security_ids) -> dict[int, Quote]:
    """The most recent close of each security (one query)."""
    newest = Price.objects.filter(security_id=OuterRef("pk")).order_by("-date")
    rows = Security.objects.filter(pk__in=list(security_ids)).annotate(
        close=Subquery(newest.values("close")[:1]), close_date=Subquery(newest.values("date")[:1])
    )
    return {s.pk: Quote(s.close, s.close_date) for s in rows if s.close is not None}


def lot_value(quantity: Decimal, close: Decimal) -> Decimal:
    """A lot's market value: its shares at the close, rounded to the cent (ROUND_HALF_UP). The one rule;
    lot_value_sql and lot_value_expression are the same rule for a query that sums or writes values in the
    database (a numeric's round() rounds half away from zero, which is ROUND_HALF_UP)."""
    return to_cents(quantity * close)


def lot_value_sql(quantity: str, close: str) -> str:
    """lot_value in SQL, over two column expressions (NULL when the close is)."""
    return f"round({quantity} * {close}, 2)"


def lot_value_expression(quantity, close):
    """lot_value as an ORM expression (NULL when the close is)."""
    return Round(quantity * close, 2, output_field=DecimalField(**MONEY))


def lots_valued(lots, *, as_of: date) -> list[LotView]:
    """Each lot with market value, unrealized gain or loss and its term if sold on `as_of`."""
    lots = list(lots)
    quotes = latest_quotes({lot.security_id for lot in lots})
    views = []
    for lot in lots:
        quote = quotes.get(lot.security_id)
        value = lot_value(lot.quantity, quote.close) if quote else None
        unrealized = value - lot.cost_basis if value is not None else None
        percent = (
            (unrealized / lot.cost_basis * 100).quantize(Decimal("0.01"))
            if unrealized is not None and lot.cost_basis
            else None
        )
        views.append(
            LotView(lot, quote, value, unrealized, percent, engine.holding_term(lot.holding_period_start, as_of))
        )
    return views


def household_lots(household, *, as_of: date, account_id: int | None = None) -> list[LotView]:
    qs = Lot.objects.filter(account__household=household).select_related("account", "security", "origin")
    if account_id is not None:
        qs = qs.filter(account_id=account_id)
    return lots_valued(qs.order_by("account__name", "security__ticker", "acquired_date", "id"), as_of=as_of)


def positions(lot_views: list[LotView]) -> list[PositionView]:
    """Lots summed per account and security; a position has no value if any lot lacks a price."""
    grouped: dict[tuple[int, int], list[LotView]] = defaultdict(list)
    for view in lot_views:
        grouped[(view.lot.account_id, view.lot.security_id)].append(view)
    result = []
    for views in grouped.values():
        first = views[0].lot
        priced = all(v.market_value is not None for v in views)
        value = sum((v.market_value for v in views), ZERO) if priced else None
        basis = sum((v.lot.cost_basis for v in views), ZERO)
        result.append(
            PositionView(
                account_id=first.account_id,
                account_name=first.account.name,
                security=first.security,
                quantity=sum((v.lot.quantity for v in views), ZERO),
                cost_basis=basis,
                market_value=value,
                unrealized=value - basis if value is not None else None,
                lots=len(views),
            )
        )
    return sorted(result, key=lambda p: (p.account_name, p.security.ticker))


def account_totals(position_views: list[PositionView]) -> dict[int, dict[str, Decimal | None]]:
    totals: dict[int, dict[str, Decimal | None]] = {}
    for p in position_views:
        t = totals.setdefault(p.account_id, {"market_value": ZERO, "cost_basis": ZERO, "unrealized": ZERO})
        t["cost_basis"] += p.cost_basis
        for key in ("market_value", "unrealized"):
            value = getattr(p, key)
            t[key] = None if value is None or t[key] is None else t[key] + value
    return totals


@dataclass(frozen=True)
class OwnerRealized:
    """One owner group's (an account's owners, e.g. "Alex & Jordan" for a joint account) realized results."""

    label: str
    account_ids: tuple[int, ...]
    result: "engine.Result"
    totals: dict
    rows: list[dict]


def owner_label(account) -> str:
    return " & ".join(sorted(o.name for o in account.owners.all()))


def realized(household, *, year: int | None = None) -> list[OwnerRealized]:
    """Realized gains and losses per owner group, from the stored ledger, through the engine's reports.

    Totals cover every year; `rows` (Form 8949) and the result's sales and adjustments only `year` if given.
    """
    from lots import convert
    from lots.models import Disposal, WashSaleAdjustment

    accounts = list(household.accounts.prefetch_related("owners").order_by("name"))
    disposals = list(
        Disposal.objects.filter(account__household=household).select_related("security").order_by("date_sold", "id")
    )
    adjustments = list(
        WashSaleAdjustment.objects.filter(disposal__account__household=household)
        .select_related("disposal__security", "replacement__security")
        .order_by("disposal__date_sold", "id")
    )
    groups: dict[str, list] = defaultdict(list)
    for account in accounts:
        groups[owner_label(account)].append(account.pk)
    out = []
    for label, ids in groups.items():
        ds = [d for d in disposals if d.account_id in ids]
        adjs = [a for a in adjustments if a.disposal.account_id in ids]
        if not ds:
            continue
        full = convert.stored_result(ds, adjs)
        if year is not None:
            shown = convert.stored_result(
                [d for d in ds if d.tax_year == year], [a for a in adjs if a.disposal.tax_year == year]
            )
        else:
            shown = full
        names = {str(a.pk): a.name for a in accounts}
        rows = engine.form8949_rows(shown)
        for row in rows:
            row["account_name"] = names.get(row["account"], row["account"])
        out.append(OwnerRealized(label, tuple(ids), shown, engine.totals(full), rows))
    return out


# ---- realized totals without the sales: what engine.totals gives, from GROUP BY rows (the API's realized/)

TOTAL_KEYS = ("proceeds", "cost_basis", "wash_sale_disallowed", "short_term_gain_loss", "long_term_gain_loss",
              "deferred", "permanent")


class SaleCell(NamedTuple):
    """The sums of one account's reportable disposals of one tax year and term (one GROUP BY row)."""

    account_id: int
    tax_year: int
    term: str
    proceeds: Decimal
    cost_basis: Decimal
    disallowed: Decimal
    gain_loss: Decimal


class WashCell(NamedTuple):
    """The sum of the wash-sale adjustments of one account's loss sales of one calendar year (the year of
    the sale, as engine.totals counts them) and kind (deferred or permanent)."""

    account_id: int
    year: int
    kind: str
    disallowed: Decimal


@dataclass(frozen=True)
class RealizedCells:
    sales: tuple[SaleCell, ...]
    wash: tuple[WashCell, ...]


@dataclass(frozen=True)
class OwnerTotals:
    """One owner group's realized totals by tax year: OwnerRealized.totals without the sales."""

    label: str
    account_ids: tuple[int, ...]
    totals: dict[int, dict[str, Decimal]]


def totals_from_cells(sales: Iterable[SaleCell], wash: Iterable[WashCell]) -> dict[int, dict[str, Decimal]]:
    """engine.totals of the disposals and adjustments that the cells sum up (pure): the same keys, the same
    rules (reportable sales by tax year and term; every adjustment by the year of its sale, permanent or
    deferred) and the same values, since sums of cents are exact in any order."""
    out: dict[int, dict[str, Decimal]] = {}
    for c in sales:
        t = out.setdefault(c.tax_year, dict.fromkeys(TOTAL_KEYS, MONEY_ZERO))
        t["proceeds"] += c.proceeds
        t["cost_basis"] += c.cost_basis
        t["wash_sale_disallowed"] += c.disallowed
        t["long_term_gain_loss" if c.term == LONG else "short_term_gain_loss"] += c.gain_loss
    for c in wash:
        t = out.setdefault(c.year, dict.fromkeys(TOTAL_KEYS, MONEY_ZERO))
        t["permanent" if c.kind == PERMANENT else "deferred"] += c.disallowed
    return dict(sorted(out.items()))


def realized_cells(account_ids: list[int]) -> RealizedCells:
    """The accounts' realized sums: one GROUP BY (account, tax year, term) over the reportable disposals and
    one GROUP BY (account, year sold, kind) over the wash-sale adjustments. Two queries, whatever the history."""
    from lots.models import Disposal, WashSaleAdjustment

    sales = (
        Disposal.objects.filter(account_id__in=account_ids, reportable=True)
        .values("account_id", "tax_year", "term")
        .annotate(p=Sum("proceeds"), b=Sum("cost_basis"), w=Sum("disallowed"), g=Sum("gain_loss"))
        .order_by()
    )
    wash = (
        WashSaleAdjustment.objects.filter(disposal__account_id__in=account_ids)
        .values("disposal__account_id", "disposal__date_sold__year", "kind")
        .annotate(d=Sum("disallowed"))
        .order_by()
    )
    return RealizedCells(
        tuple(SaleCell(r["account_id"], r["tax_year"], r["term"], r["p"], r["b"], r["w"], r["g"]) for r in sales),
        tuple(WashCell(r["disposal__account_id"], int(r["disposal__date_sold__year"]), r["kind"], r["d"]) for r in wash),
    )


REALIZED_CACHE_SECONDS = 600


def _cached_cells(household_id: int, account_ids: list[int]) -> RealizedCells:
    """realized_cells, cached under the dashboard's stamp of the stored ledger (harvester.dashboard
    .ledger_stamp: it moves with every ledger recompute), so a repeat call costs one small query."""
    from harvester.dashboard import ledger_stamp

    raw = repr((household_id, tuple(sorted(account_ids)), ledger_stamp([household_id]))).encode()
    key = "lots:realized:" + hashlib.sha256(raw).hexdigest()
    cells = cache.get(key)
    if cells is None:
        cells = realized_cells(account_ids)
        cache.set(key, cells, REALIZED_CACHE_SECONDS)
    return cells


def realized_totals(household) -> list[OwnerTotals]:
    """The `totals` of realized(household), per owner group in the same order, without reading the sales:
    from realized_cells (cached under the ledger stamp). Owner groups and labels are read fresh. A group
    without reportable sales or adjustments is left out (realized() has it with no totals)."""
    accounts = list(household.accounts.prefetch_related("owners").order_by("name", "id"))
    cells = _cached_cells(household.pk, [a.pk for a in accounts])
    groups: dict[str, list[int]] = defaultdict(list)
    for account in accounts:
        groups[owner_label(account)].append(account.pk)
    out = []
    for label, ids in groups.items():
        members = set(ids)
        totals = totals_from_cells(
            (c for c in cells.sales if c.account_id in members), (c for c in cells.wash if c.account_id in members)
        )
        if totals:
            out.append(OwnerTotals(label, tuple(ids), totals))
    return out


def tax_years(household) -> list[int]:
    from lots.models import Disposal

    return sorted(
        set(Disposal.objects.filter(account__household=household).values_list("tax_year", flat=True)), reverse=True
    )

"""Reads for pages and the API: lots valued at the latest price, positions, account totals."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import OuterRef, Subquery

from harvester.money import to_cents
from lots import engine
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


def lots_valued(lots, *, as_of: date) -> list[LotView]:
    """Each lot with market value, unrealized gain or loss and its term if sold on `as_of`."""
    lots = list(lots)
    quotes = latest_quotes({lot.security_id for lot in lots})
    views = []
    for lot in lots:
        quote = quotes.get(lot.security_id)
        value = to_cents(lot.quantity * quote.close) if quote else None
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


def tax_years(household) -> list[int]:
    from lots.models import Disposal

    return sorted(
        set(Disposal.objects.filter(account__household=household).values_list("tax_year", flat=True)), reverse=True
    )

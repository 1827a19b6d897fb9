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

"""Daily closes: where they come from (providers), how they are stored, and when one is too old to trust.

    is_stale(price_date, as_of, max_trading_days) -> bool          # pure
    stale_message(ticker, price_date, as_of, max_trading_days=None) -> str | None
    prices_import_file(text=..., name=..., actor=..., household=...)   # a CSV upload (csv, Yahoo, Stooq)
    prices_fetch(provider=get_provider("synthetic"), tickers=..., start=..., end=..., actor=...)

A provider gives closes for tickers and a date range. The only one that needs no network is the demo's
SyntheticProvider: seeded random walks (accounts.demo.synthetic_closes), stored with source="synthetic"
so nobody mistakes them for market data. A synthetic close never replaces a stored close from elsewhere;
a close from a file replaces whatever was stored for that day.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import transaction

from harvester.audit import audit_record
from lots.importers.prices import parse_prices
from lots.schedule import trading_days_after

SYNTHETIC = "synthetic"
DEFAULT_STALE_TRADING_DAYS = 3
PRICE_PLACES = Decimal("0.000001")


# ---- staleness (pure) --------------------------------------------------------------------------------------
def is_stale(price_date: date | None, as_of: date, max_trading_days: int) -> bool:
    """True when the close of `price_date` is more than `max_trading_days` NYSE trading days older than `as_of`
    (counting the trading days after price_date up to and including as_of). No price at all is stale.
    Friday's close read the next Wednesday is 3 trading days old (Mon, Tue, Wed): fresh at the default 3."""
    if price_date is None:
        return True
    return trading_days_after(price_date, as_of) > max_trading_days


def stale_trading_days() -> int:
    """The configured limit (settings.PRICE_STALE_TRADING_DAYS, default 3)."""
    return int(getattr(settings, "PRICE_STALE_TRADING_DAYS", DEFAULT_STALE_TRADING_DAYS))


def stale_message(ticker: str, price_date: date | None, as_of: date, max_trading_days: int | None = None) -> str | None:
    """None when the price is fresh enough; otherwise the sentence to show when refusing to use it."""
    limit = stale_trading_days() if max_trading_days is None else max_trading_days
    if price_date is None:
        return f"{ticker}: no close on record. Import prices before scanning."
    if not is_stale(price_date, as_of, limit):
        return None
    age = trading_days_after(price_date, as_of)
    return (f"{ticker}: the latest close is from {price_date:%Y-%m-%d}, {age} trading days before {as_of:%Y-%m-%d} "
            f"(the limit is {limit}). Import fresh prices before scanning.")


# ---- providers --------------------------------------------------------------------------------------------
class PriceProvider(Protocol):
    """A source of daily closes. `source` labels the stored rows (Price.source)."""

    source: str

    def closes(self, tickers: Iterable[str], start: date, end: date) -> dict[str, dict[date, Decimal]]:
        """ticker -> {date: close} for the tickers it knows, trading days in [start, end]."""
        ...


class SyntheticProvider:
    """Demo only: seeded random walks, the same ones the demo seeds (accounts.demo.synthetic_closes)."""

    source = SYNTHETIC

    def closes(self, tickers: Iterable[str], start: date, end: date) -> dict[str, dict[date, Decimal]]:
        from accounts.demo import PRICE_SHAPES, synthetic_closes

        return {t: synthetic_closes(t, start, end) for t in tickers if t in PRICE_SHAPES}


PROVIDERS: dict[str, type] = {SYNTHETIC: SyntheticProvider}


def get_provider(name: str) -> PriceProvider:
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise ValueError(f"unknown price provider {name!r} (known: {', '.join(PROVIDERS)})") from None


# ---- storing ----------------------------------------------------------------------------------------------
@dataclass
class PriceImportResult:
    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # synthetic closes not written over real ones
    skipped_rows: int = 0
    unknown_tickers: dict[str, int] = field(default_factory=dict)
    first_date: date | None = None
    last_date: date | None = None

    def as_dict(self) -> dict:
        return {
            "source": self.source, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "kept": self.kept, "skipped_rows": self.skipped_rows, "unknown_tickers": self.unknown_tickers,
            "first_date": self.first_date.isoformat() if self.first_date else None,
            "last_date": self.last_date.isoformat() if self.last_date else None,
        }


def _store(closes: dict[str, dict[date, Decimal]], *, source: str, result: PriceImportResult) -> PriceImportResult:
    from lots.models import Price, Security

    securities = dict(Security.objects.filter(ticker__in=list(closes)).values_list("ticker", "id"))
    for ticker, series in closes.items():
        if ticker not in securities:
            result.unknown_tickers[ticker] = result.unknown_tickers.get(ticker, 0) + len(series)
    wanted = {(securities[t], d): c.quantize(PRICE_PLACES) for t, s in closes.items() if t in securities
              for d, c in s.items()}
    if not wanted:
        return result
    days = [d for _, d in wanted]
    existing = {
        (sid, d): (close, src)
        for sid, d, close, src in Price.objects.filter(
            security_id__in={sid for sid, _ in wanted}, date__gte=min(days), date__lte=max(days)
        ).values_list("security_id", "date", "close", "source")
    }
    create, update = [], []
    for (sid, day), close in wanted.items():
        old = existing.get((sid, day))
        if old is None:
            create.append(Price(security_id=sid, date=day, close=close, source=source))
        elif old == (close, source):
            result.unchanged += 1
        elif source == SYNTHETIC and old[1] != SYNTHETIC:
            result.kept += 1
        else:
            update.append(Price(security_id=sid, date=day, close=close, source=source))
    Price.objects.bulk_create(create, batch_size=2000)
    if update:
        Price.objects.bulk_create(update, batch_size=2000, update_conflicts=True,
                                  unique_fields=["security", "date"], update_fields=["close", "source"])
    result.created, result.updated = len(create), len(update)
    result.first_date, result.last_date = min(days), max(days)
    return result


@transaction.atomic
def prices_import_file(*, text: str, name: str, actor, household=None, ticker: str | None = None,
                       request=None) -> PriceImportResult:
    """Store the closes of a price CSV (raises lots.importers.ImportFileError, nothing stored, on a bad row).
    Closes of tickers not in the security list are not stored and are reported. Audited."""
    parsed = parse_prices(text, name=name, ticker=ticker)
    series: dict[str, dict[date, Decimal]] = {}
    for c in parsed.closes:
        series.setdefault(c.ticker, {})[c.date] = c.close
    result = _store(series, source=parsed.format, result=PriceImportResult(parsed.format,
                                                                           skipped_rows=parsed.skipped))
    audit_record(action="prices.import", actor=actor, household=household, summary=(
        f"Imported prices from {name}: {result.created} new, {result.updated} replaced"), after=result.as_dict(),
        request=request)
    return result


@transaction.atomic
def prices_fetch(*, provider: PriceProvider, tickers: Iterable[str], start: date, end: date, actor=None,
                 household=None) -> PriceImportResult:
    """Store a provider's closes for `tickers` over [start, end]. Audited."""
    closes = provider.closes(list(tickers), start, end)
    result = _store(closes, source=provider.source, result=PriceImportResult(provider.source))
    audit_record(action="prices.fetch", actor=actor, household=household, summary=(
        f"{provider.source} prices {start} to {end}: {result.created} new, {result.updated} replaced"),
        after=result.as_dict())
    return result


@dataclass(frozen=True)
class PriceStatus:
    ticker: str
    name: str
    close: Decimal | None
    date: date | None
    source: str
    message: str | None  # None: fresh


def price_statuses(security_ids: Iterable[int], *, as_of: date) -> list[PriceStatus]:
    """The latest close of each security with its staleness message (a selector; two queries)."""
    from django.db.models import OuterRef, Subquery

    from lots.models import Price, Security

    newest = Price.objects.filter(security_id=OuterRef("pk")).order_by("-date")
    rows = Security.objects.filter(pk__in=list(security_ids)).annotate(
        close=Subquery(newest.values("close")[:1]), close_date=Subquery(newest.values("date")[:1]),
        close_source=Subquery(newest.values("source")[:1]),
    ).order_by("ticker")
    limit = stale_trading_days()
    return [PriceStatus(s.ticker, s.name, s.close, s.close_date, s.close_source or "",
                        stale_message(s.ticker, s.close_date, as_of, limit)) for s in rows]

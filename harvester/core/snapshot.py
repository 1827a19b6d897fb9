"""The scan's input: one household as plain values (what the Django side reads, in one object).

Everything the harvest scan looks at is here and nothing else: no database, no clock. The convert
layer builds a HouseholdSnapshot from the rows; tests and the benchmark build one by hand.
Money is Decimal (from strings), dates are datetime.date, ids are strings.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import NamedTuple

from .tax import TaxProfile

TAXABLE = "taxable"
TAX_ADVANTAGED_KINDS = frozenset({"ira", "roth", "401k", "hsa"})  # as lots.engine: 401(k)/HSA like IRAs
ACCOUNT_KINDS = frozenset({TAXABLE}) | TAX_ADVANTAGED_KINDS

HOUSEHOLD = "household"
TAXPAYER_UNIT = "taxpayer_unit"
SCOPES = (HOUSEHOLD, TAXPAYER_UNIT)

CONTRIBUTION = "contribution"
DRIP = "drip"
PAYROLL = "payroll"
PAUSABLE_KINDS = frozenset({CONTRIBUTION, DRIP, PAYROLL})


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """An account: `kind` as the engine knows it (taxable, ira, roth, 401k, hsa); `owners` the owner ids
    (a joint account has two); `taxpayer_unit` the wash-sale family whose trades can wash each other."""

    id: str
    name: str
    kind: str
    owners: tuple[str, ...]
    taxpayer_unit: str

    @property
    def taxable(self) -> bool:
        return self.kind == TAXABLE


@dataclass(frozen=True, slots=True)
class OwnerInfo:
    """A person or a trust. `profile` is the marginal tax profile of their return for the scan's year
    (None: unknown, nothing of theirs is valued). `tax_return` names the return their income is on:
    spouses filing jointly share one (give both the same id and the same profile); empty = the owner's id."""

    id: str
    name: str
    taxpayer_unit: str
    profile: TaxProfile | None = None
    tax_return: str = ""

    @property
    def return_id(self) -> str:
        return self.tax_return or self.id


class HeldLot(NamedTuple):
    """Shares held: `basis` is the adjusted basis of the whole lot (wash-sale adjustments included);
    `holding_start` the holding-period start (tacked after a wash sale; None: `acquired`); `origin` the
    buy trade a sale names to relieve this lot by specific identification (lots.engine OpenLot.buy_trade;
    empty: `lot_id`); `from_harvest`: bought as a harvest replacement (a switch-back candidate).

    A NamedTuple rather than a frozen dataclass, like the scan's outputs: a firm-wide scan builds one per
    open lot (a million), and a row read in this field order becomes a HeldLot with `HeldLot._make(row)`."""

    lot_id: str
    account: str
    ticker: str
    quantity: Decimal
    basis: Decimal
    acquired: date
    holding_start: date | None = None
    origin: str = ""
    from_harvest: bool = False

    @property
    def origin_id(self) -> str:
        return self.origin or self.lot_id


@dataclass(frozen=True, slots=True)
class Quote:
    """The latest close of a ticker and its date."""

    close: Decimal
    date: date


@dataclass(frozen=True, slots=True)
class Acquisition:
    """A purchase, dividend reinvestment or transfer in (anywhere in the household, IRAs included)."""

    account: str
    ticker: str
    date: date
    quantity: Decimal
    trade_id: str


@dataclass(frozen=True, slots=True)
class LossSale:
    """A sale at a loss (`loss` positive) whose loss a purchase within 30 days could still wash."""

    account: str
    ticker: str
    date: date
    quantity: Decimal
    loss: Decimal
    trade_id: str


@dataclass(frozen=True, slots=True)
class ScheduledBuy:
    """One dated occurrence of a scheduled purchase (contribution, drip, payroll). `pausable` False means
    the household cannot stop it (a guard failure rather than a required action)."""

    account: str
    ticker: str
    date: date
    kind: str
    schedule_id: str
    pausable: bool = True


@dataclass(frozen=True, slots=True)
class Policy:
    """The household's harvest policy, as the scan uses it.

    A candidate's loss lots must reach `min_loss_amount` dollars AND `min_loss_percent` percent of their
    basis; its tax value must exceed the trading cost times `benefit_cost_margin`. Trading cost per trade
    (the sell and the buy) = amount * `spread_bps` / 10,000 + `commission`. `scope` is "household"
    (conservative: every account guards every other) or "taxpayer_unit" (the legal wash-sale family).
    A switch-back may realize a net gain below `switchback_gain_limit`; with `switchback_accept_long_term`
    a long-term gain does not count against the limit. Prices older than `max_price_age_days` trading
    days (weekdays) before the scan date are refused."""

    min_loss_amount: Decimal = Decimal("1000")
    min_loss_percent: Decimal = Decimal("5")
    benefit_cost_margin: Decimal = Decimal("2")
    scope: str = HOUSEHOLD
    switchback_gain_limit: Decimal = Decimal("250")
    switchback_accept_long_term: bool = False
    spread_bps: Decimal = Decimal("2")
    commission: Decimal = Decimal("0")
    max_price_age_days: int = 3


@dataclass(frozen=True, slots=True)
class HouseholdSnapshot:
    """One household as of a scan. `lots` are the open lots of every account (IRAs too: the scan needs
    them to tell whether a recent purchase is still held); `identity` maps a ticker to its identity group
    (missing: its own group); `asset_classes` a ticker to its asset class; `chains` an asset class to its
    ordered replacement ETFs (primary first); `exclusions` tickers the household never buys as a
    replacement; `target_allocation` asset class -> percent (for the explanation only).
    `acquisitions` and `loss_sales` should cover at least the 30 days before the scan date and
    `scheduled` the 30 days after; older or later rows are ignored."""

    household: str
    accounts: tuple[AccountInfo, ...]
    owners: tuple[OwnerInfo, ...]
    lots: tuple[HeldLot, ...]
    prices: Mapping[str, Quote]
    identity: Mapping[str, str] = field(default_factory=dict)
    asset_classes: Mapping[str, str] = field(default_factory=dict)
    acquisitions: tuple[Acquisition, ...] = ()
    loss_sales: tuple[LossSale, ...] = ()
    scheduled: tuple[ScheduledBuy, ...] = ()
    policy: Policy = field(default_factory=Policy)
    chains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    exclusions: frozenset[str] = frozenset()
    target_allocation: Mapping[str, Decimal] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)  # ticker -> fund name, for the explanation


class SnapshotError(ValueError):
    """A snapshot the scan cannot read (unknown account, duplicate id, bad policy)."""


def check_snapshot(snapshot: HouseholdSnapshot) -> None:
    """Raise SnapshotError for what would make the scan wrong rather than merely cautious."""
    check_policy(snapshot.policy)
    _check_rows(snapshot)


@lru_cache(maxsize=256)
def check_policy(policy: Policy) -> None:
    """Raise SnapshotError for a policy the scan cannot apply (cached: households share policies)."""
    if policy.scope not in SCOPES:
        raise SnapshotError(f"policy scope {policy.scope!r} is not one of {', '.join(SCOPES)}")
    for name in ("min_loss_amount", "min_loss_percent", "benefit_cost_margin", "spread_bps", "commission",
                 "switchback_gain_limit"):
        value = getattr(policy, name)
        if type(value) is not Decimal or not value.is_finite() or value < 0:
            raise SnapshotError(f"policy {name} must be a non-negative Decimal, not {value!r}")
    if policy.max_price_age_days < 0:
        raise SnapshotError("policy max_price_age_days must not be negative")


_LOT_ID, _ACCOUNT, _QUANTITY = attrgetter("lot_id"), attrgetter("account"), attrgetter("quantity")


def _check_rows(snapshot: HouseholdSnapshot) -> None:
    accounts = {}
    for account in snapshot.accounts:
        if account.id in accounts:
            raise SnapshotError(f"duplicate account {account.id!r}")
        if account.kind not in ACCOUNT_KINDS:
            raise SnapshotError(f"account {account.id!r}: unknown kind {account.kind!r}")
        if not account.taxpayer_unit:
            raise SnapshotError(f"account {account.id!r}: empty taxpayer unit")
        accounts[account.id] = account
    owners = {o.id for o in snapshot.owners}
    for account in snapshot.accounts:
        for owner in account.owners:
            if owner not in owners:
                raise SnapshotError(f"account {account.id!r}: unknown owner {owner!r}")
    lots = snapshot.lots
    # Whole-collection checks first (C-level passes); the loop below only runs to name the offending lot.
    if lots and (len(set(map(_LOT_ID, lots))) != len(lots) or not set(map(_ACCOUNT, lots)) <= accounts.keys()
                 or min(map(_QUANTITY, lots)) <= 0):
        seen = set()
        for lot in lots:
            if lot.account not in accounts:
                raise SnapshotError(f"lot {lot.lot_id!r}: unknown account {lot.account!r}")
            if lot.lot_id in seen:
                raise SnapshotError(f"duplicate lot id {lot.lot_id!r}")
            seen.add(lot.lot_id)
            if lot.quantity <= 0:
                raise SnapshotError(f"lot {lot.lot_id!r}: quantity must be positive")
    for rows in (snapshot.acquisitions, snapshot.loss_sales, snapshot.scheduled):
        for row in rows:
            if row.account not in accounts:
                raise SnapshotError(f"{type(row).__name__} {row!r}: unknown account {row.account!r}")

"""The scan's output: proposals (harvest or switch back), skipped candidates with reasons, refusals.

Money in a proposal is rounded to cents (ROUND_HALF_UP); quantities are exact. `as_dict()` gives the
JSON-ready shape the proposal model stores (lots, checks, required_actions, explanation).
The output rows (proposals, lots, checks, actions, skips) are NamedTuples, as the engine's outputs are:
immutable, named, and about twenty times cheaper to build than a frozen dataclass, which a firm-wide
scan of a million lots feels.
"""

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

HARVEST = "harvest"
SWITCH_BACK = "switch_back"

# Check names, in the order of PRODUCT.md "Harvesting" > Guard.
RECENT_PURCHASES = "recent_purchases"
SCHEDULED_PURCHASES = "scheduled_purchases"
NOT_IDENTICAL = "not_identical"
REPLACEMENT_NOT_SOLD_AT_LOSS = "replacement_not_sold_at_loss"
SAME_ASSET_CLASS = "same_asset_class"
CHECK_NAMES = (RECENT_PURCHASES, SCHEDULED_PURCHASES, NOT_IDENTICAL, REPLACEMENT_NOT_SOLD_AT_LOSS, SAME_ASSET_CLASS)
CHECK_TITLES = {
    RECENT_PURCHASES: "No recent purchase that would wash the loss",
    SCHEDULED_PURCHASES: "No scheduled purchase in the next 30 days",
    NOT_IDENTICAL: "Replacement is not substantially identical",
    REPLACEMENT_NOT_SOLD_AT_LOSS: "Replacement was not sold at a loss in the last 30 days",
    SAME_ASSET_CLASS: "Replacement is in the same asset class",
}

# Skip reasons.
BELOW_THRESHOLD = "below_threshold"
COST_EXCEEDS_VALUE = "cost_exceeds_value"
STALE_PRICE = "stale_price"
GUARD_FAILED = "guard_failed"
NO_CLEAN_REPLACEMENT = "no_clean_replacement"
NO_TAX_PROFILE = "no_tax_profile"
NO_TAX_TABLES = "no_tax_tables"
WASHED_BY_THIS_SCAN = "washed_by_this_scan"
SWITCHBACK_GAIN_OVER_LIMIT = "switchback_gain_over_limit"

PAUSE_SCHEDULE = "pause_schedule"


class ProposalLot(NamedTuple):
    """One lot sold by specific identification: sell `quantity` of it at `price`. `origin` is the buy
    trade to name on the sell order (lots.engine Trade.lot_id). `loss` positive = a loss (a switch-back
    can sell lots at a gain: negative). `term` is "short" or "long" on the sale date."""

    lot_id: str
    origin: str
    quantity: Decimal
    basis: Decimal
    price: Decimal
    proceeds: Decimal
    loss: Decimal
    term: str
    acquired: date


class SellOrder(NamedTuple):
    """One sell to execute, in order: `quantity` shares of the lot bought by trade `origin` (specific
    identification: lots.engine Trade.lot_id = origin), covering the proposal lots `lot_ids`."""

    origin: str
    quantity: Decimal
    lot_ids: tuple[str, ...]


class Check(NamedTuple):
    """One guard check: `name` (see CHECK_NAMES), whether it passed, and why, in plain words."""

    name: str
    passed: bool
    detail: str

    @property
    def title(self) -> str:
        return CHECK_TITLES.get(self.name, self.name)


class RequiredAction(NamedTuple):
    """Something the household must do for the proposal to hold, e.g. pause a DRIP until a date."""

    kind: str
    text: str
    until: date | None
    account: str
    ticker: str
    schedule_id: str = ""


class Explanation(NamedTuple):
    """Why these lots, why this account, why this replacement, which checks passed, what it is worth."""

    why_lots: str
    why_account: str
    why_replacement: str
    checks: str
    tax: str


class Proposal(NamedTuple):
    """Sell `lots` of `sell_ticker` in `account`, buy `buy_amount` dollars of `buy_ticker` there.

    loss_short/loss_long: the estimated loss by term at `price` (negative: a gain, switch-backs only);
    tax_value: what it changes in this year's tax (harvester.core.tax.harvest_value, exact rates);
    trading_cost: the spread and commissions of both trades. `rank` orders proposals by value (1 first).
    `fingerprint` identifies what is proposed (account, ticker, sorted lot ids, buy ticker).
    `sell_orders` is the order to execute the sells in: a lot bought in the last 30 days goes first, so
    that it is no longer held when the older lots are sold and cannot count as their replacement."""

    kind: str
    household: str
    account: str
    account_name: str
    owners: tuple[str, ...]
    sell_ticker: str
    lots: tuple[ProposalLot, ...]
    sell_orders: tuple[SellOrder, ...]
    sell_quantity: Decimal
    price: Decimal
    price_date: date
    proceeds: Decimal
    basis: Decimal
    loss_short: Decimal
    loss_long: Decimal
    tax_value: Decimal
    trading_cost: Decimal
    buy_ticker: str
    buy_amount: Decimal
    checks: tuple[Check, ...]
    required_actions: tuple[RequiredAction, ...]
    explanation: Explanation
    fingerprint: str
    rank: int
    sale_date: date

    @property
    def loss(self) -> Decimal:
        return self.loss_short + self.loss_long

    def as_dict(self) -> dict:
        """JSON-ready (Decimal and dates as strings), in the shape of the proposal model's fields."""
        return {
            "kind": self.kind,
            "household": self.household,
            "account": self.account,
            "owners": list(self.owners),
            "sell_ticker": self.sell_ticker,
            "lots": [
                {"lot": lot.lot_id, "origin": lot.origin, "quantity": str(lot.quantity), "basis": str(lot.basis),
                 "price": str(lot.price), "proceeds": str(lot.proceeds), "loss": str(lot.loss), "term": lot.term,
                 "acquired": lot.acquired.isoformat()}
                for lot in self.lots
            ],
            "sell_orders": [{"origin": o.origin, "quantity": str(o.quantity), "lots": list(o.lot_ids)}
                            for o in self.sell_orders],
            "sell_quantity": str(self.sell_quantity),
            "price": str(self.price),
            "price_date": self.price_date.isoformat(),
            "proceeds": str(self.proceeds),
            "cost_basis": str(self.basis),
            "loss_short_term": str(self.loss_short),
            "loss_long_term": str(self.loss_long),
            "tax_value": str(self.tax_value),
            "trading_cost": str(self.trading_cost),
            "buy_ticker": self.buy_ticker,
            "buy_amount": str(self.buy_amount),
            "checks": [{"name": c.name, "title": c.title, "passed": c.passed, "detail": c.detail}
                       for c in self.checks],
            "required_actions": [
                {"kind": a.kind, "text": a.text, "until": a.until.isoformat() if a.until else None,
                 "account": a.account, "ticker": a.ticker, "schedule": a.schedule_id}
                for a in self.required_actions
            ],
            "explanation": {
                "why_lots": self.explanation.why_lots,
                "why_account": self.explanation.why_account,
                "why_replacement": self.explanation.why_replacement,
                "checks": self.explanation.checks,
                "tax": self.explanation.tax,
            },
            "fingerprint": self.fingerprint,
            "rank": self.rank,
            "sale_date": self.sale_date.isoformat(),
        }


class Skipped(NamedTuple):
    """A position considered and not proposed: `reason` is one of the skip reasons above, `detail` plain
    words. `loss` is the estimated loss of its loss lots (None when no price could be used)."""

    kind: str
    account: str
    ticker: str
    reason: str
    detail: str
    loss: Decimal | None = None


class ScanRefusal(NamedTuple):
    """A ticker the scan would not price: no close, or a close too old (or dated after the scan)."""

    ticker: str
    reason: str
    price_date: date | None


@dataclass(frozen=True, slots=True)
class ScanResult:
    household: str
    as_of: date
    proposals: tuple[Proposal, ...]
    skipped: tuple[Skipped, ...]
    refusals: tuple[ScanRefusal, ...]


def fingerprint(account: str, sell_ticker: str, lot_ids, buy_ticker: str) -> str:
    """A stable id of what is proposed: sha256 of "account|ticker|sorted lot ids|buy ticker" (64 hex
    characters, the model's field size). The same trades give the same fingerprint in every scan, so a
    re-run finds the open proposal instead of creating a second one."""
    text = f"{account}|{sell_ticker}|{','.join(sorted(lot_ids))}|{buy_ticker}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

"""The engine's values: immutable inputs (Account, Trade) and outputs (Sale, Adjustment, OpenLot, Result).

Money is Decimal in dollars with two places (see lots/engine/money.py for where it is rounded);
quantities are exact Decimals (fractional shares as the broker reports them, never rounded).

Inputs and the Result are frozen dataclasses. The output rows (Sale, Adjustment, OpenLot) are
NamedTuples, the other immutable value type of STYLE.md: the engine makes one or two of them per trade,
and on Python 3.11 a frozen dataclass costs about 5 us to build (1.5 us even when its slots are set
directly) against 0.2 us for a NamedTuple, a quarter of the engine's time budget at 1M trades.
Read them by field name; like any tuple they also unpack and compare by value.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

TAXABLE = "taxable"
# Accounts whose sales are not reportable and whose purchases disallow a loss for good (Rev. Rul. 2008-5).
# PRODUCT.md: 401(k) and HSA are not settled law; they are treated like IRAs (the conservative choice).
TAX_ADVANTAGED_KINDS = frozenset({"ira", "roth", "401k", "hsa"})
ACCOUNT_KINDS = frozenset({TAXABLE}) | TAX_ADVANTAGED_KINDS

BUY = "buy"
SELL = "sell"
REINVEST = "reinvest"
TRANSFER_IN = "transfer_in"
ACTIONS = frozenset({BUY, SELL, REINVEST, TRANSFER_IN})
ACQUISITIONS = frozenset({BUY, REINVEST, TRANSFER_IN})

FIFO = "fifo"
HIFO = "hifo"
SPECIFIC = "specific"
LOT_METHODS = (FIFO, HIFO, SPECIFIC)

SHORT = "short"
LONG = "long"
WASH_CODE = "W"
DEFERRED = "deferred"
PERMANENT = "permanent"

ZERO = Decimal(0)
MONEY_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Account:
    """An account of the household. `taxpayer` names the taxpayer unit (the wash-sale family):
    a person, their spouse, their IRAs and grantor trusts share one; a non-grantor trust has its own."""

    account: str
    owner: str
    taxpayer: str
    kind: str  # taxable, ira, roth, 401k, hsa

    @property
    def tax_advantaged(self) -> bool:
        return self.kind in TAX_ADVANTAGED_KINDS


@dataclass(frozen=True, slots=True)
class Trade:
    """One trade, in execution order. `lot_id` on a sell names the buy (or transfer_in) trade whose lot
    it relieves (specific identification). `acquired_date`/`basis` only on transfer_in: the lot's
    acquisition date and total cost basis (default: the trade date and quantity * price + fees).
    `lot_method` overrides the run's default relief method for this sell (fifo, hifo, specific)."""

    trade_id: str
    date: date
    account: str
    ticker: str
    action: str
    quantity: Decimal
    price: Decimal
    fees: Decimal = ZERO
    lot_id: str | None = None
    acquired_date: date | None = None
    basis: Decimal | None = None
    lot_method: str | None = None


class Sale(NamedTuple):
    """One lot (or the part of one) relieved by one sale: a disposal, one Form 8949 row when reportable.

    `cost_basis` is the adjusted basis (it includes `wash_basis_adjustment`, losses deferred into this
    lot by earlier wash sales); `gain_loss` = proceeds - cost_basis + wash_sale_disallowed (8949 (h))."""

    sell_trade: str
    buy_trade: str
    account: str
    ticker: str
    qty: Decimal
    date_acquired: date
    date_sold: date
    proceeds: Decimal
    cost_basis: Decimal
    wash_sale_disallowed: Decimal
    code: str  # "W" or ""
    gain_loss: Decimal
    term: str  # "short" or "long"
    tax_year: int
    reportable: bool  # False for sales inside IRA, Roth, 401(k), HSA
    holding_period_start: date
    wash_basis_adjustment: Decimal = MONEY_ZERO


class Adjustment(NamedTuple):
    """A loss (on `qty` shares of lot `buy_trade` sold by `sell_trade`) disallowed because replacement
    shares were acquired by `replacement_trade` in the wash-sale window. `kind` is "deferred" (added to
    the replacement lot's basis) or "permanent" (replacement bought in an IRA/Roth/401(k)/HSA)."""

    sell_trade: str
    buy_trade: str
    replacement_trade: str
    replacement_account: str
    qty: Decimal
    disallowed: Decimal
    kind: str
    account: str = ""
    ticker: str = ""
    replacement_ticker: str = ""
    date_sold: date | None = None
    replacement_date: date | None = None
    group: str = ""  # the identity group that made the two securities substantially identical


class OpenLot(NamedTuple):
    """Shares still held at the end of the trades. One buy can leave several open lots: the shares that
    absorbed a wash sale carry their own basis and holding-period start."""

    account: str
    ticker: str
    buy_trade: str
    acquired_date: date
    qty: Decimal
    adjusted_basis: Decimal
    holding_period_start: date
    wash_sale_adjustment: Decimal = MONEY_ZERO  # deferred losses included in adjusted_basis


@dataclass(frozen=True, slots=True)
class Result:
    sales: tuple[Sale, ...]
    adjustments: tuple[Adjustment, ...]
    open_lots: tuple[OpenLot, ...]


"""The pure wash-sale and realized-gain engine: standard library and Decimal only, no Django, no clock.

    from lots.engine import compute, Account, Trade, Result
    result = compute(accounts, trades, identity=None, lot_method="fifo")

Rules: PRODUCT.md "Wash sales"; choices where the law leaves room: docs/wash_sales.md.
"""

from .core import compute
from .errors import (
    EngineError,
    InvalidAccountError,
    InvalidTradeError,
    OversellError,
    UnknownAccountError,
    UnknownLotError,
)
from .money import holding_term
from .reconcile import BrokerRow, Reconciliation, ReconciliationRow, reconcile
from .report import form8949_rows, to_jsonable, totals
from .types import Account, Adjustment, OpenLot, Result, Sale, Trade
from .universe import IdentityMap, default_identity

__all__ = [
    "Account",
    "Adjustment",
    "BrokerRow",
    "EngineError",
    "IdentityMap",
    "InvalidAccountError",
    "InvalidTradeError",
    "OpenLot",
    "OversellError",
    "Reconciliation",
    "ReconciliationRow",
    "Result",
    "Sale",
    "Trade",
    "UnknownAccountError",
    "UnknownLotError",
    "compute",
    "default_identity",
    "form8949_rows",
    "holding_term",
    "reconcile",
    "to_jsonable",
    "totals",
]

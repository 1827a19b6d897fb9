"""Readable scenarios for engine tests: a household, trades as CSV text, results as short rows."""

from decimal import Decimal

from lots.engine import Account, compute
from lots.engine.csvio import parse_trades

# The Smiths: two spouses (one taxpayer unit) with their own, joint and retirement accounts,
# and a non-grantor trust that is a taxpayer of its own.
HOUSEHOLD = (
    Account("his", "alex", "smith", "taxable"),
    Account("hers", "jordan", "smith", "taxable"),
    Account("joint", "alex", "smith", "taxable"),
    Account("his_ira", "alex", "smith", "ira"),
    Account("her_roth", "jordan", "smith", "roth"),
    Account("his_401k", "alex", "smith", "401k"),
    Account("her_hsa", "jordan", "smith", "hsa"),
    Account("trust", "smith-trust", "smith-trust", "taxable"),
)

HEADER = "trade_id,date,account,ticker,action,quantity,price,fees,lot_id,acquired_date,basis"


def trades(table: str):
    """Trades from CSV rows (header optional: HEADER's columns are assumed when it is missing)."""
    lines = [line.strip() for line in table.strip().splitlines() if line.strip()]
    if not lines[0].startswith("trade_id"):
        lines.insert(0, HEADER)
    width = lines[0].count(",")
    padded = [line + "," * (width - line.count(",")) for line in lines]
    return parse_trades("\n".join(padded) + "\n", "scenario")[0]


NO_GROUPS: dict = {}  # every ticker its own group; pass identity=None for the built-in universe


def run(table: str, accounts=HOUSEHOLD, identity=NO_GROUPS, lot_method="fifo"):
    return compute(accounts, trades(table), identity=identity, lot_method=lot_method)


def D(text) -> Decimal:
    return Decimal(str(text))


def sale_rows(result):
    """(sell, buy, qty, proceeds, basis, disallowed, code, gain_loss, term) per sale, as strings."""
    return [
        (s.sell_trade, s.buy_trade, str(s.qty), str(s.proceeds), str(s.cost_basis), str(s.wash_sale_disallowed),
         s.code, str(s.gain_loss), s.term)
        for s in result.sales
    ]


def adjustment_rows(result):
    """(sell, buy, replacement, replacement account, qty, disallowed, kind) per adjustment."""
    return [
        (a.sell_trade, a.buy_trade, a.replacement_trade, a.replacement_account, str(a.qty), str(a.disallowed), a.kind)
        for a in result.adjustments
    ]


def lot_rows(result):
    """(account, ticker, buy, qty, adjusted basis, acquired, holding-period start) per open lot."""
    return [
        (o.account, o.ticker, o.buy_trade, str(o.qty), str(o.adjusted_basis), o.acquired_date.isoformat(),
         o.holding_period_start.isoformat())
        for o in result.open_lots
    ]

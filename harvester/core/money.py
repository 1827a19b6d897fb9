"""Money helpers of the pure core: Decimal from strings, cents ROUND_HALF_UP at the outputs only.

Same rounding as the engine (lots/engine/money.py) and the models (harvester/money.py): one mode,
ROUND_HALF_UP, applied where a figure leaves the core (a proposal, a tax breakdown), never in between.
"""

from decimal import ROUND_HALF_UP, Context, Decimal

CENT = Decimal("0.01")
DOLLAR = Decimal("1")
ZERO = Decimal("0")
HUNDRED = Decimal("100")
TEN_THOUSAND = Decimal("10000")
# Core arithmetic runs in this context whatever the caller's is: 34 digits keep products exact.
CONTEXT = Context(prec=34, rounding=ROUND_HALF_UP)
_QUANTA: dict[str, Decimal] = {}  # percent()'s places, parsed once


def cents(amount: Decimal) -> Decimal:
    """Round a dollar amount to cents, half up (the one rounding mode of the project)."""
    return amount.quantize(CENT, ROUND_HALF_UP)


def whole_dollars(amount: Decimal) -> Decimal:
    """Round to whole dollars, half up (the IRS Tax Table prints whole dollars)."""
    return amount.quantize(DOLLAR, ROUND_HALF_UP)


def usd(amount: Decimal) -> str:
    """$1,234.56 (negative: -$1,234.56), for the plain-words explanations."""
    value = amount.quantize(CENT, ROUND_HALF_UP)
    if value < 0:
        return f"-${-value:,.2f}"
    return f"${value:,.2f}"


def percent(value: Decimal, places: str = "0.01", rounding: str = ROUND_HALF_UP) -> str:
    """A percent figure such as 5.25%, trailing zeros dropped (5%)."""
    quantum = _QUANTA.get(places)
    if quantum is None:
        quantum = _QUANTA[places] = Decimal(places)
    text = f"{value.quantize(quantum, rounding):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"

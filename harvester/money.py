"""Field sizes and rounding for money and quantities: one place, used by every model and display.

Money is stored to the cent; prices and quantities carry the precision custodians report (fractional
shares to 8 places). Rounding is ROUND_HALF_UP at the edges (storage, display, Form 8949) only.
"""

from decimal import ROUND_HALF_UP, Decimal

MONEY = {"max_digits": 16, "decimal_places": 2}
PRICE = {"max_digits": 16, "decimal_places": 6}
QUANTITY = {"max_digits": 20, "decimal_places": 8}
RATE = {"max_digits": 7, "decimal_places": 4}  # e.g. 5.2500 percent

CENT = Decimal("0.01")
ROUNDING = ROUND_HALF_UP


def to_cents(value: Decimal) -> Decimal:
    """Quantize a money amount to cents with the house rounding mode."""
    return value.quantize(CENT, rounding=ROUNDING)

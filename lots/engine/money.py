"""Money rounding, proportional allocation, and holding-period dates.

Money is rounded to cents with ROUND_HALF_UP at exactly these points, and nowhere else:
1. a lot's cost when it is created: quantity * price + fees (or the transfer_in basis);
2. a sell's net proceeds: quantity * price - fees;
3. allocations: a sell's proceeds over the lots it relieves, a lot's basis over the pieces it is
   split into, a loss over the replacement shares that absorb it. Each allocation gives every piece
   but the last its proportional share, `(amount * part / whole).quantize(CENT, ROUND_HALF_UP)`, and
   the last piece exactly what is left, so the pieces always add up to the whole: no cent is created
   or lost. (The engine writes that expression inline in its hot loop rather than calling a helper,
   as `.quantize(CENT)`: compute() runs in CONTEXT below, whose rounding is ROUND_HALF_UP, and leaving
   the argument out is a little faster.)
Quantities are never rounded.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal

CENT = Decimal("0.01")
# Engine arithmetic runs in this context (compute() enters it), whatever the caller's context is.
# 34 digits (decimal128) keep products such as quantity * price exact before they are rounded to cents.
CONTEXT = Context(prec=34, rounding=ROUND_HALF_UP)


def cents(amount: Decimal) -> Decimal:
    """Round a dollar amount to cents, half up (the one rounding mode of the engine)."""
    return amount.quantize(CENT, ROUND_HALF_UP)


def anniversary(day: date) -> date:
    """The same calendar date one year later; February 29 maps to February 28."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def holding_term(holding_period_start: date, sold: date) -> str:
    """"long" if the shares were held more than one year, else "short".

    IRS Pub. 550 (Holding period): counting starts the day after acquisition and the sale day counts,
    so more than one year means sold after the anniversary of the start: bought 2023-06-15, sold
    2024-06-15 is short-term, sold 2024-06-16 long-term. Calendar dates, not 365 days."""
    return "long" if sold > anniversary(holding_period_start) else "short"


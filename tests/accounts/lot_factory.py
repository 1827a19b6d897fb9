"""Many open lots for a household without running the ledger: one buy and its lot per row, bulk-inserted.

Quantities and closes are chosen so that a lot's market value is often half a cent before rounding:
summing the rounded lots and rounding the summed shares give different cents, which the totals must not
confuse. ITOT has no close: its positions and their accounts have no market value.
"""

from datetime import date, timedelta
from decimal import Decimal

CLOSES = {"VTI": "180.125", "VEA": "55.005"}  # ITOT: no close on record
TICKERS = ("VTI", "VEA", "ITOT")


def priced(world):
    for ticker, close in CLOSES.items():
        world.price(ticker, "2026-11-20", close)


def add_lots(world, n: int, *, start: int = 0, accounts=None):
    """Lots number start .. start+n-1, spread over `accounts` (four accounts of the Morgans unless given)
    and three securities."""
    from lots.models import Lot, Security, Transaction

    accounts = accounts or (world.alex_ind, world.joint, world.alex_ira, world.trust)
    securities = {s.ticker: s for s in Security.objects.filter(ticker__in=TICKERS)}
    buys, shapes = [], []
    for i in range(start, start + n):
        account, ticker = accounts[i % len(accounts)], TICKERS[(i // 4) % len(TICKERS)]
        day = date(2020, 1, 1) + timedelta(days=(i * 7) % 2000)
        quantity = Decimal(i % 13 + 1) + Decimal("0.2") * (i % 5) + Decimal("0.00000001") * (i % 3)
        per_share = Decimal("40.00") + Decimal(i % 37)
        basis = (quantity * per_share).quantize(Decimal("0.01"))
        buys.append(
            Transaction(
                account=account, security=securities[ticker], trade_date=day, seq=i, action="buy",
                quantity=quantity, price=per_share,
            )
        )
        shapes.append((quantity, basis, day))
    buys = Transaction.objects.bulk_create(buys)
    Lot.objects.bulk_create(
        Lot(
            account_id=t.account_id, security_id=t.security_id, origin=t, quantity=q, cost_basis=basis,
            acquired_date=day, holding_period_start=day,
        )
        for t, (q, basis, day) in zip(buys, shapes, strict=True)
    )

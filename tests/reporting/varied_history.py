"""A household history with some of everything the realized totals and the API's lists add up.

On the Morgans (tests/conftest.py World: Alex and Jordan, one taxpayer unit, with individual accounts, a
joint account and Alex's IRA; the trust, a taxpayer of its own), five years of trades:
- a fixed part that makes sure of the cases: loss sales washed in part into the spouse's taxable account
  (deferred) and into the IRA (permanent) in 2023 and 2026, a loss washed in full, long-term sales with
  fees, fractional shares, a sale of lots bought on two dates (two disposals), sales inside the IRA (not
  reportable);
- a seeded random walk of buys and sells of five ETFs across all five accounts (2022 to 2026), which
  brings the rest: wash sales between accounts of a unit, short and long terms in every year.
Then one ledger recompute, as the app stores it.
"""

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

CENT = Decimal("0.01")
WALK = ("VTI", "ITOT", "VEA", "IEFA", "SCHB")


def build(world, *, seed: int = 2024, steps: int = 150) -> None:
    from lots.ledger import ledger_recompute

    w = world
    seq = iter(range(1, 10_000))

    def trade(account, ticker, day, action, qty, price, fees="0"):
        return w.trade(account, ticker, day, action, str(qty), str(price), fees=str(fees), seq=next(seq))

    # 2023: Alex sells 10 VXUS at a loss of 100; Jordan buys 4 (deferred), the IRA 3 (permanent).
    trade(w.alex_ind, "VXUS", "2022-11-01", "buy", "10", "50")
    trade(w.alex_ind, "VXUS", "2023-02-01", "sell", "10", "40")
    trade(w.jordan_ind, "VXUS", "2023-02-10", "buy", "4", "41")
    trade(w.alex_ira, "VXUS", "2023-02-15", "buy", "3", "41")
    # 2026: the same with SCHF, and a loss washed in full (5 bought back in the same account).
    trade(w.jordan_ind, "SCHF", "2025-12-01", "buy", "6", "30")
    trade(w.jordan_ind, "SCHF", "2026-01-05", "sell", "6", "25", fees="0.50")
    trade(w.joint, "SCHF", "2026-01-20", "buy", "2", "26")
    trade(w.alex_ira, "SCHF", "2026-01-21", "buy", "1.5", "26")
    trade(w.trust, "SCHA", "2025-03-03", "buy", "5", "90")
    trade(w.trust, "SCHA", "2025-05-01", "sell", "5", "80")
    trade(w.trust, "SCHA", "2025-05-20", "buy", "5", "81")
    # Long-term sales with fees, one of lots bought on two dates; IRA sales (not reportable).
    trade(w.joint, "VOO", "2022-02-01", "buy", "2.5", "400")
    trade(w.joint, "VOO", "2022-08-01", "buy", "1.25", "380")
    trade(w.joint, "VOO", "2024-03-01", "sell", "3", "450", fees="1.25")
    trade(w.alex_ira, "VOO", "2022-03-01", "buy", "4", "410")
    trade(w.alex_ira, "VOO", "2023-06-01", "sell", "2", "390")
    trade(w.alex_ira, "VOO", "2025-06-02", "sell", "2", "480")

    rng = random.Random(seed)
    accounts = [w.alex_ind, w.alex_ira, w.jordan_ind, w.joint, w.trust]
    price = {"VTI": Decimal("200"), "ITOT": Decimal("100"), "VEA": Decimal("45"), "IEFA": Decimal("70"),
             "SCHB": Decimal("55")}
    held: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    day = date(2022, 1, 3)
    for _ in range(steps):
        day += timedelta(days=rng.randint(3, 20))
        if day > date(2026, 11, 20):
            break
        for ticker in price:
            price[ticker] = max(Decimal("5"), (price[ticker] * Decimal(str(rng.uniform(0.88, 1.12)))).quantize(CENT))
        account, ticker = rng.choice(accounts), rng.choice(WALK)
        key = (account.pk, ticker)
        qty = Decimal(rng.choice(["1", "2", "2.5", "3", "4", "7.125", "10"]))
        fees = rng.choice(["0", "0", "0.35", "1.00"])
        if held[key] > 0 and rng.random() < 0.5:
            qty = min(qty, held[key])
            trade(account, ticker, day, "sell", qty, price[ticker], fees)
            held[key] -= qty
        else:
            trade(account, ticker, day, "buy", qty, price[ticker], fees)
            held[key] += qty
    ledger_recompute(household_id=w.household.pk)

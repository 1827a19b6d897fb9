"""Benchmark of the engine on generated households with many wash sales.

    python -m lots.engine.bench [--sizes 10000,100000,1000000] [--seed 1] [--tracemalloc]

Data (seeded, so every run is the same): households of up to 10,000 trades (0 to 5 a day, about 11
years), each with a husband's and a wife's taxable account, a joint account, an IRA, a Roth IRA (one
taxpayer unit) and a non-grantor trust (its own unit); ETFs from identity groups of one to three funds
(VOO/IVV/SPLG, AGG/SCHZ, ...); buys, dividend reinvestments and sells (whole or half lots by specific
identification, oldest shares first, whole positions). Prices random-walk, so about half of the sales
are losses, and most losses have a purchase of the same group within 30 days somewhere in the
household: a stress test with about 0.7 wash-sale adjustments per trade.
Time is the engine only (compute()), not the data generation: wall clock, and this process's CPU
time. Memory: the process's peak resident set size (resource.ru_maxrss, which includes the generated
input), or with --tracemalloc the peak of Python allocations during compute() (measured in a second,
slower run).
"""

import argparse
import gc
import random
import resource
import sys
import time
import tracemalloc
from collections import deque
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .core import compute
from .types import Account, Trade

HOUSEHOLD_TRADES = 10_000
GROUPS = (
    ("S&P 500 Index", ("VOO", "IVV", "SPLG")),
    ("CRSP US Total Market Index", ("VTI",)),
    ("S&P Total Market Index", ("ITOT",)),
    ("Bloomberg U.S. Aggregate Bond Index", ("AGG", "SCHZ")),
    ("FTSE Developed All Cap ex US Index", ("VEA",)),
    ("MSCI EAFE IMI Index", ("IEFA",)),
)
IDENTITY = {ticker: group for group, tickers in GROUPS for ticker in tickers}
TICKERS = tuple(IDENTITY)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class BenchRow:
    size: int
    trades: int
    seconds: float  # wall clock
    cpu_seconds: float  # this process's CPU time: less disturbed by other work on the machine
    trades_per_second: float
    peak_memory_mb: float
    memory_kind: str
    sales: int
    adjustments: int


def generate(n_trades: int, seed: int = 1) -> tuple[list[Account], list[Trade]]:
    """`n_trades` valid trades (no oversell) in execution order, in households of HOUSEHOLD_TRADES."""
    rng = random.Random(seed)
    accounts: list[Account] = []
    trades: list[Trade] = []
    household = 0
    while len(trades) < n_trades:
        household += 1
        _household(rng, household, min(HOUSEHOLD_TRADES, n_trades - len(trades)), accounts, trades)
    trades.sort(key=lambda t: t.date)  # stable: households interleave by date, as a custodian feed would
    return accounts, trades


def _household(rng: random.Random, h: int, n: int, accounts: list, trades: list) -> None:
    unit, trust_unit = f"h{h}", f"h{h}-trust"
    mine = [
        Account(f"h{h}-his", f"h{h}-him", unit, "taxable"),
        Account(f"h{h}-hers", f"h{h}-her", unit, "taxable"),
        Account(f"h{h}-joint", f"h{h}-him", unit, "taxable"),
        Account(f"h{h}-ira", f"h{h}-him", unit, "ira"),
        Account(f"h{h}-roth", f"h{h}-her", unit, "roth"),
        Account(f"h{h}-trust", f"h{h}-trust", trust_unit, "taxable"),
    ]
    accounts.extend(mine)
    ids = [a.account for a in mine]
    price = {t: 100.0 * (1 + rng.random()) for t in TICKERS}
    held: dict[tuple[str, str], deque] = {}  # FIFO of [buy trade id, shares left] per position
    day = date(2020, 1, 2)
    count = 0
    while count < n:
        day += timedelta(days=1)
        for t in TICKERS:  # a random walk with enough volatility that about half the sales are losses
            price[t] *= 1 + rng.gauss(0, 0.02)
        for _ in range(rng.randint(0, 5)):
            if count >= n:
                break
            account = rng.choice(ids)
            ticker = rng.choice(TICKERS)
            key = (account, ticker)
            lots = held.get(key)
            px = Decimal(repr(round(price[ticker], 4)))
            tid = f"h{h}-{count}"
            roll = rng.random()
            if lots and roll < 0.45:
                qty, lot_id = _pick_sale(rng, lots)
                trades.append(Trade(tid, day, account, ticker, "sell", qty, px, Decimal("0.35"), lot_id))
                count += 1
                if not lots:
                    del held[key]
                continue
            action = "reinvest" if roll > 0.85 else "buy"
            qty = (Decimal(rng.randint(1, 4000)) / 1000) if action == "reinvest" else Decimal(rng.randint(1, 60))
            trades.append(Trade(tid, day, account, ticker, action, qty, px, Decimal(0) if action == "reinvest"
                                else Decimal("0.35")))
            held.setdefault(key, deque()).append([tid, qty])
            count += 1


def _pick_sale(rng: random.Random, lots: deque) -> tuple[Decimal, str | None]:
    """A sale like a household makes them: a whole lot or part of one by specific identification
    (harvesting a loss lot), the oldest shares (FIFO), or the whole position. Updates `lots`."""
    kind = rng.random()
    if kind < 0.5:
        index = rng.randrange(len(lots))
        lot = lots[index]
        qty = lot[1] if kind < 0.35 else max((lot[1] / 2).quantize(Decimal("0.001")), min(lot[1], Decimal(1)))
        lot[1] -= qty
        if not lot[1]:
            del lots[index]
        return qty, lot[0]
    if kind < 0.85:
        qty = (lots[0][1] * Decimal(rng.randint(2, 15)) / 10).quantize(Decimal("0.001"))
        qty = min(qty, sum(q for _, q in lots)) or lots[0][1]
    else:
        qty = sum(q for _, q in lots)
    left = qty
    while left:
        take = min(left, lots[0][1])
        lots[0][1] -= take
        left -= take
        if not lots[0][1]:
            lots.popleft()
    return qty, None


def run(sizes: list[int], seed: int = 1, trace: bool = False, out=None) -> list[BenchRow]:
    """Generate and run each size; print one line per size (to `out`, default stdout); return the rows."""
    out = out or sys.stdout
    results = []
    for size in sizes:
        accounts, trades = generate(size, seed)
        gc.collect()
        start, cpu_start = time.perf_counter(), time.process_time()
        result = compute(accounts, trades, identity=IDENTITY)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        if trace:
            del result
            gc.collect()
            tracemalloc.start()
            result = compute(accounts, trades, identity=IDENTITY)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            kind = "tracemalloc peak during compute()"
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            kind = "ru_maxrss of the process"
        row = BenchRow(size, len(trades), seconds, cpu, len(trades) / seconds, peak, kind, len(result.sales),
                       len(result.adjustments))
        results.append(row)
        out.write(f"{row.trades:>9} trades  {row.seconds:8.3f} s (cpu {row.cpu_seconds:.3f} s)  "
                  f"{row.trades_per_second:>10,.0f} trades/s  "
                  f"peak {row.peak_memory_mb:8.1f} MiB ({row.memory_kind})  {row.sales:>8} sales  "
                  f"{row.adjustments:>8} wash-sale adjustments\n")
        out.flush()
        del accounts, trades, result
    return results


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated trade counts (default 10000,100000,1000000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="measure peak Python allocations in compute() (a second, slower run)")


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--sizes must be comma-separated whole numbers, got {text!r}") from None
    if not sizes or any(s <= 0 for s in sizes):
        raise ValueError(f"--sizes must be positive, got {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lots.engine.bench", description=__doc__.split("\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as exc:
        parser.error(str(exc))
    run(sizes, args.seed, args.tracemalloc)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the pure harvest scan on generated households.

    python -m harvester.core.bench [--households 10000] [--lots 100] [--seed 1] [--chunk 500] [--dense]

Data (seeded, so every run is the same): each household has the accounts of a married couple (his,
hers, joint, two IRAs) and a non-grantor trust, profiles for both returns, `--lots` open lots over
twelve ETFs of four asset classes (identity groups of one to three funds) bought at the prices of a
shared market that fell about 12% in the last three months, the purchases of the last 30 days, a loss
sale or two, a DRIP and a contribution in the next 30 days, and replacement lots old enough to switch
back. `--dense` is a stress case instead: lots at random costs in every account and ticker.
Time is scan() only, not the data generation: households are generated a chunk at a time, and only the
scans are timed, in CPU seconds of this process (the machine may be shared), wall time alongside.
"""

import argparse
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .scan import scan
from .snapshot import (
    AccountInfo,
    Acquisition,
    HeldLot,
    HouseholdSnapshot,
    LossSale,
    OwnerInfo,
    Policy,
    Quote,
    ScheduledBuy,
)
from .tax import TaxProfile

AS_OF = date(2026, 2, 11)
UNIVERSE = {  # ticker: (identity group, asset class)
    "VTI": ("CRSP US Total Market Index", "us_total_market"),
    "ITOT": ("S&P Total Market Index", "us_total_market"),
    "SCHB": ("Dow Jones U.S. Broad Stock Market Index", "us_total_market"),
    "VOO": ("S&P 500 Index", "us_large_cap"),
    "IVV": ("S&P 500 Index", "us_large_cap"),
    "SPLG": ("S&P 500 Index", "us_large_cap"),
    "VV": ("CRSP US Large Cap Index", "us_large_cap"),
    "VEA": ("FTSE Developed All Cap ex US Index", "intl_developed"),
    "IEFA": ("MSCI EAFE IMI Index", "intl_developed"),
    "SCHF": ("FTSE Developed ex US Index", "intl_developed"),
    "AGG": ("Bloomberg U.S. Aggregate Bond Index", "us_bonds"),
    "BND": ("Bloomberg U.S. Aggregate Float Adjusted Index", "us_bonds"),
}
IDENTITY = {t: g for t, (g, _) in UNIVERSE.items()}
CLASSES = {t: c for t, (_, c) in UNIVERSE.items()}
CHAINS = {
    "us_total_market": ("VTI", "ITOT", "SCHB"),
    "us_large_cap": ("VOO", "VV", "IVV"),
    "intl_developed": ("VEA", "IEFA", "SCHF"),
    "us_bonds": ("AGG", "BND"),
}
TICKERS = tuple(UNIVERSE)
BASE_PRICE = {t: Decimal(50 + 25 * i) for i, t in enumerate(TICKERS)}
ACCOUNTS = (("his", "taxable", ("a",), "u"), ("hers", "taxable", ("b",), "u"), ("joint", "taxable", ("a", "b"), "u"),
            ("his_ira", "ira", ("a",), "u"), ("her_ira", "ira", ("b",), "u"), ("trust", "taxable", ("t",), "t"))


@dataclass(frozen=True)
class BenchResult:
    households: int
    lots: int
    seconds: float  # CPU time of the scans (time.process_time): other processes on the machine do not count
    wall_seconds: float
    lots_per_second: float
    proposals: int
    skipped: int


def price_paths(rng: random.Random, days: int = 1000) -> dict[str, list[Decimal]]:
    """A close per ticker per day (index 0 = `days` days ago, last = the scan date): a random walk that
    rises over the years and falls about 12% in the last three months, as markets do before a harvest
    season. All households see the same market."""
    paths = {}
    for ticker in TICKERS:
        level = float(BASE_PRICE[ticker])
        path = []
        for day in range(days + 1):
            drift = -0.0015 if day > days - 65 else 0.0004
            level *= 1 + drift + rng.gauss(0, 0.009)
            path.append(Decimal(f"{level:.2f}"))
        paths[ticker] = path
    return paths


def _people(hid: str, rng: random.Random):
    accounts = tuple(AccountInfo(f"{hid}-{name}", name, kind, tuple(f"{hid}-{o}" for o in owners), f"{hid}-{unit}")
                     for name, kind, owners, unit in ACCOUNTS)
    couple = TaxProfile(2026, "mfj", ordinary_income=Decimal(rng.randint(60, 900) * 1000),
                        st_gains=Decimal(rng.randint(-5, 40) * 1000), lt_gains=Decimal(rng.randint(0, 60) * 1000),
                        state_rate=Decimal(rng.choice(["0", "5", "9.3"])))
    trust = TaxProfile(2026, "trust", ordinary_income=Decimal(rng.randint(0, 50) * 1000),
                       lt_gains=Decimal(rng.randint(0, 20) * 1000))
    owners = (OwnerInfo(f"{hid}-a", "Alex", f"{hid}-u", couple, f"{hid}-1040"),
              OwnerInfo(f"{hid}-b", "Jordan", f"{hid}-u", couple, f"{hid}-1040"),
              OwnerInfo(f"{hid}-t", "Trust", f"{hid}-t", trust))
    return accounts, owners


def household(index: int, n_lots: int, rng: random.Random, paths: dict[str, list[Decimal]] | None = None,
              dense: bool = False) -> HouseholdSnapshot:
    """One generated household with `n_lots` open lots.

    Realistic (default): about a dozen positions (each household holds the primaries of three or four asset
    classes in two or three accounts, sometimes a replacement from an earlier harvest), lots bought over
    three years by monthly contributions and dividend reinvestment at the market's prices (`paths`).
    Dense: every lot in a random account and ticker at a random cost, a stress case where about half of
    the 48 taxable positions are at a loss."""
    hid = f"h{index}"
    accounts, owners = _people(hid, rng)
    lots = []
    if dense or paths is None:
        closes = {t: BASE_PRICE[t] * Decimal(rng.randint(80, 115)) / 100 for t in TICKERS}
        for n in range(n_lots):
            account = accounts[rng.randrange(len(accounts))].id
            ticker = TICKERS[rng.randrange(len(TICKERS))]
            acquired = AS_OF - timedelta(days=rng.randint(1, 900))
            quantity = Decimal(rng.randint(1, 20000)) / 100
            cost = BASE_PRICE[ticker] * Decimal(rng.randint(85, 120)) / 100
            lots.append(HeldLot(f"{hid}-l{n}", account, ticker, quantity, (quantity * cost).quantize(Decimal("0.01")),
                                acquired, from_harvest=ticker in ("ITOT", "VV", "IEFA", "BND") and rng.random() < 0.3))
    else:
        days = len(next(iter(paths.values()))) - 1
        closes = {t: paths[t][-1] for t in TICKERS}
        classes = rng.sample(list(CHAINS), rng.randint(3, 4))
        positions = []
        for asset_class in classes:
            primary = CHAINS[asset_class][0]
            for account in rng.sample(accounts, rng.randint(2, 4)):
                positions.append((account.id, primary, False))
            if rng.random() < 0.3:
                positions.append((accounts[rng.randrange(3)].id, CHAINS[asset_class][1], True))
        for n in range(n_lots):
            account, ticker, replacement = positions[n % len(positions)]
            ago = rng.randint(31, 300) if replacement else rng.randint(0, days)
            quantity = Decimal(rng.randint(100, 20000)) / 100
            cost = paths[ticker][days - ago]
            lots.append(HeldLot(f"{hid}-l{n}", account, ticker, quantity, (quantity * cost).quantize(Decimal("0.01")),
                                AS_OF - timedelta(days=ago), from_harvest=replacement))
    recent = [lot for lot in lots if (AS_OF - lot.acquired).days <= 30]
    acquisitions = tuple(Acquisition(lot.account, lot.ticker, lot.acquired, lot.quantity, lot.lot_id) for lot in recent)
    loss_sales = tuple(LossSale(accounts[rng.randrange(3)].id, TICKERS[rng.randrange(len(TICKERS))],
                                AS_OF - timedelta(days=rng.randint(0, 30)), Decimal(10), Decimal(100), f"{hid}-s{n}")
                       for n in range(rng.randint(0, 2)))
    scheduled = (ScheduledBuy(accounts[3].id, TICKERS[rng.randrange(len(TICKERS))], AS_OF + timedelta(days=9), "drip",
                              f"{hid}-d"),
                 ScheduledBuy(accounts[0].id, TICKERS[rng.randrange(len(TICKERS))], AS_OF + timedelta(days=16),
                              "contribution", f"{hid}-c"))
    return HouseholdSnapshot(
        household=hid, accounts=accounts, owners=owners, lots=tuple(lots),
        prices={t: Quote(c, AS_OF) for t, c in closes.items()}, identity=IDENTITY, asset_classes=CLASSES,
        acquisitions=acquisitions, loss_sales=loss_sales, scheduled=scheduled, chains=CHAINS,
        policy=Policy(min_loss_amount=Decimal("500"), min_loss_percent=Decimal("3")),
    )


def run(households: int = 10_000, lots: int = 100, seed: int = 1, chunk: int = 500, dense: bool = False) -> BenchResult:
    """Generate `households` households of `lots` lots each and time scan() over all of them."""
    rng = random.Random(seed)
    paths = None if dense else price_paths(random.Random(seed))
    cpu = wall = 0.0
    proposals = skipped = 0
    done = 0
    while done < households:
        size = min(chunk, households - done)
        batch = [household(done + i, lots, rng, paths, dense) for i in range(size)]
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        results = [scan(snapshot, AS_OF) for snapshot in batch]
        cpu += time.process_time() - start_cpu
        wall += time.perf_counter() - start_wall
        proposals += sum(len(r.proposals) for r in results)
        skipped += sum(len(r.skipped) for r in results)
        done += size
    total = households * lots
    return BenchResult(households, total, cpu, wall, total / cpu if cpu else 0.0, proposals, skipped)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--lots", type=int, default=100, help="open lots per household")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--dense", action="store_true", help="stress data: half of all positions at a loss")
    args = parser.parse_args(argv)
    r = run(args.households, args.lots, args.seed, args.chunk, args.dense)
    per_household_ms = r.seconds * 1000 / r.households
    print(f"{r.households:,} households, {r.lots:,} lots{' (dense)' if args.dense else ''}: scan {r.seconds:.3f} s CPU "
          f"({r.wall_seconds:.3f} s wall), {per_household_ms:.2f} ms per household, {r.lots_per_second:,.0f} lots/s, "
          f"{r.proposals:,} proposals, {r.skipped:,} skipped")


if __name__ == "__main__":
    main()

"""Readable scan scenarios: the Morgans, their accounts, a small ETF universe, and short builders.

Alex and Jordan are married and file jointly (one tax return, one taxpayer unit with their IRAs);
the Morgan Trust is a non-grantor trust: a taxpayer of its own. The scan date is Wednesday 2026-02-11,
so a pause "until the 31st day" ends on 2026-03-14.
"""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from harvester.core import (
    AccountInfo,
    Acquisition,
    HeldLot,
    HouseholdSnapshot,
    LossSale,
    OwnerInfo,
    Policy,
    Quote,
    ScheduledBuy,
    TaxProfile,
    scan,
)

AS_OF = date(2026, 2, 11)
YEAR = AS_OF.year


def D(text) -> Decimal:
    return Decimal(str(text))


def days_ago(n: int) -> date:
    return AS_OF - timedelta(days=n)


def days_ahead(n: int) -> date:
    return AS_OF + timedelta(days=n)


COUPLE = TaxProfile(YEAR, "mfj", ordinary_income=D("300000"), state_rate=D("5"), st_gains=D("20000"),
                    lt_gains=D("10000"))
TRUST = TaxProfile(YEAR, "trust", ordinary_income=D("20000"), state_rate=D("5"), lt_gains=D("5000"))

OWNERS = (
    OwnerInfo("alex", "Alex", "morgans", COUPLE, tax_return="morgans-1040"),
    OwnerInfo("jordan", "Jordan", "morgans", COUPLE, tax_return="morgans-1040"),
    OwnerInfo("trust", "Morgan Trust", "trust", TRUST),
)
ACCOUNTS = (
    AccountInfo("alex_ind", "Alex individual", "taxable", ("alex",), "morgans"),
    AccountInfo("jordan_ind", "Jordan individual", "taxable", ("jordan",), "morgans"),
    AccountInfo("joint", "Joint", "taxable", ("alex", "jordan"), "morgans"),
    AccountInfo("alex_ira", "Alex IRA", "ira", ("alex",), "morgans"),
    AccountInfo("jordan_ira", "Jordan IRA", "ira", ("jordan",), "morgans"),
    AccountInfo("trust_acct", "Morgan Trust account", "taxable", ("trust",), "trust"),
)

# ticker -> (identity group = tracked index, asset class), as in harvester/data/etf_universe.csv
UNIVERSE = {
    "VTI": ("CRSP US Total Market Index", "us_total_market"),
    "ITOT": ("S&P Total Market Index", "us_total_market"),
    "SCHB": ("Dow Jones U.S. Broad Stock Market Index", "us_total_market"),
    "VOO": ("S&P 500 Index", "us_large_cap"),
    "IVV": ("S&P 500 Index", "us_large_cap"),
    "SPLG": ("S&P 500 Index", "us_large_cap"),
    "VV": ("CRSP US Large Cap Index", "us_large_cap"),
    "SCHX": ("Dow Jones U.S. Large-Cap Total Stock Market Index", "us_large_cap"),
    "AGG": ("Bloomberg U.S. Aggregate Bond Index", "us_bonds"),
}
IDENTITY = {t: g for t, (g, _) in UNIVERSE.items()}
ASSET_CLASSES = {t: c for t, (_, c) in UNIVERSE.items()}
CHAINS = {
    "us_total_market": ("VTI", "ITOT", "SCHB"),
    # IVV and SPLG are listed to show they are never picked for VOO: same index, same group.
    "us_large_cap": ("VOO", "IVV", "SPLG", "VV", "SCHX"),
}
PRICES = {"VTI": "200", "ITOT": "100", "SCHB": "20", "VOO": "500", "IVV": "550", "SPLG": "60", "VV": "250",
          "SCHX": "20", "AGG": "100"}

# Thresholds of the tests: 1,000 dollars and 5 percent; costs of 2 bp per trade, no commission.
POLICY = Policy(min_loss_amount=D("1000"), min_loss_percent=D("5"), benefit_cost_margin=D("2"),
                spread_bps=D("2"), commission=D("0"), switchback_gain_limit=D("250"))


def lot(lot_id, account, ticker, quantity, basis, acquired=None, **extra) -> HeldLot:
    return HeldLot(lot_id, account, ticker, D(quantity), D(basis), acquired or days_ago(200), **extra)


def bought(account, ticker, ago, quantity="1", trade_id=None) -> Acquisition:
    return Acquisition(account, ticker, days_ago(ago), D(quantity), trade_id or f"buy-{account}-{ticker}-{ago}")


def sold_at_loss(account, ticker, ago, quantity="10", loss="500") -> LossSale:
    return LossSale(account, ticker, days_ago(ago), D(quantity), D(loss), f"sell-{account}-{ticker}-{ago}")


def scheduled(account, ticker, ahead, kind="drip", schedule_id=None, pausable=True) -> ScheduledBuy:
    return ScheduledBuy(account, ticker, days_ahead(ahead), kind, schedule_id or f"{kind}-{account}-{ticker}",
                        pausable)


def household(*lots, prices=None, price_date=AS_OF, policy=POLICY, **extra) -> HouseholdSnapshot:
    quotes = {t: Quote(D(p), price_date) for t, p in {**PRICES, **(prices or {})}.items()}
    fields = dict(
        household="morgans", accounts=ACCOUNTS, owners=OWNERS, lots=tuple(lots), prices=quotes,
        identity=IDENTITY, asset_classes=ASSET_CLASSES, chains=CHAINS, policy=policy,
        target_allocation={"us_total_market": D("60"), "us_large_cap": D("30"), "us_bonds": D("10")},
    )
    fields.update(extra)
    return HouseholdSnapshot(**fields)


def run(snapshot, as_of=AS_OF):
    return scan(snapshot, as_of)


def with_policy(**changes) -> Policy:
    return replace(POLICY, **changes)


def only(items):
    items = list(items)
    assert len(items) == 1, items
    return items[0]


def checks(proposal) -> dict[str, bool]:
    return {c.name: c.passed for c in proposal.checks}


def skip_reasons(result) -> dict[tuple[str, str], str]:
    return {(s.account, s.ticker): s.reason for s in result.skipped}

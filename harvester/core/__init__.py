"""Pure cores of the harvest domain: the harvest scan and the tax projection.

Standard library and Decimal only: no Django, no database, no clock (`as_of` is an argument).

    from harvester.core import scan, HouseholdSnapshot, TaxProfile, project, harvest_value

Rules: PRODUCT.md "Harvesting" and "Tax facts"; choices: docs/harvesting.md, docs/tax_projection.md.
"""

from .proposal import (
    Check,
    Explanation,
    Proposal,
    ProposalLot,
    RequiredAction,
    ScanRefusal,
    ScanResult,
    Skipped,
    fingerprint,
)
from .scan import scan, scan_many, trading_days_between
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
    SnapshotError,
)
from .tax import BracketLine, HarvestValue, TaxBreakdown, TaxInputError, TaxProfile, harvest_value, project, tax_total
from .tax_tables import TaxTableError, YearTables, available_years, load_year

__all__ = [
    "AccountInfo",
    "Acquisition",
    "BracketLine",
    "Check",
    "Explanation",
    "HarvestValue",
    "HeldLot",
    "HouseholdSnapshot",
    "LossSale",
    "OwnerInfo",
    "Policy",
    "Proposal",
    "ProposalLot",
    "Quote",
    "RequiredAction",
    "ScanRefusal",
    "ScanResult",
    "ScheduledBuy",
    "Skipped",
    "SnapshotError",
    "TaxBreakdown",
    "TaxInputError",
    "TaxProfile",
    "TaxTableError",
    "YearTables",
    "available_years",
    "fingerprint",
    "harvest_value",
    "load_year",
    "project",
    "scan",
    "scan_many",
    "tax_total",
    "trading_days_between",
]

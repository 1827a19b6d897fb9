"""Harvest scans, the Django side: read households into the pure scan core, write its proposals.

    scan = scan_start(household=household, user=request.user, as_of=today)   # "Scan now"
    scan = scan_start(as_of=today)                                             # the firm-wide daily scan
    reason = proposal_recheck(proposal, as_of=today)                           # at approval and execution

The rules live in harvester/core (pure: no Django, no clock). This module only moves data: one
household (or a chunk of them) is read with a constant number of queries into HouseholdSnapshot values,
`harvester.core.scan` decides, and `proposals_write` stores its proposals idempotently (one open proposal
per fingerprint; the ones a scan no longer proposes are superseded with the reason).

Work is split into chunks (ScanChunk) that a worker claims with a conditional UPDATE; the database is the
source of truth, so a chunk whose worker died is found by `scan_reap_stalled` and done again, and a re-run
never duplicates an open proposal. How it all fits: docs/scans.md.
"""

import calendar
import dataclasses
import gc
import hashlib
import json
import logging
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from accounts.models import Account, Household, Owner, OwnerTaxProfile, TargetAllocation
from harvester.core import snapshot as core
from harvester.core.scan import scan as core_scan
from harvester.core.tax import TaxProfile
from harvester.models import (
    OPEN_PROPOSAL_STATES,
    AuditEvent,
    Execution,
    HarvestPolicy,
    HarvestProposal,
    HarvestScan,
    ScanChunk,
)
from harvester.rawsql import fetch as _fetch
from harvester.rawsql import pg_insert, pg_update
from harvester.rawsql import sqlite_date as _sqlite_date
from harvester.rawsql import sqlite_decimal as _sqlite_decimal
from harvester.rawsql import sqlite_number as _sqlite_number
from lots import engine
from lots.engine.core import WINDOW_DAYS  # IRC 1091(a), defined once in the engine
from lots.models import (
    Disposal,
    IdentityOverride,
    Lot,
    Price,
    ReplacementChain,
    ReplacementChainEntry,
    ReplacementExclusion,
    ScheduledPurchase,
    Security,
    SecurityIndex,
    Transaction,
)

log = logging.getLogger(__name__)


ACQUISITIONS = (Transaction.Action.BUY, Transaction.Action.REINVEST, Transaction.Action.TRANSFER_IN)
MARKET_TIMEZONE = ZoneInfo("America/New_York")
Status = HarvestProposal.Status


def market_date(moment: datetime) -> date:
    """The trading date in New York of an aware moment (the daily scan runs after the close there)."""
    return moment.astimezone(MARKET_TIMEZONE).date()


# ---- reading: households -> core snapshots, a constant number of queries for any number of households


@dataclass
class ScanInput:
    """One household as the scan reads it: the core's snapshot and what writing its proposals needs."""

    household_id: int
    name: str
    snapshot: core.HouseholdSnapshot
    policy: HarvestPolicy | None
    security_ids: dict[str, int]  # ticker -> Security pk
    problem: str = ""  # why this household cannot be scanned (no policy in force, ...)


@dataclass(frozen=True)
class _Shared:
    """What every household of a scan shares: securities, identity groups, closes, default chains."""

    tickers: dict[int, str]
    names: dict[str, str]
    asset_classes: dict[str, str]
    identity: dict[str, str]  # ticker -> tracked index on the scan date (lots.engine.IdentityMap rules)
    prices: dict[str, core.Quote]
    default_chains: dict[str, tuple[str, ...]]


_SHARED_CACHE: dict[tuple, _Shared] = {}  # per worker process, per scan: read once, not once per chunk


def _shared(as_of: date, cache_key=None) -> _Shared:
    """Four queries, or none for a later chunk of the same scan in this process (a scan is one moment)."""
    if cache_key is not None and (cache_key, as_of) in _SHARED_CACHE:
        return _SHARED_CACHE[(cache_key, as_of)]
    t = _TABLE
    securities = _fetch(f"""
        SELECT s.id, s.ticker, s.name, ac.code FROM {t['Security']} s JOIN {t['AssetClass']} ac ON ac.id = s.asset_class_id
        ORDER BY s.ticker""", [])
    tickers = {pk: ticker for pk, ticker, _, _ in securities}
    periods: dict[str, list] = defaultdict(list)
    for ticker, since, index_name in _fetch(f"""
            SELECT s.ticker, x.since, x.index_name FROM {t['SecurityIndex']} x JOIN {t['Security']} s ON s.id = x.security_id
            ORDER BY x.since DESC""", [], (None, _sqlite_date, None)):  # SecurityIndex's ordering, as the ORM read it
        periods[ticker].append((since, index_name))
    dated = engine.IdentityMap(periods)  # the same dated groups the wash-sale engine uses
    newest = f"FROM {t['Price']} p WHERE p.security_id = s.id AND p.date <= %s ORDER BY p.date DESC LIMIT 1"
    quotes = _fetch(  # lots.selectors.latest_quotes, bounded by the scan date
        f"SELECT s.ticker, (SELECT p.close {newest}), (SELECT p.date {newest}) FROM {t['Security']} s ORDER BY s.ticker",
        [as_of, as_of], (None, _sqlite_number, _sqlite_date))
    chains: dict[str, list[str]] = defaultdict(list)
    for asset_class, ticker in _fetch(f"""
            SELECT ac.code, s.ticker FROM {t['ReplacementChainEntry']} e JOIN {t['ReplacementChain']} c ON c.id = e.chain_id
            JOIN {t['AssetClass']} ac ON ac.id = c.asset_class_id JOIN {t['Security']} s ON s.id = e.security_id
            WHERE c.household_id IS NULL ORDER BY e.chain_id, e.position""", []):
        chains[asset_class].append(ticker)
    shared = _Shared(
        tickers=tickers,
        names={ticker: name for _, ticker, name, _ in securities},
        asset_classes={ticker: code for _, ticker, _, code in securities},
        identity={ticker: dated.group_on(ticker, as_of) for ticker in tickers.values()},
        prices={ticker: core.Quote(close, day) for ticker, close, day in quotes if close is not None},
        default_chains={k: tuple(v) for k, v in chains.items()},
    )
    if cache_key is not None:
        if len(_SHARED_CACHE) >= 8:
            _SHARED_CACHE.pop(next(iter(_SHARED_CACHE)))
        _SHARED_CACHE[(cache_key, as_of)] = shared
    return shared


def scheduled_dates(spec, start: date, end: date) -> list[date]:
    """The dates in [start, end] a scheduled purchase buys on: lots.schedule.scheduled_dates (trading
    days, DRIPs on their funds' distribution months), or a plain local fallback while that is missing."""
    try:
        from lots.schedule import scheduled_dates as shared
    except ImportError:
        return _scheduled_dates_fallback(spec, start, end)
    return list(shared(spec, start, end))


def _schedule_spec(kind, frequency, start_date, end_date, paused_until, asset_class):
    """A schedule value without a query per row (lots.schedule.Schedule when it exists)."""
    try:
        from lots.schedule import Schedule
    except ImportError:
        return SimpleNamespace(kind=kind, frequency=frequency, start_date=start_date, end_date=end_date,
                               paused_until=paused_until, active=True)
    return Schedule(kind, frequency, start_date, end_date, paused_until, True, asset_class or "")


def _scheduled_dates_fallback(spec, start: date, end: date) -> list[date]:
    """Stand-in for lots.schedule: weekly / biweekly every 7 / 14 days from the start date, monthly /
    quarterly on the start date's day (clamped to the month's end), semimonthly the 1st and 15th; none
    before start_date, after end_date or before paused_until (one on paused_until counts: conservative)."""
    first = max(start, spec.start_date, spec.paused_until or start)
    last = min(end, spec.end_date) if spec.end_date else end
    out: list[date] = []
    if spec.frequency in ("weekly", "biweekly"):
        step = 7 if spec.frequency == "weekly" else 14
        day = spec.start_date + timedelta(days=-(-(first - spec.start_date).days // step) * step)
        while day <= last:
            out.append(day)
            day += timedelta(days=step)
        return out
    months = {"semimonthly": 1, "quarterly": 3}.get(spec.frequency, 1)
    anchor = spec.start_date.replace(day=1) if spec.frequency == "semimonthly" else spec.start_date
    n = 0
    while True:
        month0 = anchor.month - 1 + n
        year, month = anchor.year + month0 // 12, month0 % 12 + 1
        if date(year, month, 1) > last:
            return out
        for wanted in (1, 15) if spec.frequency == "semimonthly" else (anchor.day,):
            day = date(year, month, min(wanted, calendar.monthrange(year, month)[1]))  # the 31st: month's end
            if first <= day <= last:
                out.append(day)
        n += months


def core_policy(policy: HarvestPolicy) -> core.Policy:
    """The policy's terms as the core reads them (spread, commission, price age: the core's defaults)."""
    return core.Policy(
        min_loss_amount=policy.min_loss_amount,
        min_loss_percent=policy.min_loss_percent,
        benefit_cost_margin=policy.benefit_cost_margin,
        scope=policy.scope,
        switchback_gain_limit=policy.switchback_gain_limit,
    )


def _policies(household_ids: list[int], owner_counts: dict[int, int]) -> tuple[dict, dict]:
    """(in force, newest) per household. In force: the newest version every owner has acknowledged
    (harvester.policy.policy_in_force, for many households in one query)."""
    in_force: dict[int, HarvestPolicy] = {}
    newest: dict[int, HarvestPolicy] = {}
    rows = (
        HarvestPolicy.objects.filter(household_id__in=household_ids)
        .annotate(acknowledged=Count("acknowledgments__owner", distinct=True))
        .order_by("household_id", "-version")
    )
    for policy in rows:
        newest.setdefault(policy.household_id, policy)
        if policy.household_id not in in_force and policy.acknowledged >= owner_counts.get(policy.household_id, 0):
            in_force[policy.household_id] = policy
    return in_force, newest


# ---- raw reads: a chunk's rows as tuples (thousands per query), never model instances

_TABLE = {m.__name__: m._meta.db_table for m in (
    Household, Owner, OwnerTaxProfile, Account, Lot, Transaction, Disposal, ScheduledPurchase, Security,
    SecurityIndex, Price, ReplacementChain, ReplacementChainEntry, ReplacementExclusion, IdentityOverride,
    TargetAllocation, Execution, HarvestProposal)}
_TABLE["AccountOwners"] = Account.owners.through._meta.db_table
_TABLE["AssetClass"] = Security._meta.get_field("asset_class").related_model._meta.db_table


def _in_ids(column: str, ids: list[int]) -> tuple[str, list]:
    """`column = ANY(%s)` with one array parameter on PostgreSQL (a chunk's ids, not hundreds of
    placeholders to bind), given as the array's text, which psycopg sends as it is (a Python list it
    would quote element by element); a literal IN list of integers on SQLite, the embedded default."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(CAST(%s AS bigint[]))", ["{" + ",".join(str(int(i)) for i in ids) + "}"]
    return f"{column} IN ({', '.join(str(int(i)) for i in ids) or 'NULL'})", []  # SQLite: no arrays


def _extras(household_ids: list[int]) -> list[tuple]:
    """Five small per-household lists in one round trip: household chains, exclusions, identity overrides,
    target allocation, and the buys of executed harvests (their lots may switch back)."""
    t = _TABLE
    where, params = _in_ids("", household_ids)
    sql = f"""
        SELECT 'chain', c.household_id, ac.code, s.ticker, e.position FROM {t['ReplacementChainEntry']} e
          JOIN {t['ReplacementChain']} c ON c.id = e.chain_id JOIN {t['AssetClass']} ac ON ac.id = c.asset_class_id
          JOIN {t['Security']} s ON s.id = e.security_id WHERE c.household_id {where}
        UNION ALL SELECT 'exclusion', x.household_id, s.ticker, '', 0 FROM {t['ReplacementExclusion']} x
          JOIN {t['Security']} s ON s.id = x.security_id WHERE x.household_id {where}
        UNION ALL SELECT 'override', o.household_id, s.ticker, o."group", 0 FROM {t['IdentityOverride']} o
          JOIN {t['Security']} s ON s.id = o.security_id WHERE o.household_id {where}
        UNION ALL SELECT 'target', a.household_id, ac.code, CAST(a.weight_percent AS TEXT), 0 FROM {t['TargetAllocation']} a
          JOIN {t['AssetClass']} ac ON ac.id = a.asset_class_id WHERE a.household_id {where}
        UNION ALL SELECT 'harvest_buy', p.household_id, CAST(x.buy_transaction_id AS TEXT), '', 0 FROM {t['Execution']} x
          JOIN {t['HarvestProposal']} p ON p.id = x.proposal_id
          WHERE p.household_id {where} AND x.buy_transaction_id IS NOT NULL
        ORDER BY 1, 2, 5
    """  # noqa: S608 (table names from the models, values as parameters)
    return _fetch(sql, params * 5)


def _chunk_rows(ids: list[int], as_of: date) -> dict[str, list[tuple]]:
    """Every per-household row of a chunk, in nine raw queries whatever the number of households (the
    policies are the tenth, read through the ORM: the scan keeps them as HarvestPolicy instances). The
    account-level rows are selected by the accounts' ids (an index scan of each table), not by joining
    accounts on the household: half the database's work for the lots."""
    t, year = _TABLE, as_of.year
    window = (as_of - timedelta(days=WINDOW_DAYS), as_of + timedelta(days=WINDOW_DAYS))
    money = (_sqlite_decimal(OwnerTaxProfile, name) for name in (
        "ordinary_income", "state_rate", "outside_short_term_gains", "outside_long_term_gains",
        "carryforward_short_term", "carryforward_long_term"))
    # Table names come from the models; values are parameters (or checked integers on SQLite).
    rows = {}
    where, params = _in_ids("h.id", ids)
    rows["names"] = _fetch(f"SELECT h.id, h.name FROM {t['Household']} h WHERE {where}", params)
    where, params = _in_ids("o.household_id", ids)
    rows["owners"] = _fetch(f"""
        SELECT o.id, o.household_id, o.name, o.taxpayer_unit_id, p.filing_status, p.ordinary_income, p.state_rate,
               p.outside_short_term_gains, p.outside_long_term_gains, p.carryforward_short_term,
               p.carryforward_long_term
        FROM {t['Owner']} o LEFT JOIN {t['OwnerTaxProfile']} p ON p.owner_id = o.id AND p.year = %s
        WHERE {where}""", [year, *params], (None, None, None, None, None, *money))
    where, params = _in_ids("a.household_id", ids)
    rows["accounts"] = _fetch(f"""
        SELECT a.id, a.household_id, a.name, a.kind, ao.owner_id FROM {t['Account']} a
        LEFT JOIN {t['AccountOwners']} ao ON ao.account_id = a.id WHERE {where}""", params)
    accounts = sorted({row[0] for row in rows["accounts"]})

    def of_accounts(alias: str) -> tuple[str, list]:
        return _in_ids(f"{alias}.account_id", accounts)

    where, params = of_accounts("d")
    rows["realized"] = _fetch(f"""
        SELECT d.account_id, d.term, SUM(d.gain_loss) FROM {t['Disposal']} d
        WHERE {where} AND d.tax_year = %s AND d.reportable = %s GROUP BY d.account_id, d.term""",
        [*params, year, True], (None, None, _sqlite_number))
    # The one query that grows with the data. Its rows are in HeldLot's field order (from_harvest is set
    # afterwards for the few lots bought by an executed harvest); the lot id is its buy trade and piece,
    # stable across ledger recomputes (Lot pks are not).
    where, params = of_accounts("l")
    rows["lots"] = _fetch(f"""
        SELECT CAST(l.origin_id AS TEXT) || '.' || CAST(l.piece AS TEXT), CAST(l.account_id AS TEXT), s.ticker,
               l.quantity, l.cost_basis, l.acquired_date, l.holding_period_start, CAST(l.origin_id AS TEXT), FALSE
        FROM {t['Lot']} l JOIN {t['Security']} s ON s.id = l.security_id WHERE {where}""", params,
        (None, None, None, _sqlite_decimal(Lot, "quantity"), _sqlite_decimal(Lot, "cost_basis"), _sqlite_date, _sqlite_date, None,
         bool))
    where, params = of_accounts("x")
    rows["acquisitions"] = _fetch(f"""
        SELECT x.id, x.account_id, x.security_id, x.trade_date, x.quantity FROM {t['Transaction']} x
        WHERE {where} AND x.action IN (%s, %s, %s) AND x.trade_date >= %s AND x.trade_date <= %s
        ORDER BY x.trade_date, x.seq, x.id""", [*params, *ACQUISITIONS, *window],
        (None, None, None, _sqlite_date, _sqlite_decimal(Transaction, "quantity")))
    where, params = of_accounts("d")
    rows["loss_sales"] = _fetch(f"""
        SELECT d.sale_id, d.account_id, d.security_id, d.date_sold, d.quantity, d.gain_loss FROM {t['Disposal']} d
        WHERE {where} AND d.reportable = %s AND d.gain_loss < 0 AND d.date_sold >= %s AND d.date_sold <= %s
        ORDER BY d.date_sold, d.sale_id, d.id""", [*params, True, window[0], as_of],
        (None, None, None, _sqlite_date, _sqlite_decimal(Disposal, "quantity"), _sqlite_decimal(Disposal, "gain_loss")))
    where, params = of_accounts("sp")
    rows["scheduled"] = _fetch(f"""
        SELECT sp.id, sp.account_id, sp.security_id, sp.kind, sp.frequency, sp.start_date, sp.end_date,
               sp.paused_until, ac.code
        FROM {t['ScheduledPurchase']} sp JOIN {t['Account']} a ON a.id = sp.account_id
        JOIN {t['Security']} s ON s.id = sp.security_id LEFT JOIN {t['AssetClass']} ac ON ac.id = s.asset_class_id
        WHERE {where} AND sp.active = %s ORDER BY a.household_id, a.name, s.ticker, sp.id""",
        [*params, True], (None, None, None, None, None, _sqlite_date, _sqlite_date, _sqlite_date, None))
    rows["extras"] = _extras(ids)
    return rows


def households_snapshots(household_ids, *, as_of: date, cache_key=None) -> dict[int, ScanInput]:
    """Read many households at once (a scan chunk) into the core's snapshots: the same 14 queries for 1
    or 1,000 households (10 when `cache_key`, the scan, already read the shared part in this process).

    Open lots (adjusted basis, holding-period start), closes on or before `as_of` with their dates,
    identity groups (tracked index on `as_of`; a household override wins at every date, as in
    lots.convert.identity_map), asset classes, acquisitions within 30 days of `as_of` and loss sales in
    the 30 days before it across each household (IRAs included), scheduled purchases of the next 30 days
    expanded to dates, the owners' tax profiles for the year with the gains realized so far, the policy
    in force, replacement chains (a household chain replaces the default one of its asset class),
    exclusions, and the target allocation.
    """
    ids = sorted({int(h) for h in household_ids})
    shared = _shared(as_of, cache_key)
    rows = _chunk_rows(ids, as_of)
    names = dict(rows["names"])
    ids = [h for h in ids if h in names]
    ticker = shared.tickers
    security_ids = {t: pk for pk, t in ticker.items()}

    owners = rows["owners"]
    in_force, newest = _policies(ids, Counter(row[1] for row in owners))
    account_household = {row[0]: row[1] for row in rows["accounts"]}
    realized = {(account_id, term): total for account_id, term, total in rows["realized"]}
    extras = defaultdict(list)
    for kind, household_id, a, b, _position in rows["extras"]:
        extras[kind, household_id].append((a, b))

    lots: dict[int, list] = defaultdict(list)
    add_to = {str(pk): lots[h].append for pk, h in account_household.items()}
    make = core.HeldLot._make
    for row in rows["lots"]:
        add_to[row[1]](make(row))
    harvest_buys = {a for (kind, _), values in extras.items() if kind == "harvest_buy" for a, _ in values}
    if harvest_buys:  # bought as a harvest's replacement: a switch-back candidate
        for household_id, held in lots.items():
            lots[household_id] = [lot._replace(from_harvest=True) if lot.origin in harvest_buys else lot
                                  for lot in held]
    acquisitions: dict[int, list] = defaultdict(list)
    for pk, account_id, security_id, day, quantity in rows["acquisitions"]:
        acquisitions[account_household[account_id]].append(
            core.Acquisition(str(account_id), ticker[security_id], day, quantity, str(pk))
        )
    loss_sales: dict[int, list] = defaultdict(list)
    for sale_id, account_id, security_id, day, quantity, gain_loss in rows["loss_sales"]:
        loss_sales[account_household[account_id]].append(
            core.LossSale(str(account_id), ticker[security_id], day, quantity, -gain_loss, str(sale_id))
        )
    scheduled: dict[int, list] = defaultdict(list)
    until = as_of + timedelta(days=WINDOW_DAYS)
    for pk, account_id, security_id, kind, *spec in rows["scheduled"]:
        for day in _schedule_dates(kind, *spec, as_of, until):
            scheduled[account_household[account_id]].append(
                core.ScheduledBuy(str(account_id), ticker[security_id], day, kind, str(pk))
            )

    owners_of, accounts_of = defaultdict(list), defaultdict(list)
    for row in owners:
        owners_of[row[1]].append(row)
    for row in rows["accounts"]:
        accounts_of[row[1]].append(row)
    result = {}
    for household_id in ids:
        # Most households have no override and no chain of their own: they share the scan's mappings
        # (read-only, as the core treats every snapshot) instead of a copy each.
        overrides = extras.get(("override", household_id))
        identity = {**shared.identity, **dict(overrides)} if overrides else shared.identity
        own_chains = defaultdict(list)
        for asset_class, chain_ticker in extras.get(("chain", household_id), ()):
            own_chains[asset_class].append(chain_ticker)
        chains = {**shared.default_chains, **{k: tuple(v) for k, v in own_chains.items()}} if own_chains else (
            shared.default_chains)
        policy = in_force.get(household_id)
        problem = "" if policy is not None else _no_policy_words(newest.get(household_id))
        try:
            account_infos, owner_infos = _people(accounts_of[household_id], owners_of[household_id], realized, as_of)
        except ValueError as exc:
            account_infos, owner_infos, problem = (), (), str(exc)
        snapshot = core.HouseholdSnapshot(
            household=str(household_id),
            accounts=account_infos,
            owners=owner_infos,
            lots=tuple(lots.get(household_id, ())),
            prices=shared.prices,
            identity=identity,
            asset_classes=shared.asset_classes,
            acquisitions=tuple(acquisitions.get(household_id, ())),
            loss_sales=tuple(loss_sales.get(household_id, ())),
            scheduled=tuple(scheduled.get(household_id, ())),
            policy=core_policy(policy) if policy is not None else core.Policy(),
            chains=chains,
            exclusions=frozenset(t for t, _ in extras.get(("exclusion", household_id), ())),
            target_allocation={code: Decimal(w) for code, w in extras.get(("target", household_id), ())},
            names=shared.names,
        )
        result[household_id] = ScanInput(household_id, names[household_id], snapshot, policy, security_ids, problem)
    return result


@lru_cache(maxsize=4096)
def _schedule_dates(kind, frequency, start_date, end_date, paused_until, asset_class, start: date,
                    end: date) -> tuple[date, ...]:
    """scheduled_dates of one schedule's terms, cached: households' schedules share terms (monthly on the
    1st, ...) and the dates depend on nothing else."""
    return tuple(scheduled_dates(_schedule_spec(kind, frequency, start_date, end_date, paused_until, asset_class),
                                 start, end))


def household_snapshot(household, *, as_of: date) -> core.HouseholdSnapshot:
    """One household as the core's HouseholdSnapshot (a constant number of queries: see households_snapshots)."""
    household_id = household.pk if isinstance(household, Household) else int(household)
    return households_snapshots([household_id], as_of=as_of)[household_id].snapshot


def _no_policy_words(newest: HarvestPolicy | None) -> str:
    if newest is None:
        return "No harvest policy yet: the advisor sets thresholds and approvers before the first scan."
    return (
        f"No harvest policy in force: policy version {newest.version} waits for every owner's acknowledgment, "
        "and no earlier version was acknowledged. Nothing is proposed until the owners acknowledge it."
    )


def _people(accounts, owners, realized, as_of) -> tuple[tuple, tuple]:
    """Accounts and owners as the core reads them. Spouses who file jointly share one return (and the
    profile of the lower owner id); gains realized this year in an account count on its owners' returns,
    shared equally when a joint account's owners file separately."""
    unit_of = {row[0]: row[3] for row in owners}
    return_of = {row[0]: f"unit-{row[3]}-joint" if row[4] == OwnerTaxProfile.FilingStatus.MFJ else str(row[0])
                 for row in owners}
    owners_by_account: dict[int, list[int]] = defaultdict(list)
    described = {}
    for pk, _, name, kind, owner_id in accounts:
        described[pk] = (name, kind)
        if owner_id is not None:
            owners_by_account[pk].append(owner_id)
    account_infos = []
    gains: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal("0"), Decimal("0")])
    for pk in sorted(described):
        name, kind = described[pk]
        owner_ids = sorted(owners_by_account[pk])
        units = {unit_of[o] for o in owner_ids if o in unit_of}
        if len(units) != 1:
            raise ValueError(
                f"Account {name} must have owners in exactly one taxpayer unit (has {len(units)}): fix its owners."
            )
        engine_kind = "taxable" if kind in Account.TAXABLE_KINDS else kind
        account_infos.append(
            core.AccountInfo(str(pk), name, engine_kind, tuple(str(o) for o in owner_ids), str(units.pop()))
        )
        returns = sorted({return_of[o] for o in owner_ids})
        for index, term in enumerate(("short", "long")):
            total = realized.get((pk, term))
            if total:
                for r in returns:
                    gains[r][index] += total / len(returns)
    profiles: dict[str, TaxProfile] = {}
    owner_infos = []
    for pk, _, name, unit, status, income, state, out_st, out_lt, cf_st, cf_lt in sorted(owners):
        r = return_of[pk]
        if r not in profiles and status is not None:
            st, lt = gains[r] if r in gains else (Decimal("0"), Decimal("0"))
            profiles[r] = TaxProfile(year=as_of.year, filing_status=status, ordinary_income=income, state_rate=state,
                                     st_gains=out_st + st, lt_gains=out_lt + lt, carryforward_st=cf_st,
                                     carryforward_lt=cf_lt)
        owner_infos.append(core.OwnerInfo(str(pk), name, str(unit), profiles.get(r), r if r != str(pk) else ""))
    return tuple(account_infos), tuple(owner_infos)


# ---- writing proposals: idempotent per fingerprint


# What an approver sees and decides on (the fingerprint fixes the account, the lots and the replacement):
# the shares of each lot and what must be paused. A change is a new version (an approval binds to one
# version). The estimates (price, loss, tax value, cost, words, the date a pause ends, which follows the
# sale date) move with the market and are refreshed in place.
FIGURE_FIELDS = (
    "lots", "sell_quantity", "price", "price_date", "proceeds", "cost_basis", "loss_short_term", "loss_long_term",
    "tax_value", "trading_cost", "buy_amount", "checks", "required_actions", "explanation",
)


@dataclass
class WriteSummary:
    created: list[int] = field(default_factory=list)
    revised: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)


_CANONICAL = json.JSONEncoder(default=str, sort_keys=True, separators=(",", ":"))


def _digest(values: dict, names) -> str:
    text = json.dumps([values[n] for n in names], default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 (a change detector, not security)


def _fields(p, security_ids: dict[str, int]) -> tuple[dict, dict[str, str]]:
    """A core Proposal as HarvestProposal field values (JSON parts from Proposal.as_dict()), and the JSON
    text of its JSON fields for the PostgreSQL writes. The explanation also carries digests of the
    figures and of the decision, so a re-run compares two short strings instead of loading every open
    proposal's JSON."""
    data = p.as_dict()
    values = {
        "kind": p.kind,
        "fingerprint": p.fingerprint,
        "account_id": int(p.account),
        "sell_security_id": security_ids[p.sell_ticker],
        "buy_security_id": security_ids[p.buy_ticker],
        "lots": data["lots"],
        "sell_quantity": p.sell_quantity,
        "price": p.price,
        "price_date": p.price_date,
        "proceeds": p.proceeds,
        "cost_basis": p.basis,
        "loss_short_term": p.loss_short,
        "loss_long_term": p.loss_long,
        "tax_value": p.tax_value,
        "trading_cost": p.trading_cost,
        "buy_amount": p.buy_amount,
        "checks": data["checks"],
        "required_actions": data["required_actions"],
        "explanation": {**data["explanation"], "rank": p.rank, "sale_date": data["sale_date"],
                        "basis_reduction": str(p.loss), "owners": data["owners"]},
    }
    decision = {
        "lots": sorted((row["lot"], row["quantity"]) for row in data["lots"]),
        "actions": sorted((a["kind"], a["account"], a["ticker"], a["schedule"]) for a in data["required_actions"]),
    }
    values["explanation"]["decision"] = _digest(decision, ("lots", "actions"))
    # Each figure is encoded once: the digest is the sha1 of their list's canonical JSON (the text
    # _digest(values, FIGURE_FIELDS) hashes, item by item), and the JSON columns are written from the
    # same texts, the explanation's with its digest appended (key order means nothing to jsonb).
    texts = {name: _CANONICAL.encode(values[name]) for name in FIGURE_FIELDS}
    digest = hashlib.sha1(f"[{','.join(texts.values())}]".encode()).hexdigest()  # noqa: S324 (as _digest)
    values["explanation"]["digest"] = digest
    texts["explanation"] = f'{texts["explanation"][:-1]},"digest":"{digest}"}}'
    return values, {name: texts[name] for name in FIGURE_FIELDS if _FIGURE_TYPES[name] == "jsonb"}


def _audit_many(events: list[AuditEvent]) -> None:
    """harvester.audit.audit_record for many events at once (same rule: inside the change's transaction)."""
    if not events:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events must be written inside transaction.atomic() with the change they record")
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create(events, batch_size=1000)
        return
    now = timezone.now()
    pg_insert(AuditEvent._meta.db_table, _AUDIT_COLUMNS, [
        (e.household_id, e.actor_id, e.at or now, e.ip, e.action, e.object_type, e.object_id, e.summary,
         _json_or_null(e.before), _json_or_null(e.after)) for e in events
    ])


# PostgreSQL writes of a chunk: one statement per table (harvester.rawsql.pg_insert, pg_update).
_AUDIT_COLUMNS = (("household_id", "bigint"), ("actor_id", "bigint"), ("at", "timestamptz"), ("ip", "inet"),
                  ("action", "text"), ("object_type", "text"), ("object_id", "text"), ("summary", "text"),
                  ("before", "jsonb"), ("after", "jsonb"))
_FIGURE_TYPES = {"lots": "jsonb", "sell_quantity": "numeric", "price": "numeric", "price_date": "date",
                 "proceeds": "numeric", "cost_basis": "numeric", "loss_short_term": "numeric",
                 "loss_long_term": "numeric", "tax_value": "numeric", "trading_cost": "numeric",
                 "buy_amount": "numeric", "checks": "jsonb", "required_actions": "jsonb", "explanation": "jsonb"}
_PROPOSAL_COLUMNS = (("household_id", "bigint"), ("scan_id", "bigint"), ("policy_id", "bigint"), ("kind", "text"),
                     ("status", "text"), ("version", "integer"), ("fingerprint", "text"), ("account_id", "bigint"),
                     ("sell_security_id", "bigint"), ("buy_security_id", "bigint"),
                     *((name, _FIGURE_TYPES[name]) for name in FIGURE_FIELDS), ("status_reason", "text"),
                     ("expires_at", "timestamptz"), ("created_at", "timestamptz"), ("updated_at", "timestamptz"))


def _json_or_null(value) -> str | None:
    return None if value is None else json.dumps(value)  # a JSONField's None is SQL NULL, not JSON null


def _event(action: str, household_id: int, pk: int, summary: str, **states) -> AuditEvent:
    return AuditEvent(household_id=household_id, action=action, object_type="HarvestProposal", object_id=str(pk),
                      summary=summary[:300], **states)


def _describe(values: dict, tickers: dict[int, str]) -> str:
    kind = "Switch back" if values["kind"] == HarvestProposal.Kind.SWITCH_BACK else "Harvest"
    loss = Decimal(values["loss_short_term"]) + Decimal(values["loss_long_term"])
    return (f"{kind}: sell {Decimal(values['sell_quantity']).normalize():f} {tickers[values['sell_security_id']]}"
            f" -> buy {tickers[values['buy_security_id']]}, loss {loss}, tax value {values['tax_value']}")


@transaction.atomic
def proposals_write(*, household, scan: HarvestScan, proposals, as_of: date, result=None,
                    inputs: ScanInput | None = None) -> WriteSummary:
    """Store one household's scan result idempotently.

    An open proposal with the same fingerprint is kept (its estimates refreshed; its version bumped only
    when the decision changes: lots, quantity, replacement or required actions); open proposals of the
    household this scan does not propose again are superseded with the reason; the rest are created,
    expiring after the policy's proposal_expiry_days. Audit events in the same transaction. Tickers the
    core refused to price (stale prices) leave their open proposals alone: the scan cannot judge them.
    """
    household_id = household.pk if isinstance(household, Household) else int(household)
    Household.objects.select_for_update().filter(pk=household_id).first()  # one writer per household
    if inputs is None:
        inputs = households_snapshots([household_id], as_of=as_of)[household_id]
    return _proposals_write_many(scan=scan, batch=[(inputs, list(proposals), result)])[household_id]


def _proposals_write_many(*, scan: HarvestScan, batch) -> dict[int, WriteSummary]:
    """proposals_write for many households in a few queries (a chunk). `batch`: (ScanInput, proposals,
    ScanResult or None). Caller is inside transaction.atomic and holds the households' row locks."""
    now = timezone.now()
    summaries = {inputs.household_id: WriteSummary() for inputs, _, _ in batch}
    tickers = {pk: t for inputs, _, _ in batch[:1] for t, pk in inputs.security_ids.items()}
    open_rows: dict[int, dict[str, tuple]] = defaultdict(dict)
    for row in (
        HarvestProposal.objects.select_for_update(of=("self",))
        .filter(household_id__in=list(summaries), status__in=OPEN_PROPOSAL_STATES)
        .values_list("pk", "household_id", "fingerprint", "status", "version", "sell_security__ticker",
                     "buy_security_id", "explanation__digest", "explanation__decision", "account_id")
    ):
        open_rows[row[1]][row[2]] = row
    to_create, to_update, revised, events = [], [], [], []
    to_supersede: list[tuple[tuple, str]] = []
    for inputs, proposals, result in batch:
        summary, existing, seen = summaries[inputs.household_id], open_rows.get(inputs.household_id, {}), set()
        expiry = timedelta(days=(inputs.policy or HarvestPolicy()).proposal_expiry_days)
        for p in proposals:
            values, texts = _fields(p, inputs.security_ids)
            row = existing.get(values["fingerprint"])
            if row is None:
                to_create.append((inputs.household_id, inputs.policy, values, texts, now + expiry))
                continue
            pk, _, fingerprint, _, version, _, _, digest, decision, _ = row
            seen.add(fingerprint)
            if digest == values["explanation"]["digest"]:
                summary.kept.append(pk)
                continue
            changed = decision != values["explanation"]["decision"]
            to_update.append((pk, version + changed, values, texts))
            if changed:
                summary.revised.append(pk)
                revised.append((inputs.household_id, pk, version, values))
            else:
                summary.kept.append(pk)
        refused = {r.ticker for r in result.refusals} if result is not None else set()
        skipped = {(s.account, s.ticker): s.detail for s in result.skipped} if result is not None else {}
        for fingerprint, row in existing.items():
            if fingerprint not in seen and row[5] not in refused and tickers.get(row[6]) not in refused:
                to_supersede.append((row, _supersede_reason(scan, row, skipped)))
    if revised:
        before = {pk: (q, actions) for pk, q, actions in HarvestProposal.objects.filter(
            pk__in=[pk for _, pk, _, _ in revised]).values_list("pk", "sell_quantity", "required_actions")}
        events += [_event("proposal.revise", h, pk, f"Scan #{scan.pk} revised: {_describe(values, tickers)}",
                          before={"version": v, "sell_quantity": str(before[pk][0]), "required_actions": before[pk][1]},
                          after={"version": v + 1, "sell_quantity": str(values["sell_quantity"]),
                                 "required_actions": values["required_actions"], "scan": scan.pk})
                   for h, pk, v, values in revised]
    if to_update:
        _proposals_refresh(to_update, now=now)
    if revised:
        # Approvals of the earlier version no longer count: an approved proposal goes back to awaiting
        # approval, and its approvers are asked again (the state machine's rule, in this transaction).
        from harvester.approvals import proposal_revised

        for _, pk, _, _ in revised:
            proposal_revised(proposal_id=pk)
    if to_create:
        for (household_id, _, values, _, expires_at), pk in zip(to_create, _proposals_create(scan, to_create, now=now),
                                                             strict=True):
            summaries[household_id].created.append(pk)
            events.append(_event(
                "proposal.create", household_id, pk, f"Scan #{scan.pk} proposed: {_describe(values, tickers)}",
                after={"status": Status.PROPOSED, "version": 1, "fingerprint": values["fingerprint"], "scan": scan.pk,
                       "tax_value": str(values["tax_value"]), "expires_at": expires_at.isoformat()},
            ))
    _audit_many(events)
    for row, reason in to_supersede:
        if _supersede(row, reason, now=now):
            summaries[row[1]].superseded.append(row[0])
    return summaries


def _proposals_create(scan: HarvestScan, rows: list[tuple], *, now) -> list[int]:
    """Insert new proposals, `rows` of (household id, policy, field values, their JSON texts, expires_at),
    status proposed, version 1; their pks in the same order."""
    if connection.vendor != "postgresql":
        created = [HarvestProposal(household_id=h, scan=scan, policy=policy, status=Status.PROPOSED, expires_at=expires,
                                   **values) for h, policy, values, _, expires in rows]
        HarvestProposal.objects.bulk_create(created, batch_size=500)
        return [p.pk for p in created]
    inserted = pg_insert(HarvestProposal._meta.db_table, _PROPOSAL_COLUMNS, [
        (h, scan.pk, policy.pk if policy is not None else None, v["kind"], Status.PROPOSED.value, 1, v["fingerprint"],
         v["account_id"], v["sell_security_id"], v["buy_security_id"], *_figures(v, texts), "", expires, now, now)
        for h, policy, v, texts, expires in rows
    ], returning="id, household_id, fingerprint")
    pk_of = {(h, fingerprint): pk for pk, h, fingerprint in inserted}  # one open proposal per fingerprint
    return [pk_of[h, v["fingerprint"]] for h, _, v, _, _ in rows]


def _proposals_refresh(rows: list[tuple], *, now) -> None:
    """Write new figures (and version) of kept proposals, `rows` of (pk, version, field values, JSON texts)."""
    if connection.vendor != "postgresql":
        HarvestProposal.objects.bulk_update(
            [HarvestProposal(pk=pk, version=version, updated_at=now, **{n: values[n] for n in FIGURE_FIELDS})
             for pk, version, values, _ in rows], [*FIGURE_FIELDS, "version", "updated_at"], batch_size=500)
        return
    columns = (("id", "bigint"), *((n, _FIGURE_TYPES[n]) for n in FIGURE_FIELDS), ("version", "integer"),
               ("updated_at", "timestamptz"))
    pg_update(HarvestProposal._meta.db_table, columns,
               [(pk, *_figures(values, texts), version, now) for pk, version, values, texts in rows])


def _figures(values: dict, texts: dict[str, str]) -> list:
    """The FIGURE_FIELDS of a proposal as the PostgreSQL writes send them (JSON as its text)."""
    return [texts[n] if n in texts else values[n] for n in FIGURE_FIELDS]


def _supersede_reason(scan: HarvestScan, row: tuple, skipped: dict) -> str:
    """Why the scan no longer proposes an open proposal: the core's words for its position when it has them."""
    sell_ticker, account = row[5], row[9]
    why = skipped.get((str(account), sell_ticker))
    when = f"scan #{scan.pk} of {scan.as_of:%Y-%m-%d}"
    if why:
        return f"The {when} no longer proposes it: {why}"
    return f"The {when} no longer proposes it: its prices, lots or the wash-sale picture changed."


def _supersede(row: tuple, reason: str, *, now) -> bool:
    """Move an open proposal to superseded through the approvals state machine (it audits and tells the
    approvers who were asked); without that module, the same transition and audit here."""
    pk, household_id, _, status, version, *_ = row
    try:
        from harvester.approvals import proposal_supersede
    except ImportError:
        proposal_supersede = None
    if proposal_supersede is not None:
        return proposal_supersede(proposal=HarvestProposal(pk=pk, household_id=household_id), reason=reason)
    updated = HarvestProposal.objects.filter(pk=pk, status__in=OPEN_PROPOSAL_STATES).update(
        status=Status.SUPERSEDED, status_reason=reason, updated_at=now
    )
    if updated:
        _audit_many([_event("proposal.supersede", household_id, pk, reason, before={"status": status, "version": version},
                            after={"status": Status.SUPERSEDED, "reason": reason})])
    return bool(updated)


# ---- scans: start, fan out, claim and run chunks, finish, reap


class ChunkLost(Exception):
    """The chunk was taken back (the reaper re-queued it) while this worker ran it: its work is rolled back."""


def scan_in_progress(household) -> HarvestScan | None:
    return (
        HarvestScan.objects.filter(household=household, status__in=(HarvestScan.Status.QUEUED, HarvestScan.Status.RUNNING))
        .order_by("-created_at", "-id")
        .first()
    )


@transaction.atomic
def scan_start(*, household=None, user=None, as_of: date) -> HarvestScan:
    """Start a scan of one household ("Scan now") or, with household=None, of every household with a
    harvest policy (the daily firm-wide scan). The work is enqueued when this transaction commits.

    "Scan now" on a household whose scan is still queued or running returns that scan (a double click
    starts nothing new)."""
    from harvester import tasks

    if household is not None:
        Household.objects.select_for_update().filter(pk=household.pk).first()
        running = scan_in_progress(household)
        if running is not None:
            return running
        scan = HarvestScan.objects.create(household=household, started_by=user, as_of=as_of, households_total=1)
        ScanChunk.objects.create(scan=scan, index=0, household_ids=[household.pk])
        _audit_many([AuditEvent(
            household=household, actor=user if user is not None and user.is_authenticated else None,
            action="scan.start", object_type="HarvestScan", object_id=str(scan.pk),
            summary=f"Scan #{scan.pk} of {household.name} as of {as_of:%Y-%m-%d}",
        )])
        tasks.scan_household_task.delay_on_commit(scan.pk)
        return scan
    scan = HarvestScan.objects.create(household=None, started_by=user, as_of=as_of)
    _audit_many([AuditEvent(
        actor=user if user is not None and user.is_authenticated else None, action="scan.start",
        object_type="HarvestScan", object_id=str(scan.pk), summary=f"Firm-wide scan #{scan.pk} as of {as_of:%Y-%m-%d}",
    )])
    tasks.scan_firm_task.delay_on_commit(scan.pk)
    return scan


SMALLEST_SPLIT_CHUNK = 50  # households: a chunk is not made smaller than this to have SCAN_MIN_CHUNKS of them
SUBMIT_BATCH = 500  # new proposals per approvals-flow task after a scan (_submit_on_commit)


def firm_households():
    """The households a firm-wide scan covers: those with a harvest policy."""
    return Household.objects.filter(policies__isnull=False).distinct()


def chunk_size(households: int) -> int:
    """Households per chunk for a firm-wide scan of `households`: SCAN_CHUNK_SIZE at most, less when that
    leaves fewer than SCAN_MIN_CHUNKS chunks, but not below 50 households for that."""
    wanted = -(-households // settings.SCAN_MIN_CHUNKS)
    return min(settings.SCAN_CHUNK_SIZE, max(SMALLEST_SPLIT_CHUNK, wanted))


@transaction.atomic
def scan_fan_out(*, scan_id: int) -> dict:
    """Split a firm-wide scan into chunks of chunk_size(N) households (once: a second run finds the chunks
    made) and enqueue every chunk still queued when this transaction commits."""
    from harvester import tasks

    scan = HarvestScan.objects.select_for_update().get(pk=scan_id)
    if not scan.chunks.exists() and scan.status == HarvestScan.Status.QUEUED:
        ids = list(firm_households().order_by("pk").values_list("pk", flat=True))
        size = chunk_size(len(ids))
        ScanChunk.objects.bulk_create(
            [ScanChunk(scan=scan, index=i // size, household_ids=ids[i : i + size]) for i in range(0, len(ids), size)]
        )
        scan.households_total = len(ids)
        scan.status = HarvestScan.Status.RUNNING
        scan.started_at = timezone.now()
        if not ids:
            scan.status, scan.finished_at = HarvestScan.Status.DONE, scan.started_at
        scan.save(update_fields=["households_total", "status", "started_at", "finished_at"])
    queued = list(scan.chunks.filter(status=ScanChunk.Status.QUEUED).values_list("pk", flat=True))
    for chunk_id in queued:
        tasks.scan_chunk_task.delay_on_commit(chunk_id)
    return {"scan_id": scan.pk, "chunks": len(queued), "households": scan.households_total}


def scan_run(*, scan_id: int) -> dict:
    """Run every queued chunk of a scan in this process (a one-household scan has one)."""
    results = [scan_run_chunk(chunk_id=pk) for pk in
               ScanChunk.objects.filter(scan_id=scan_id, status=ScanChunk.Status.QUEUED).values_list("pk", flat=True)]
    return {"scan_id": scan_id, "chunks": results}


@transaction.atomic
def scan_chunk_claim(*, chunk_id: int) -> int | None:
    """Claim a queued chunk: a conditional UPDATE (queued -> running, attempts + 1) that must change
    exactly one row, so two workers given the same chunk never both run it. Returns the attempt number,
    or None when the chunk is not queued (done, failed, or running elsewhere)."""
    now = timezone.now()
    claimed = ScanChunk.objects.filter(pk=chunk_id, status=ScanChunk.Status.QUEUED).update(
        status=ScanChunk.Status.RUNNING, attempts=F("attempts") + 1, claimed_at=now
    )
    if claimed != 1:
        return None
    chunk = ScanChunk.objects.select_related("scan").get(pk=chunk_id)
    HarvestScan.objects.filter(pk=chunk.scan_id, status=HarvestScan.Status.QUEUED).update(
        status=HarvestScan.Status.RUNNING, started_at=now
    )
    return chunk.attempts


def scan_run_chunk(*, chunk_id: int) -> dict:
    """Claim a chunk (committed on its own, so a dead worker leaves it visibly 'running' for the reaper),
    then scan its households and write their proposals in one transaction, mark it done, add to the
    scan's counters and finish the scan when it was the last chunk.

    On a database error the claim is handed back (running -> queued) and the error raised for the task to
    retry. Not atomic itself: the claim must commit before the work starts."""
    attempt = scan_chunk_claim(chunk_id=chunk_id)
    if attempt is None:
        return {"chunk_id": chunk_id, "claimed": False}
    try:
        with gc_paused():
            return _chunk_complete(chunk_id=chunk_id, attempt=attempt)
    except ChunkLost:
        log.warning("scan chunk %s attempt %s was re-queued while it ran; its work was rolled back", chunk_id, attempt)
        return {"chunk_id": chunk_id, "claimed": True, "lost": True}
    except OperationalError:
        _chunk_release(chunk_id=chunk_id, attempt=attempt)
        raise
    except Exception as exc:
        log.exception("scan chunk %s failed", chunk_id)
        scan_chunk_fail(chunk_id=chunk_id, error=f"{type(exc).__name__}: {exc}")
        raise


@contextmanager
def gc_paused():
    """Hold off Python's cyclic garbage collector while a chunk runs. A chunk allocates a few million
    small objects (rows, lots, Decimals, proposals), and each time their count passes a threshold the
    collector walks the live ones again: a third of the chunk's time, for nothing, since what the scan
    builds has no reference cycles and is freed by reference counting when the chunk ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _chunk_release(*, chunk_id: int, attempt: int) -> None:
    try:
        ScanChunk.objects.filter(pk=chunk_id, status=ScanChunk.Status.RUNNING, attempts=attempt).update(
            status=ScanChunk.Status.QUEUED, claimed_at=None
        )
    except OperationalError:  # the database is still away: the reaper will find the chunk 'running'
        log.warning("could not hand back scan chunk %s; the reaper will re-queue it", chunk_id)


@transaction.atomic
def _chunk_complete(*, chunk_id: int, attempt: int) -> dict:
    chunk = ScanChunk.objects.select_related("scan").get(pk=chunk_id)
    scan = chunk.scan
    # Lock the households in id order: a "Scan now" and the daily scan of one household (or a ledger
    # recompute) take turns, so one household never gets two writers of its open proposals.
    ids = list(
        Household.objects.select_for_update().filter(pk__in=chunk.household_ids).order_by("pk").values_list("pk", flat=True)
    )
    errors = []
    batch = []
    inputs = households_snapshots(ids, as_of=scan.as_of, cache_key=scan.pk) if ids else {}
    for household_id in chunk.household_ids:
        item = inputs.get(household_id)
        if item is None:
            errors.append({"household": household_id, "message": "The household no longer exists."})
            continue
        if item.problem:
            errors.append({"household": household_id, "name": item.name, "message": item.problem})
            continue
        try:
            result = core_scan(item.snapshot, scan.as_of)
        except core.SnapshotError as exc:
            errors.append({"household": household_id, "name": item.name, "message": f"Cannot scan: {exc}"})
            continue
        except Exception:  # one household's odd data must not stop the other households of the chunk
            log.exception("scan %s: household %s failed in the core", scan.pk, household_id)
            errors.append({"household": household_id, "name": item.name,
                           "message": "Cannot scan: an internal error (logged for the engineers)."})
            continue
        for refusal in result.refusals:
            errors.append({"household": household_id, "name": item.name, "ticker": refusal.ticker,
                           "message": f"Price refused: {refusal.reason}. Load fresh closing prices and scan again."})
        batch.append((item, list(result.proposals), result))
    summaries = _proposals_write_many(scan=scan, batch=batch)
    created = [pk for s in summaries.values() for pk in s.created]
    superseded = sum(len(s.superseded) for s in summaries.values())
    done = ScanChunk.objects.filter(pk=chunk_id, status=ScanChunk.Status.RUNNING, attempts=attempt).update(
        status=ScanChunk.Status.DONE, finished_at=timezone.now(), error=""
    )
    if done != 1:
        raise ChunkLost(chunk_id)
    _scan_add(scan_id=scan.pk, households=len(chunk.household_ids), created=len(created), superseded=superseded,
              errors=errors)
    return {"chunk_id": chunk_id, "claimed": True, "households": len(chunk.household_ids), "created": len(created),
            "superseded": superseded, "errors": len(errors)}


def _scan_add(*, scan_id: int, households: int, created: int = 0, superseded: int = 0, errors=()) -> None:
    """Add a finished chunk to its scan (F() counters) and finish the scan after its last chunk.

    The scan row is locked first, so of two last chunks finishing together the second waits, then sees
    the first one's chunk done and finishes the scan. The lock is FOR NO KEY UPDATE (only counters
    change): the foreign key checks of the proposals and chunks other workers are committing take FOR
    KEY SHARE on the same row, which FOR UPDATE would make wait. Caller is inside transaction.atomic."""
    scan = HarvestScan.objects.select_for_update(no_key=True).get(pk=scan_id)
    fields = {
        "households_done": F("households_done") + households,
        "proposals_created": F("proposals_created") + created,
        "proposals_superseded": F("proposals_superseded") + superseded,
    }
    if errors:
        fields["errors"] = [*scan.errors, *errors][:1000]
    unfinished = scan.chunks.exclude(status__in=(ScanChunk.Status.DONE, ScanChunk.Status.FAILED)).exists()
    if not unfinished:
        failed = scan.chunks.filter(status=ScanChunk.Status.FAILED).exists()
        fields["status"] = HarvestScan.Status.FAILED if failed else HarvestScan.Status.DONE
        fields["finished_at"] = timezone.now()
    HarvestScan.objects.filter(pk=scan_id).update(**fields)
    if not unfinished:
        _submit_on_commit(scan_id)


def _submit_on_commit(scan_id: int) -> None:
    """After a scan's last chunk: hand every proposal it wrote that is still 'proposed' to the approvals
    flow, SUBMIT_BATCH per task, once this transaction commits. Once per scan rather than once per chunk:
    a submit running while other chunks still run would take a core (and the database) from them."""
    from harvester import tasks

    ids = list(HarvestProposal.objects.filter(scan_id=scan_id, status=Status.PROPOSED).order_by("pk")
               .values_list("pk", flat=True))
    for start in range(0, len(ids), SUBMIT_BATCH):
        tasks.proposals_submit_task.delay_on_commit(ids[start:start + SUBMIT_BATCH])


@transaction.atomic
def scan_chunk_fail(*, chunk_id: int, error: str) -> bool:
    """Give up on a chunk (a bug, or the database away through every retry): failed, with the error."""
    chunk = ScanChunk.objects.select_for_update().filter(pk=chunk_id).first()
    if chunk is None or chunk.status in (ScanChunk.Status.DONE, ScanChunk.Status.FAILED):
        return False
    chunk.status, chunk.error, chunk.finished_at = ScanChunk.Status.FAILED, error[:2000], timezone.now()
    chunk.save(update_fields=["status", "error", "finished_at"])
    _scan_add(scan_id=chunk.scan_id, households=0, errors=[
        {"chunk": chunk.index, "households": chunk.household_ids, "message": f"This part of the scan failed: {error}"[:500]}
    ])
    return True


def scan_fail(*, scan_id: int, error: str) -> None:
    for chunk_id in ScanChunk.objects.filter(scan_id=scan_id).values_list("pk", flat=True):
        scan_chunk_fail(chunk_id=chunk_id, error=error)


def scan_reap_stalled(*, older_than: int | None = None, now: datetime | None = None) -> dict:
    """Find work whose worker died or whose message was lost, and enqueue it again (the claim keeps a
    chunk from running twice at once). The database is the source of truth:

    - a chunk 'running' since longer than SCAN_STALLED_SECONDS (longer than a task may run) goes back to
      'queued' and is enqueued; after SCAN_CHUNK_MAX_ATTEMPTS claims it is failed instead;
    - a chunk still 'queued' that long after its scan was created is enqueued again;
    - a firm-wide scan still 'queued' that long (never fanned out) is fanned out again.
    """
    from harvester import tasks

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=older_than if older_than is not None else settings.SCAN_STALLED_SECONDS)
    requeued, failed = [], []
    stalled = ScanChunk.objects.filter(status=ScanChunk.Status.RUNNING, claimed_at__lt=cutoff)
    for chunk_id, attempts in stalled.values_list("pk", "attempts"):
        if attempts >= settings.SCAN_CHUNK_MAX_ATTEMPTS:
            if scan_chunk_fail(chunk_id=chunk_id, error=f"its worker was lost {attempts} times"):
                failed.append(chunk_id)
            continue
        with transaction.atomic():
            back = ScanChunk.objects.filter(
                pk=chunk_id, status=ScanChunk.Status.RUNNING, attempts=attempts, claimed_at__lt=cutoff
            ).update(status=ScanChunk.Status.QUEUED, claimed_at=None)
            if back:
                requeued.append(chunk_id)
                tasks.scan_chunk_task.delay_on_commit(chunk_id)
    lost = ScanChunk.objects.filter(status=ScanChunk.Status.QUEUED, scan__created_at__lt=cutoff).values_list(
        "pk", flat=True
    )
    resent = list(lost)
    for chunk_id in resent:
        tasks.scan_chunk_task.delay(chunk_id)
    unsplit = list(
        HarvestScan.objects.filter(household__isnull=True, status=HarvestScan.Status.QUEUED, created_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    for scan_id in unsplit:
        tasks.scan_firm_task.delay(scan_id)
    # A proposal still 'proposed' that long after it was written, by a scan that has finished, lost its
    # submit message (Redis flushed or restarted after the last chunk committed): submit it again.
    # proposal_submit locks the row and checks its state, so a second submit of one that did get through
    # does nothing. (A scan still running submits its proposals when its last chunk is done.)
    unsubmitted = list(
        HarvestProposal.objects.filter(status=Status.PROPOSED, created_at__lt=cutoff)
        .exclude(scan__status__in=(HarvestScan.Status.QUEUED, HarvestScan.Status.RUNNING))
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
    if unsubmitted:
        tasks.proposals_submit_task.delay(unsubmitted)
    if requeued or failed or resent or unsplit or unsubmitted:
        log.warning(
            "scan reaper: requeued %s, failed %s, resent %s, fanned out %s, resubmitted %d proposals",
            requeued, failed, resent, unsplit, len(unsubmitted),
        )
    return {"requeued": requeued, "failed": failed, "resent": resent, "fanned_out": unsplit,
            "resubmitted": unsubmitted}


# ---- after the scan: submit new proposals for approval


def proposals_submit(*, proposal_ids) -> dict:
    """Hand the new proposals still 'proposed' to the approvals flow (approvers, email and in-app
    notifications, audit), all of a chunk's at once (harvester.approvals.proposals_submit_many). Until that
    module exists the proposals stay 'proposed'."""
    try:
        from harvester.approvals import proposals_submit_many
    except ImportError:
        log.warning("harvester.approvals is missing: %d proposals stay 'proposed'", len(proposal_ids))
        return {"submitted": 0, "waiting": len(proposal_ids)}
    return {"submitted": len(proposals_submit_many(proposal_ids=proposal_ids, actor=None)), "waiting": 0}


# ---- re-check: does an open proposal still hold? (at each approval and at execution)


def proposal_recheck(proposal: HarvestProposal, *, as_of: date) -> str | None:
    """None if the proposal still holds against current prices, lots, trades and scheduled purchases;
    else the reason in plain words.

    The same pure core decides (one source of truth): the household is read as for a scan, narrowed to
    exactly the proposal's lots with its replacement as the only choice, and scanned on `as_of`. The
    proposal holds when the core proposes the same sale (every lot still at a loss and held, thresholds
    and the value-over-cost margin met, all five guards passing, the same replacement) and needs no
    required action beyond the ones it already lists.
    """
    inputs = households_snapshots([proposal.household_id], as_of=as_of)[proposal.household_id]
    if inputs.problem:
        return inputs.problem
    snap = inputs.snapshot
    tickers = {pk: t for t, pk in inputs.security_ids.items()}
    sell, buy = tickers[proposal.sell_security_id], tickers[proposal.buy_security_id]
    account = str(proposal.account_id)
    wanted: dict[str, Decimal] = defaultdict(Decimal)
    for row in proposal.lots:
        wanted[str(row["origin"])] += Decimal(str(row["quantity"]))
    lots = tuple(lot for lot in snap.lots if lot.account == account and lot.ticker == sell and lot.origin in wanted)
    asset_class = snap.asset_classes.get(sell)
    chain = (buy, sell) if proposal.kind == HarvestProposal.Kind.SWITCH_BACK else (buy,)
    policy = snap.policy
    if proposal.policy_id and proposal.policy is not None:
        policy = core_policy(proposal.policy)
    narrowed = dataclasses.replace(snap, lots=lots, chains={asset_class: chain} if asset_class else {}, policy=policy)
    result = core_scan(narrowed, as_of)
    found = next((p for p in result.proposals if p.account == account and p.sell_ticker == sell
                  and p.buy_ticker == buy), None)
    if found is None:
        refusal = next((r for r in result.refusals if r.ticker in (sell, buy)), None)
        if refusal is not None:
            return f"the price cannot be used: {refusal.reason}"
        skipped = next((s for s in result.skipped if s.account == account and s.ticker == sell), None)
        if skipped is not None:
            return skipped.detail[:1].lower() + skipped.detail[1:].rstrip(".")
        return f"no lot of {sell} in this account is at a loss any more"
    have: dict[str, Decimal] = defaultdict(Decimal)
    for lot in found.lots:
        have[lot.origin] += lot.quantity
    for origin, quantity in wanted.items():
        if have.get(origin, Decimal("0")) < quantity:
            if origin not in have:
                return f"the lot from trade #{origin} is no longer at a loss at {found.price} (close of {found.price_date})"
            return f"the lot from trade #{origin} holds {have[origin].normalize():f} shares at a loss, not {quantity.normalize():f}"
    listed = {(a["kind"], a["account"], a["ticker"], a.get("schedule") or "") for a in proposal.required_actions}
    for action in found.required_actions:
        if (action.kind, action.account, action.ticker, action.schedule_id) not in listed:
            return f"it now also requires: {action.text}"
    return None

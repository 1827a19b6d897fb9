"""Selectors of the realized-loss dashboard and the tax projection (docs/reporting.md, "Measures and methods").

    data = dashboard_data(Scope.for_household(household), as_of=today)
    projection = owner_projection(owner, 2026)        # one owner's return: tax before/after executed harvests

Every figure is aggregated by the database (GROUP BY account, tax year, term) and combined in Python, so a
page costs the same few queries whether the household has ten disposals or fifty thousand.

Definitions (PRODUCT.md "Measures people expect on the dashboard"):
- Realized: the gain or loss (Form 8949 column (h), after wash-sale adjustments) of reportable disposals,
  by the tax year of the sale, short- and long-term. Sales inside IRAs and workplace plans are not
  reportable and are left out, as on Form 8949.
- Losses harvested: the realized losses of the sales that executed a harvest proposal (Execution
  .sell_transaction and every sale listed in its fills). When a scope has no executed harvest at all, the
  dashboard shows all realized losses instead and says so (`harvest_source` "all_losses").
- Estimated tax value of a year's harvested losses: for each return with a tax profile for that year,
  the projected total tax (harvester.core.tax, exact-rate formula) without the harvested losses minus
  the projected tax with them; the year's figure is the sum over returns. It is the value in that year
  only: a loss carried forward is worth something later, which this figure does not count.
- Harvesting yield: losses harvested in a year / value at the start of that year of the shares then held
  in the scope's taxable accounts. Holdings at 1 January come from the transactions (buys, reinvested
  dividends and transfers in, less sales, traded before 1 January; splits are not applied, as in the
  ledger) valued at each security's last close on or before 1 January.
- Wash-sale disallowed: WashSaleAdjustment amounts by the sale's tax year, deferred (in a replacement
  lot's basis) and permanent (replacement in an IRA/Roth: lost for good, Rev. Rul. 2008-5).
- Returns: an owner's tax profile says how they file. Owners of one taxpayer unit whose profiles for a
  year both say married filing jointly are one joint return (incomes, outside gains and carryforwards
  added up; the higher state rate). A grantor trust without a profile of its own is taxed to the first
  person's return of its unit. A joint account's results belong to its owners in equal shares, so a return
  gets the share of the account's owners on it (all of it on a joint return).
Money is Decimal; a share of a joint account is rounded to cents (ROUND_HALF_UP) once, per return.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Case, Count, DecimalField, F, Max, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import ExtractYear

from accounts.models import Account, Household, Owner, OwnerTaxProfile, TaxpayerUnit
from harvester.core import tax as taxcore
from harvester.core.tax_tables import MFJ, TaxTableError
from harvester.money import to_cents
from harvester.rawsql import columns, fetch, sqlite_date, sqlite_decimal

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
SHORT, LONG = "short", "long"
EXECUTIONS, ALL_LOSSES = "executions", "all_losses"
_MONEY = DecimalField(max_digits=16, decimal_places=2)


# ---- scope: what one dashboard covers


@dataclass(frozen=True)
class Scope:
    """Households, and optionally one owner (then only the accounts that owner owns)."""

    household_ids: tuple[int, ...]
    owner_id: int | None = None
    label: str = ""

    @classmethod
    def for_household(cls, household: Household, owner: Owner | None = None) -> "Scope":
        label = f"{household.name}: {owner.name}" if owner else household.name
        return cls((household.pk,), owner.pk if owner else None, label)

    @classmethod
    def for_households(cls, households: Iterable[Household], label: str = "All your households") -> "Scope":
        return cls(tuple(h.pk for h in households), None, label)

    @property
    def across_households(self) -> bool:
        return len(self.household_ids) != 1


# ---- the rows read from the database


@dataclass(frozen=True)
class Totals:
    """Sums of realized results (reportable disposals). Losses and harvested are signed (negative)."""

    short: Decimal = ZERO
    long: Decimal = ZERO
    losses: Decimal = ZERO
    harvested_short: Decimal = ZERO
    harvested_long: Decimal = ZERO
    disallowed: Decimal = ZERO
    proceeds: Decimal = ZERO
    disposals: int = 0

    @property
    def total(self) -> Decimal:
        return self.short + self.long

    @property
    def harvested(self) -> Decimal:
        return self.harvested_short + self.harvested_long

    @property
    def harvested_loss(self) -> Decimal:
        """Losses harvested as a positive amount (as the dashboard shows them)."""
        return -self.harvested

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(*(a + b for a, b in zip(self._values(), other._values(), strict=True)))

    def _values(self):
        return (self.short, self.long, self.losses, self.harvested_short, self.harvested_long, self.disallowed,
                self.proceeds, self.disposals)


@dataclass
class Data:
    """Everything a dashboard of one scope needs, read in a fixed number of queries."""

    scope: Scope
    as_of: date
    households: dict[int, Household]
    accounts: dict[int, Account]  # the accounts shown (one owner's, or all of the households')
    account_owners: dict[int, tuple[int, ...]]  # every account of the households (returns need them all)
    owners: dict[int, Owner]
    cells: dict[tuple[int, int], Totals]  # (account_id, tax_year) -> totals, every account of the households
    wash: dict[tuple[int, int], dict[str, Decimal]]  # (account_id, tax_year) -> {deferred, permanent}
    profiles: dict[tuple[int, int], OwnerTaxProfile]  # (owner_id, year)
    harvest_source: str
    harvest_sales: frozenset[int]
    start_values: dict[int, "StartValue"] = field(default_factory=dict)
    stamp: tuple = ()  # ledger_stamp of the households when read: what the ledger's figures are cached under

    @property
    def years(self) -> list[int]:
        years = {y for a, y in self.cells if a in self.accounts} | {y for a, y in self.wash if a in self.accounts}
        return sorted(years | {self.as_of.year})

    def shown_cells(self):
        return ((key, t) for key, t in self.cells.items() if key[0] in self.accounts)


@dataclass(frozen=True)
class StartValue:
    """The value on 1 January of the shares then held in taxable accounts (None if a close is missing)."""

    year: int
    value: Decimal | None
    missing: tuple[str, ...] = ()


_HOUSEHOLD_COLUMNS = columns(Household, "h", ("id", "name", "history_complete_from"))  # created_at deferred
_ACCOUNT_COLUMNS = columns(Account, "a")
_OWNER_COLUMNS = columns(Owner, "o")
_UNIT_COLUMNS = columns(TaxpayerUnit, "u")


def _accounts(
    scope: Scope, known: Iterable[Household] = ()
) -> tuple[dict[int, Household], dict[int, Account], dict[int, tuple[int, ...]], dict]:
    """The scope's households, accounts (with their owners' ids) and owners (with their taxpayer units).

    Three plain queries (two when the caller already holds the household, as every household page does
    from access_household); the rows become model instances as the ORM makes them (Model.from_db). Read on
    every dashboard view and partial, where building the ORM's five queries took longer than running them."""
    ids = [int(pk) for pk in scope.household_ids] or [0]
    marks = ", ".join(["%s"] * len(ids))
    db = connection.alias
    households = {h.pk: h for h in known if h.pk in scope.household_ids}
    account_names, account_sql = _ACCOUNT_COLUMNS
    owner_names, owner_sql = _OWNER_COLUMNS
    unit_names, unit_sql = _UNIT_COLUMNS
    through = Account.owners.through._meta.db_table
    with connection.cursor() as cursor:
        if len(households) != len(set(scope.household_ids)):
            names, sql = _HOUSEHOLD_COLUMNS
            cursor.execute(
                f"SELECT {sql} FROM {Household._meta.db_table} h WHERE h.id IN ({marks}) ORDER BY h.name, h.id", ids
            )
            households = {row[0]: Household.from_db(db, names, row) for row in cursor.fetchall()}
        cursor.execute(
            f"SELECT {account_sql}, ao.owner_id FROM {Account._meta.db_table} a "
            f"LEFT JOIN {through} ao ON ao.account_id = a.id WHERE a.household_id IN ({marks}) "
            "ORDER BY a.name, a.id, ao.owner_id",
            ids,
        )
        accounts: dict[int, Account] = {}
        owners_of: dict[int, list[int]] = {}
        for row in cursor.fetchall():
            pk = row[0]
            if pk not in accounts:
                accounts[pk] = Account.from_db(db, account_names, row[:-1])
                owners_of[pk] = []
            if row[-1] is not None:
                owners_of[pk].append(row[-1])
        cursor.execute(
            f"SELECT {owner_sql}, {unit_sql} FROM {Owner._meta.db_table} o "
            f"JOIN {TaxpayerUnit._meta.db_table} u ON u.id = o.taxpayer_unit_id WHERE o.household_id IN ({marks}) "
            "ORDER BY o.household_id, o.name, o.id",
            ids,
        )
        owners = {}
        split = len(owner_names)
        for row in cursor.fetchall():
            owner = Owner.from_db(db, owner_names, row[:split])
            owner.taxpayer_unit = TaxpayerUnit.from_db(db, unit_names, row[split:])
            owners[owner.pk] = owner
    account_owners = {pk: tuple(sorted(o)) for pk, o in owners_of.items()}
    shown = {pk: a for pk, a in accounts.items() if scope.owner_id is None or scope.owner_id in account_owners[pk]}
    return households, shown, account_owners, owners


def harvest_sale_ids(household_ids: Iterable[int]) -> frozenset[int]:
    """The sale transactions that executed a harvest proposal (first sale and every sale in the fills)."""
    from harvester.models import Execution, HarvestProposal

    ids: set[int] = set()
    rows = Execution.objects.filter(
        proposal__household_id__in=list(household_ids), proposal__kind=HarvestProposal.Kind.HARVEST
    ).values_list("sell_transaction_id", "fills")
    for first, fills in rows:
        if first:
            ids.add(first)
        for pk in (fills or {}).get("sell_transactions", []) or []:
            try:
                ids.add(int(pk))
            except (TypeError, ValueError):
                continue
    return frozenset(ids)


def _cells(account_ids: list[int], harvest_sales: frozenset[int] | None, *, year: int | None = None):
    """Realized sums per account, tax year and term: one GROUP BY over the disposals, and one over the
    harvest sales' disposals (found through the sale index). `harvest_sales` None: every loss counts."""
    from lots.models import Disposal

    qs = Disposal.objects.filter(account_id__in=account_ids, reportable=True)
    if year is not None:
        qs = qs.filter(tax_year=year)
    rows = (
        qs.values("account_id", "tax_year", "term")
        .annotate(
            gain=Sum("gain_loss"),
            losses=Sum(Case(When(gain_loss__lt=0, then=F("gain_loss")), default=Value(ZERO), output_field=_MONEY)),
            disallowed=Sum("disallowed"),
            proceeds=Sum("proceeds"),
            n=Count("id"),
        )
        .order_by()
    )
    harvested: dict[tuple[int, int, str], Decimal] = {}
    if harvest_sales:
        for r in (
            qs.filter(sale_id__in=sorted(harvest_sales), gain_loss__lt=0)
            .values("account_id", "tax_year", "term")
            .annotate(h=Sum("gain_loss"))
            .order_by()
        ):
            harvested[(r["account_id"], r["tax_year"], r["term"])] = r["h"]
    cells: dict[tuple[int, int], Totals] = {}
    for r in rows:
        key = (r["account_id"], r["tax_year"])
        short = r["term"] == SHORT
        h = r["losses"] if harvest_sales is None else harvested.get((*key, r["term"]), ZERO)
        add = Totals(
            short=r["gain"] if short else ZERO,
            long=ZERO if short else r["gain"],
            losses=r["losses"],
            harvested_short=h if short else ZERO,
            harvested_long=ZERO if short else h,
            disallowed=r["disallowed"],
            proceeds=r["proceeds"],
            disposals=r["n"],
        )
        cells[key] = cells.get(key, Totals()) + add
    return cells


def _wash(account_ids: list[int], *, year: int | None = None) -> dict[tuple[int, int], dict[str, Decimal]]:
    from lots.models import WashSaleAdjustment

    qs = WashSaleAdjustment.objects.filter(disposal__account_id__in=account_ids)
    if year is not None:
        qs = qs.filter(disposal__tax_year=year)
    out: dict[tuple[int, int], dict[str, Decimal]] = {}
    for r in qs.values("disposal__account_id", "disposal__tax_year", "kind").annotate(amount=Sum("disallowed")).order_by():
        cell = out.setdefault((r["disposal__account_id"], r["disposal__tax_year"]), {"deferred": ZERO, "permanent": ZERO})
        cell[r["kind"]] = cell.get(r["kind"], ZERO) + r["amount"]
    return out


def _profiles(owner_ids: Iterable[int], *, year: int | None = None) -> dict[tuple[int, int], OwnerTaxProfile]:
    qs = OwnerTaxProfile.objects.filter(owner_id__in=list(owner_ids)).select_related("owner")
    if year is not None:
        qs = qs.filter(year=year)
    return {(p.owner_id, p.year): p for p in qs}


def start_values(account_ids: list[int], years: Iterable[int]) -> dict[int, StartValue]:
    """Value on 1 January of each year of the shares held then in these accounts (two queries).

    Holdings: acquisitions (buy, reinvest, transfer in) less sales traded before 1 January (splits are not
    applied, as in the ledger). Value: each security's last close on or before 1 January, to the cent."""
    from lots.models import Price, Security, Transaction

    years = sorted(set(years))
    if not years or not account_ids:
        return {y: StartValue(y, ZERO) for y in years}
    acquisitions = [Transaction.Action.BUY, Transaction.Action.REINVEST, Transaction.Action.TRANSFER_IN]
    rows = (
        Transaction.objects.filter(
            account_id__in=account_ids,
            action__in=[*acquisitions, Transaction.Action.SELL],
            trade_date__lt=date(years[-1], 1, 1),
        )
        .annotate(year=ExtractYear("trade_date"))
        .values("security_id", "year")
        .annotate(
            net=Sum(
                Case(
                    When(action=Transaction.Action.SELL, then=-F("quantity")),
                    default=F("quantity"),
                    output_field=DecimalField(max_digits=24, decimal_places=8),
                )
            )
        )
        .order_by()
    )
    net: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for r in rows:
        net[r["security_id"]][r["year"]] = r["net"]
    if not net:
        return {y: StartValue(y, ZERO) for y in years}
    closes = {
        f"c{y}": Subquery(
            Price.objects.filter(security_id=OuterRef("pk"), date__lte=date(y, 1, 1)).order_by("-date").values("close")[:1]
        )
        for y in years
    }
    securities = {s.pk: s for s in Security.objects.filter(pk__in=list(net)).annotate(**closes)}
    out = {}
    for y in years:
        value, missing = ZERO, []
        for security_id, by_year in net.items():
            held = sum((q for yr, q in by_year.items() if yr < y), Decimal(0))
            if held <= 0:
                continue
            close = getattr(securities[security_id], f"c{y}")
            if close is None:
                missing.append(securities[security_id].ticker)
                continue
            value += held * close
        out[y] = StartValue(y, None if missing else to_cents(value), tuple(sorted(missing)))
    return out


@dataclass(frozen=True)
class LedgerFigures:
    """The expensive part of a dashboard: aggregates of the stored ledger (cached, see ledger_stamp)."""

    cells: dict
    wash: dict
    harvest_sales: frozenset[int]
    start_values: dict


CACHE_SECONDS = 600


def ledger_stamp(household_ids: Iterable[int]) -> tuple:
    """Something that changes whenever the households' stored ledger, executions or closes change.

    The ledger service replaces a household's lots and disposals on every recompute (after any import,
    execution or correction), so the newest lot id and the lot count move with it; executions and
    closes are counted separately because they change before the recompute runs. One query (plain SQL:
    five scalar subqueries are cheaper to send than to build with the ORM on every page view); a second
    one only for a household that holds nothing."""
    from harvester.models import Execution, HarvestProposal
    from lots.models import Disposal, Lot, Price

    ids = [int(pk) for pk in sorted(set(household_ids))] or [0]
    marks = ", ".join(["%s"] * len(ids))
    account = Account._meta.db_table
    lots_from = f"FROM {Lot._meta.db_table} x JOIN {account} a ON a.id = x.account_id WHERE a.household_id IN ({marks})"
    exec_from = (
        f"FROM {Execution._meta.db_table} x JOIN {HarvestProposal._meta.db_table} p ON p.id = x.proposal_id "
        f"WHERE p.household_id IN ({marks})"
    )
    sql = (
        f"SELECT (SELECT COUNT(*) {lots_from}), (SELECT MAX(x.id) {lots_from}), "
        f"(SELECT COUNT(*) {exec_from}), (SELECT MAX(x.id) {exec_from}), (SELECT MAX(id) FROM {Price._meta.db_table})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids * 4)
        stamp = tuple(cursor.fetchone())
    if not stamp[0]:  # nothing held: the disposals carry the recompute's mark instead
        disposals = Disposal.objects.filter(account__household_id__in=ids).aggregate(n=Count("id"), top=Max("id"))
        stamp += (disposals["n"], disposals["top"])
    return stamp


def _cache_key(kind: str, *parts) -> str:
    return f"reporting:{kind}:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _ledger_figures(
    scope: Scope, accounts: dict[int, Account], account_ids: list[int], as_of: date
) -> tuple[tuple, LedgerFigures]:
    """The ledger stamp and the figures cached under it."""
    stamp = ledger_stamp(scope.household_ids)
    key = _cache_key("dashboard", scope.household_ids, scope.owner_id, as_of.year, stamp)
    figures = cache.get(key)
    if figures is not None:
        return stamp, figures
    executed = harvest_sale_ids(scope.household_ids)
    cells = _cells(account_ids, executed if executed else None)
    wash = _wash(account_ids)
    years = {y for a, y in cells if a in accounts} | {y for a, y in wash if a in accounts} | {as_of.year}
    taxable = [a.pk for a in accounts.values() if a.is_taxable]
    figures = LedgerFigures(cells, wash, executed, start_values(taxable, years))
    cache.set(key, figures, CACHE_SECONDS)
    return stamp, figures


def dashboard_data(
    scope: Scope, *, as_of: date, with_profiles: bool = True, households: Iterable[Household] = ()
) -> Data:
    """Read one scope's realized results, wash-sale amounts, tax profiles and start-of-year values.

    The ledger aggregates are cached under a stamp of the ledger (ledger_stamp): a repeat view, a year
    switch or a drill-down reads them from the cache; any recompute, execution or new close changes the
    stamp. Accounts, owners and tax profiles are always read fresh (the drill-down skips the profiles).
    `households`: those of the scope the caller has already read (their rows are not read again)."""
    households, accounts, account_owners, owners = _accounts(scope, households)
    stamp, figures = _ledger_figures(scope, accounts, list(account_owners), as_of)
    return Data(
        scope=scope,
        as_of=as_of,
        households=households,
        accounts=accounts,
        account_owners=account_owners,
        owners=owners,
        cells=figures.cells,
        wash=figures.wash,
        profiles=_profiles(owners) if with_profiles else {},
        harvest_source=EXECUTIONS if figures.harvest_sales else ALL_LOSSES,
        harvest_sales=figures.harvest_sales,
        start_values=figures.start_values,
        stamp=stamp,
    )


# ---- returns and projections


@dataclass(frozen=True)
class TaxReturn:
    """The owners on one return for one year, with their profiles (empty: nobody entered one)."""

    year: int
    owner_ids: tuple[int, ...]
    label: str
    profiles: tuple[OwnerTaxProfile, ...]

    @property
    def filing_status(self) -> str | None:
        return self.profiles[0].filing_status if self.profiles else None

    def share(self, account_owner_ids: tuple[int, ...]) -> Decimal:
        """The part of an account's results that goes on this return (owners share a joint account equally)."""
        if not account_owner_ids:
            return Decimal(0)
        on = sum(1 for o in account_owner_ids if o in self.owner_ids)
        return Decimal(on) / Decimal(len(account_owner_ids))


def tax_returns(owners: dict[int, Owner], profiles: dict[tuple[int, int], OwnerTaxProfile], year: int) -> list[TaxReturn]:
    """How the owners file for `year` (see the module docstring: joint returns, grantor trusts)."""
    by_unit: dict[int, list[Owner]] = defaultdict(list)
    for o in sorted(owners.values(), key=lambda o: (o.name, o.pk)):
        by_unit[o.taxpayer_unit_id].append(o)
    returns: list[TaxReturn] = []
    for unit_owners in by_unit.values():
        prof = {o.pk: profiles.get((o.pk, year)) for o in unit_owners}
        joint = [o for o in unit_owners if prof[o.pk] and prof[o.pk].filing_status == MFJ]
        unit_returns: list[list[Owner]] = []
        if len(joint) >= 2:
            unit_returns.append(joint)
        else:
            joint = []
        for o in unit_owners:
            if o not in joint and prof[o.pk]:
                unit_returns.append([o])
        for o in unit_owners:
            if prof[o.pk] or o in joint:
                continue
            if o.kind == Owner.Kind.GRANTOR_TRUST:
                host = next((r for r in unit_returns if any(m.kind == Owner.Kind.PERSON for m in r)), None)
                if host is not None:
                    host.append(o)
                    continue
            unit_returns.append([o])
        for members in unit_returns:
            profs = tuple(prof[m.pk] for m in members if prof[m.pk])
            names = " & ".join(m.name for m in members)
            returns.append(TaxReturn(year, tuple(m.pk for m in members), names, profs))
    return returns


@dataclass(frozen=True)
class Projection:
    """One return's projected tax for one year, before and after the harvests executed so far.

    `after` is the projection with everything realized so far (Harvester's reportable sales, this
    return's share, plus the outside gains of the profile); `before` the same without the losses of
    executed harvests. `effect` = before - after, exact-rate totals (TaxBreakdown.total_formula), the
    year-to-date value of harvesting. `profile` is the `after` input: pass it to
    harvester.core.tax.harvest_value(profile, loss_short, loss_long) to price one more harvest."""

    year: int
    label: str
    owner_ids: tuple[int, ...]
    filing_status: str | None
    realized_short: Decimal
    realized_long: Decimal
    harvested_short: Decimal
    harvested_long: Decimal
    outside_short: Decimal = ZERO
    outside_long: Decimal = ZERO
    carryforward_in_short: Decimal = ZERO
    carryforward_in_long: Decimal = ZERO
    profile: taxcore.TaxProfile | None = None
    before: taxcore.TaxBreakdown | None = None
    after: taxcore.TaxBreakdown | None = None
    note: str = ""

    @property
    def available(self) -> bool:
        return self.after is not None

    @property
    def effect(self) -> Decimal | None:
        if self.before is None or self.after is None:
            return None
        return self.before.total_formula - self.after.total_formula

    @property
    def offset_limit(self) -> Decimal | None:
        if self.after is None:
            return None
        return Decimal("1500.00") if self.filing_status == "mfs" else Decimal("3000.00")

    @property
    def offset_used(self) -> Decimal | None:
        return self.after.capital_loss_deduction if self.after else None

    @property
    def offset_left(self) -> Decimal | None:
        if self.after is None:
            return None
        return max(self.offset_limit - self.after.capital_loss_deduction, ZERO)


def _combined_profile(r: TaxReturn, st: Decimal, lt: Decimal) -> taxcore.TaxProfile:
    ps = r.profiles
    return taxcore.TaxProfile(
        year=r.year,
        filing_status=ps[0].filing_status,
        ordinary_income=sum((p.ordinary_income for p in ps), ZERO),
        state_rate=max(p.state_rate for p in ps),
        st_gains=sum((p.outside_short_term_gains for p in ps), ZERO) + st,
        lt_gains=sum((p.outside_long_term_gains for p in ps), ZERO) + lt,
        carryforward_st=sum((p.carryforward_short_term for p in ps), ZERO),
        carryforward_lt=sum((p.carryforward_long_term for p in ps), ZERO),
    )


def _return_realized(r: TaxReturn, data_cells, account_owners, year: int) -> Totals:
    """This return's share of the year's realized totals, rounded to cents once."""
    st = lt = hst = hlt = Decimal(0)
    for (account_id, y), t in data_cells.items():
        if y != year:
            continue
        share = r.share(account_owners.get(account_id, ()))
        if not share:
            continue
        st += t.short * share
        lt += t.long * share
        hst += t.harvested_short * share
        hlt += t.harvested_long * share
    return Totals(short=to_cents(st), long=to_cents(lt), harvested_short=to_cents(hst), harvested_long=to_cents(hlt))


def project_return(r: TaxReturn, realized: Totals) -> Projection:
    """Project one return with its realized totals (pure: no queries)."""
    base = dict(
        year=r.year, label=r.label, owner_ids=r.owner_ids, filing_status=r.filing_status,
        realized_short=realized.short, realized_long=realized.long,
        harvested_short=realized.harvested_short, harvested_long=realized.harvested_long,
    )
    if not r.profiles:
        return Projection(**base, note=f"No tax profile for {r.year}: add one to project the tax.")
    after_profile = _combined_profile(r, realized.short, realized.long)
    before_profile = after_profile.with_realized(-realized.harvested_short, -realized.harvested_long)
    extra = dict(
        outside_short=after_profile.st_gains - realized.short,
        outside_long=after_profile.lt_gains - realized.long,
        carryforward_in_short=after_profile.carryforward_st,
        carryforward_in_long=after_profile.carryforward_lt,
        profile=after_profile,
    )
    try:
        after = taxcore.project(after_profile)
        before = taxcore.project(before_profile)
    except TaxTableError as exc:
        return Projection(**base, **extra, note=str(exc))
    except taxcore.TaxInputError as exc:
        return Projection(**base, **extra, note=f"The tax profile cannot be projected: {exc}")
    note = "; ".join(p.owner.name + ": " + p.get_filing_status_display() for p in r.profiles) if len(r.profiles) > 1 else ""
    return Projection(**base, **extra, before=before, after=after, note=note)


def projections(data: Data, year: int) -> list[Projection]:
    """Every return of the scope's owners for `year` that has something on it or a profile (one owner's
    scope: the returns that owner is on, with everything on them, a spouse's accounts included)."""
    out = []
    for r in tax_returns(data.owners, data.profiles, year):
        if data.scope.owner_id is not None and data.scope.owner_id not in r.owner_ids:
            continue
        realized = _return_realized(r, data.cells, data.account_owners, year)
        if not r.profiles and not (realized.short or realized.long):
            continue
        out.append(project_return(r, realized))
    return out


def owner_projection(owner: Owner, year: int) -> Projection:
    """The projected tax of the return `owner` is on for `year`, before and after executed harvests.

    For the proposal pages: `harvester.core.tax.harvest_value(projection.profile, loss_short, loss_long)`
    prices a proposed harvest on top of what is realized so far. Seven queries; no access check (callers
    fetched the owner through the access layer)."""
    accounts = Account.objects.filter(household_id=owner.household_id).prefetch_related("owners")
    account_owners = {a.pk: tuple(sorted(o.pk for o in a.owners.all())) for a in accounts}
    unit = {o.pk: o for o in Owner.objects.filter(household_id=owner.household_id, taxpayer_unit_id=owner.taxpayer_unit_id)}
    profiles = _profiles(unit, year=year)
    executed = harvest_sale_ids([owner.household_id])
    cells = _cells(list(account_owners), executed if executed else None, year=year)
    r = next(r for r in tax_returns(unit, profiles, year) if owner.pk in r.owner_ids)
    return project_return(r, _return_realized(r, cells, account_owners, year))


# ---- measures by year


@dataclass(frozen=True)
class YearRow:
    year: int
    realized: Totals
    deferred: Decimal
    permanent: Decimal
    tax_value: Decimal | None
    tax_value_note: str
    cumulative_harvested: Decimal
    cumulative_tax_value: Decimal
    start_value: StartValue | None

    @property
    def harvested(self) -> Decimal:
        """Losses harvested as a positive amount."""
        return -self.realized.harvested

    @property
    def harvesting_yield(self) -> Decimal | None:
        """Losses harvested over the value at the start of the year, in percent (2 places)."""
        sv = self.start_value
        if sv is None or sv.value is None or sv.value <= 0:
            return None
        return (self.harvested / sv.value * HUNDRED).quantize(Decimal("0.01"))


def year_rows(data: Data) -> list[YearRow]:
    """One row per year: realized, harvested and its tax value (and running totals), wash split, yield."""
    by_year: dict[int, Totals] = defaultdict(Totals)
    for (_, year), t in data.shown_cells():
        by_year[year] = by_year[year] + t
    wash: dict[int, dict[str, Decimal]] = defaultdict(lambda: {"deferred": ZERO, "permanent": ZERO})
    for (account_id, year), w in data.wash.items():
        if account_id not in data.accounts:
            continue
        for k, v in w.items():
            wash[year][k] += v
    rows, cum_h, cum_v = [], ZERO, ZERO
    for year in data.years:
        t = by_year.get(year, Totals())
        value, note = tax_value(data, year) if t.harvested else (ZERO, "")
        cum_h += -t.harvested
        cum_v += value or ZERO
        rows.append(
            YearRow(
                year=year,
                realized=t,
                deferred=wash[year]["deferred"],
                permanent=wash[year]["permanent"],
                tax_value=value,
                tax_value_note=note,
                cumulative_harvested=cum_h,
                cumulative_tax_value=cum_v,
                start_value=data.start_values.get(year),
            )
        )
    return rows


def tax_value(data: Data, year: int) -> tuple[Decimal | None, str]:
    """The estimated tax value in `year` of that year's harvested losses, and a note on what is missing.

    Per return: projected total tax (exact-rate formula, TaxBreakdown.total_formula) without the year's
    harvested losses minus the total with them: the same figure as Projection.effect."""
    total, missing, unpriced = ZERO, [], ZERO
    any_value = False
    for r in tax_returns(data.owners, data.profiles, year):
        if data.scope.owner_id is not None and data.scope.owner_id not in r.owner_ids:
            continue
        realized = _return_realized(r, data.cells, data.account_owners, year)
        harvested = realized.harvested_short + realized.harvested_long
        if not harvested:
            continue
        reason = "no tax profile"
        if r.profiles:
            after = _combined_profile(r, realized.short, realized.long)
            before = after.with_realized(-realized.harvested_short, -realized.harvested_long)
            try:
                effect = taxcore.project(before).total_formula - taxcore.project(after).total_formula
            except TaxTableError:
                reason = f"no tax tables for {year}"
            except taxcore.TaxInputError:
                reason = "a tax profile that cannot be projected"
            else:
                any_value = True
                total += effect
                continue
        missing.append(f"{r.label} ({reason})")
        unpriced += -harvested
    note = ""
    if missing:
        note = f"Not estimated for {', '.join(missing)}: {_usd(unpriced)} of harvested losses have no tax value here."
    return (total if any_value else None), note


def _usd(amount: Decimal) -> str:
    value = to_cents(amount)
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


# ---- drill-down: owner groups, accounts, sales


@dataclass(frozen=True)
class DrillRow:
    key: str
    label: str
    totals: Totals
    deferred: Decimal = ZERO
    permanent: Decimal = ZERO
    account_id: int | None = None
    household_id: int | None = None


def _group_key(owner_ids: tuple[int, ...]) -> str:
    return "-".join(str(o) for o in owner_ids)


def drill_groups(data: Data, year: int) -> list[DrillRow]:
    """Level one: per household (across households), else per owner group (an account's owners)."""
    sums: dict[str, list] = {}
    for account_id, account in data.accounts.items():
        if data.scope.across_households:
            key, label = str(account.household_id), data.households[account.household_id].name
            hh = account.household_id
        else:
            owner_ids = data.account_owners[account_id]
            key = _group_key(owner_ids)
            label = " & ".join(sorted(data.owners[o].name for o in owner_ids if o in data.owners)) or "no owner"
            hh = account.household_id
        entry = sums.setdefault(key, [label, Totals(), ZERO, ZERO, hh])
        entry[1] = entry[1] + data.cells.get((account_id, year), Totals())
        w = data.wash.get((account_id, year), {})
        entry[2] += w.get("deferred", ZERO)
        entry[3] += w.get("permanent", ZERO)
    rows = [DrillRow(k, v[0], v[1], v[2], v[3], household_id=v[4]) for k, v in sums.items()]
    return sorted(rows, key=lambda r: r.label)


def drill_accounts(data: Data, year: int, group: str | None = None) -> list[DrillRow]:
    """Level two: the accounts (of one owner group when `group` is given) with the year's totals."""
    rows = []
    for account_id, account in data.accounts.items():
        if group is not None and _group_key(data.account_owners[account_id]) != group:
            continue
        if not account.is_taxable:
            continue  # sales inside IRAs are not reportable: nothing to drill into
        w = data.wash.get((account_id, year), {})
        rows.append(
            DrillRow(
                key=str(account_id), label=account.name, totals=data.cells.get((account_id, year), Totals()),
                deferred=w.get("deferred", ZERO), permanent=w.get("permanent", ZERO),
                account_id=account_id, household_id=account.household_id,
            )
        )
    return rows


@dataclass(frozen=True)
class SaleRow:
    sale_id: int
    date_sold: date
    ticker: str
    quantity: Decimal
    proceeds: Decimal
    cost_basis: Decimal
    disallowed: Decimal
    short: Decimal
    long: Decimal
    lots: int
    harvest: bool

    @property
    def total(self) -> Decimal:
        return self.short + self.long


SALES_PAGE = 50


def drill_sales(
    account_id: int, year: int, *, page: int, harvest_sales: frozenset[int], stamp: tuple = ()
) -> tuple[list[SaleRow], int]:
    """Level three: one account's sale transactions in a year (a page of SALES_PAGE, in execution order),
    and how many in all. The sales come from the (account, trade date) index and their disposals through
    the sale index, so a page costs the same in a year of ten sales or of ten thousand. With the ledger
    stamp of the account's household (Data.stamp) the page is cached under it, as the ledger figures are."""
    if not stamp:
        return _drill_sales(account_id, year, page, harvest_sales)
    key = _cache_key("drill-sales", account_id, year, page, stamp)
    found = cache.get(key)
    if found is None:
        found = _drill_sales(account_id, year, page, harvest_sales)
        cache.set(key, found, CACHE_SECONDS)
    return found


def _drill_sales(account_id: int, year: int, page: int, harvest_sales: frozenset[int]) -> tuple[list[SaleRow], int]:
    """One statement for the page and its disposals' sums, a second for the count only when the page has no
    row (past the last page, or no reportable sale): plain SQL, where the ORM's three queries cost more
    Python time to build than the database took to answer them, and prepared on PostgreSQL (planning it
    took as long as running it)."""
    params = [account_id, _SELL, date(year, 1, 1), date(year + 1, 1, 1)]
    rows = fetch(_SALES_PAGE_SQL, [*params, SALES_PAGE, (page - 1) * SALES_PAGE, True], _SALES_PAGE_CONVERT,
                 prepare=True)
    if rows:
        count = rows[0][-1]
    else:
        count = fetch(f"SELECT COUNT(*) FROM {_SALES_FROM}", params)[0][0]
    return [
        SaleRow(sale_id=r[0], date_sold=r[1], ticker=r[2], quantity=r[3], proceeds=r[4], cost_basis=r[5],
                disallowed=r[6], short=r[7], long=r[8], lots=r[9], harvest=r[0] in harvest_sales)
        for r in rows
    ], count


def _sales_sql():
    from lots.models import Disposal, Security, Transaction

    sales_from = (
        f"{Transaction._meta.db_table} t WHERE t.account_id = %s AND t.action = %s "
        "AND t.trade_date >= %s AND t.trade_date < %s"
    )
    term = "SUM(CASE WHEN d.term = '{}' THEN d.gain_loss ELSE 0.00 END)"
    page = f"""
        SELECT p.id, d.date_sold, s.ticker, SUM(d.quantity), SUM(d.proceeds), SUM(d.cost_basis), SUM(d.disallowed),
               {term.format(SHORT)}, {term.format(LONG)}, COUNT(d.id), p.n
        FROM (SELECT t.id, t.trade_date, t.seq, COUNT(*) OVER () AS n FROM {sales_from}
              ORDER BY t.trade_date, t.seq, t.id LIMIT %s OFFSET %s) p
        JOIN {Disposal._meta.db_table} d ON d.sale_id = p.id AND d.reportable = %s
        JOIN {Security._meta.db_table} s ON s.id = d.security_id
        GROUP BY p.id, p.trade_date, p.seq, p.n, d.date_sold, s.ticker
        ORDER BY p.trade_date, p.seq, p.id"""
    money = [sqlite_decimal(Disposal, name) for name in ("quantity", "proceeds", "cost_basis", "disallowed")]
    convert = (None, sqlite_date, None, *money, sqlite_decimal(Disposal, "gain_loss"),
               sqlite_decimal(Disposal, "gain_loss"), None, None)
    return sales_from, page, convert, Transaction.Action.SELL.value


_SALES_FROM, _SALES_PAGE_SQL, _SALES_PAGE_CONVERT, _SELL = _sales_sql()


def group_label(data: Data, key: str) -> str | None:
    """The owner group's names for a drill key, or None when no account of the scope has those owners."""
    for account_id in data.accounts:
        if _group_key(data.account_owners[account_id]) == key:
            return " & ".join(sorted(data.owners[o].name for o in data.account_owners[account_id] if o in data.owners))
    return None

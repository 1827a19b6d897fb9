"""Tax projection for one owner (one return) and one year, and the value of harvesting a loss.

    from harvester.core.tax import TaxProfile, project, harvest_value
    breakdown = project(TaxProfile(year=2026, filing_status="mfj", ordinary_income=Decimal("180000")))
    value = harvest_value(profile, loss_short=Decimal("4000"), loss_long=Decimal("0"))

The computation follows the return, line by line (worked examples: docs/tax_projection.md):
1. Netting (Schedule D lines 7, 15, 16): short-term gains less short-term losses and the short-term
   carryover; the same for long-term; then the two nets are combined.
2. A net capital loss is deductible up to 3,000 (1,500 married filing separately), IRC 1211(b)
   (Schedule D line 21); the rest carries forward by character, IRC 1212(b), as the Capital Loss
   Carryover Worksheet of the Schedule D instructions computes it.
3. Taxable income = AGI - standard deduction (a trust: its IRC 642(b) exemption).
4. Ordinary income is taxed by the brackets; qualified dividends and net capital gain are stacked on top
   and taxed at 0/15/20% (Qualified Dividends and Capital Gain Tax Worksheet, IRC 1(h)).
   Below 100,000 of taxable income the Form 1040 Tax Table applies to the ordinary amounts; both figures
   are computed and `method` says which one the total uses. Trusts (Form 1041) have no table.
5. NIIT 3.8% on the lesser of net investment income and MAGI over the threshold (IRC 1411).
6. State tax: a flat rate on taxable income including gains (a simplification: no state brackets).

Money is Decimal throughout; every output is rounded to cents ROUND_HALF_UP; nothing reads the clock.
"""

from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal, localcontext

from .money import CONTEXT, HUNDRED, ZERO, cents, usd, whole_dollars
from .tax_tables import FILING_STATUSES, MFS, TRUST, Bracket, YearTables, load_year

FORMULA = "formula"
TAX_TABLE = "tax_table"
_HALF = Decimal("0.5")


class TaxInputError(ValueError):
    """A TaxProfile that cannot be projected (unknown filing status, negative carryforward, ...)."""


@dataclass(frozen=True, slots=True)
class TaxProfile:
    """What one return expects for one year: the inputs of the projection.

    `ordinary_income`: wages, interest, non-qualified dividends... before the standard deduction (for a
    trust: its income kept, after distributions). `st_gains`/`lt_gains`: net realized gains of the year
    so far, signed (a net loss is negative), from all sources. `carryforward_st`/`_lt`: capital losses
    carried in from earlier years, as positive numbers. `net_investment_income_extra`: investment income
    already inside ordinary_income (interest, non-qualified dividends, rents) that counts for NIIT.
    `state_rate` is a percent (5.25 for 5.25%). `deduction` None means the standard deduction of the
    status (a trust: the IRC 642(b)(2)(A) exemption); a number replaces it (itemized deductions)."""

    year: int
    filing_status: str
    ordinary_income: Decimal = ZERO
    qualified_dividends: Decimal = ZERO
    state_rate: Decimal = ZERO
    st_gains: Decimal = ZERO
    lt_gains: Decimal = ZERO
    carryforward_st: Decimal = ZERO
    carryforward_lt: Decimal = ZERO
    net_investment_income_extra: Decimal = ZERO
    deduction: Decimal | None = None

    def with_realized(self, st: Decimal, lt: Decimal) -> "TaxProfile":
        """The same return with `st`/`lt` more realized gain (negative: a realized loss)."""
        return TaxProfile(self.year, self.filing_status, self.ordinary_income, self.qualified_dividends,
                          self.state_rate, self.st_gains + st, self.lt_gains + lt, self.carryforward_st,
                          self.carryforward_lt, self.net_investment_income_extra, self.deduction)


@dataclass(frozen=True, slots=True)
class BracketLine:
    """One line of a bracket computation: `amount` of income taxed at `rate` (from `start` to `end`)."""

    rate: Decimal
    start: Decimal
    end: Decimal | None
    amount: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class TaxBreakdown:
    """The projection of one return, every figure in cents. Line references are to the 2025 forms.

    income_tax is what the IRS rules give (`method`: "tax_table" when the Form 1040 Tax Table applies,
    else "formula"); income_tax_formula is the same computed with the exact rates throughout, and
    income_tax_table the Tax Table figure (None when the table does not apply)."""

    year: int
    filing_status: str
    net_short_term: Decimal  # Schedule D line 7 (after the short-term carryover)
    net_long_term: Decimal  # Schedule D line 15 (after the long-term carryover)
    net_capital: Decimal  # Schedule D line 16
    capital_loss_deduction: Decimal  # Schedule D line 21, as a positive number: loss used against ordinary income
    loss_used: Decimal  # Carryover Worksheet line 4: the part of line 21 that lowered taxable income
    carryforward_st_next: Decimal  # Carryover Worksheet line 8
    carryforward_lt_next: Decimal  # Carryover Worksheet line 13
    agi: Decimal
    deduction: Decimal
    taxable_income: Decimal
    ordinary_taxable_income: Decimal  # QDCG worksheet line 5
    preferential_income: Decimal  # qualified dividends + net capital gain taxed at 0/15/20%
    ordinary_lines: tuple[BracketLine, ...]  # exact-rate lines on ordinary_taxable_income
    preferential_lines: tuple[BracketLine, ...]  # the 0%, 15% and 20% parts
    ordinary_tax: Decimal  # tax on ordinary_taxable_income by `method`
    preferential_tax: Decimal
    regular_tax: Decimal  # QDCG worksheet line 24: all taxable income at ordinary rates, by `method`
    income_tax: Decimal  # QDCG worksheet line 25 (the smaller of line 23 and line 24)
    income_tax_formula: Decimal
    income_tax_table: Decimal | None
    method: str
    method_note: str
    net_investment_income: Decimal
    niit: Decimal
    state_tax: Decimal
    total: Decimal  # income_tax + niit + state_tax
    total_formula: Decimal  # income_tax_formula + niit + state_tax


@dataclass(frozen=True, slots=True)
class HarvestValue:
    """What realizing an extra loss this year is worth to one return.

    value_now = total tax before - total tax after (exact rates, see harvest_value). The loss also
    lowers the basis of the position by `basis_reduction` (the replacement is bought at today's price),
    so harvesting defers tax rather than forgiving it; `carryforward_added_*` is the part of the loss
    that is not used this year and carries to the next."""

    loss_short: Decimal
    loss_long: Decimal
    tax_before: Decimal
    tax_after: Decimal
    value_now: Decimal
    federal_saving: Decimal
    niit_saving: Decimal
    state_saving: Decimal
    carryforward_added_st: Decimal
    carryforward_added_lt: Decimal
    basis_reduction: Decimal
    explanation: str


# -- the computation ------------------------------------------------------------------------------------


def check_profile(profile: TaxProfile) -> None:
    """Raise TaxInputError if the profile cannot be projected."""
    if profile.filing_status not in FILING_STATUSES:
        raise TaxInputError(
            f"unknown filing status {profile.filing_status!r} (expected one of {', '.join(FILING_STATUSES)})"
        )
    for name in ("ordinary_income", "qualified_dividends", "state_rate", "st_gains", "lt_gains",
                 "carryforward_st", "carryforward_lt", "net_investment_income_extra"):
        value = getattr(profile, name)
        if type(value) is not Decimal or not value.is_finite():
            raise TaxInputError(f"{name} must be a finite Decimal, not {value!r}")
    for name in ("qualified_dividends", "carryforward_st", "carryforward_lt", "net_investment_income_extra"):
        if getattr(profile, name) < 0:
            raise TaxInputError(f"{name} must not be negative")
    if not ZERO <= profile.state_rate <= HUNDRED:
        raise TaxInputError("state_rate is a percent between 0 and 100")
    if profile.deduction is not None and (type(profile.deduction) is not Decimal or profile.deduction < 0):
        raise TaxInputError("deduction must be a non-negative Decimal or None")


def bracket_tax(income: Decimal, brackets: tuple[Bracket, ...]) -> Decimal:
    """Tax on `income` by the rate schedule (exact, not rounded): each rate on the part of income in its
    bracket. For income of 100,000 or more this is the IRS Tax Computation Worksheet's figure."""
    if income <= 0:
        return ZERO
    schedule = _SCHEDULES.get(id(brackets))
    if schedule is None or schedule[0] is not brackets:
        schedule = _schedule(brackets)
    _, starts, bases, rates = schedule
    index = bisect_left(starts, income) - 1  # the bracket with start < income <= next start
    return bases[index] + (income - starts[index]) * rates[index]


_SCHEDULES: dict[int, tuple] = {}


def _schedule(brackets: tuple[Bracket, ...]) -> tuple:
    """(brackets, starts, tax at each start, rates): tax = base + rate * (income - start), one bracket."""
    starts, bases, rates = [], [], []
    base = ZERO
    for index, bracket in enumerate(brackets):
        if index:
            base += (bracket.start - brackets[index - 1].start) * brackets[index - 1].rate
        starts.append(bracket.start)
        bases.append(base)
        rates.append(bracket.rate)
    schedule = (brackets, starts, bases, rates)  # holding `brackets` keeps its id from being reused
    _SCHEDULES[id(brackets)] = schedule
    return schedule


def bracket_lines(income: Decimal, brackets: tuple[Bracket, ...]) -> tuple[BracketLine, ...]:
    """The lines of bracket_tax: one per bracket that `income` reaches, in cents."""
    lines = []
    for index, bracket in enumerate(brackets):
        if income <= bracket.start:
            break
        end = brackets[index + 1].start if index + 1 < len(brackets) else None
        top = income if end is None or income < end else end
        amount = top - bracket.start
        lines.append(BracketLine(bracket.rate, bracket.start, end, cents(amount), cents(amount * bracket.rate)))
    return tuple(lines)


def tax_table_row(income: Decimal) -> tuple[Decimal, Decimal]:
    """The Form 1040 Tax Table row (at least, but less than) that holds taxable income `income`.

    Form 1040 instructions, Tax Table: rows 0-5, 5-15, 15-25, then rows of 25 dollars up to 3,000,
    then rows of 50 dollars up to 100,000. Only meaningful below 100,000."""
    if income < 5:
        return ZERO, Decimal(5)
    if income < 15:
        return Decimal(5), Decimal(15)
    if income < 25:
        return Decimal(15), Decimal(25)
    width = Decimal(25) if income < 3000 else Decimal(50)
    low = (income // width) * width
    return low, low + width


def tax_table_tax(income: Decimal, brackets: tuple[Bracket, ...]) -> Decimal:
    """The Tax Table figure: the rate-schedule tax on the midpoint of the row, in whole dollars (half up).

    This is how the IRS builds the table (e.g. the 25-50 row of 2025 shows 4: 10% of 37.50 = 3.75)."""
    low, high = tax_table_row(income)
    return whole_dollars(bracket_tax((low + high) * _HALF, brackets))


class _Core:
    """Every number of the projection, unrounded; project() and tax_total() read what they need."""

    __slots__ = ("st_net", "lt_net", "net", "line21", "line4", "cf_st", "cf_lt", "agi", "deduction",
                 "taxable", "ordinary", "pref", "pref_tax", "tax_formula", "tax_irs", "method", "line24_used",
                 "table_applies", "ordinary_tax_irs", "ordinary_tax_formula", "nii", "niit", "state", "line24")

    def total(self) -> Decimal:
        """Income tax (exact rates) + NIIT + state, unrounded."""
        return self.tax_formula + self.niit + self.state


def _compute(profile: TaxProfile, tables: YearTables, st_more: Decimal = ZERO, lt_more: Decimal = ZERO,
             irs: bool = True) -> _Core:
    """The projection of `profile` with `st_more`/`lt_more` more realized gain (negative: a loss).
    `irs` False skips the Tax Table figures (tax_irs, method) when only the exact-rate total is needed."""
    status = profile.filing_status
    c = _Core()
    # 1. Netting: Schedule D line 7 (short), line 15 (long), line 16 (combined).
    st_net = profile.st_gains + st_more - profile.carryforward_st
    lt_net = profile.lt_gains + lt_more - profile.carryforward_lt
    net = st_net + lt_net
    c.st_net, c.lt_net, c.net = st_net, lt_net, net
    # 2. Line 21: the loss allowed against ordinary income, IRC 1211(b).
    if net < 0:
        limit = tables.capital_loss_limit[status]
        line21 = -net if -net < limit else limit
        capital_in_agi = -line21
        net_capital_gain = ZERO
    else:
        line21 = ZERO
        capital_in_agi = net
        # IRC 1(h)(11), 1222(11): net capital gain = the smaller of line 15 and line 16, if both are gains.
        net_capital_gain = lt_net if lt_net < net else net
        if net_capital_gain < 0:
            net_capital_gain = ZERO
    c.line21 = line21
    # 3. AGI, deduction, taxable income.
    agi = profile.ordinary_income + profile.qualified_dividends + capital_in_agi
    deduction = tables.standard_deduction[status] if profile.deduction is None else profile.deduction
    unfloored = agi - deduction
    taxable = unfloored if unfloored > 0 else ZERO
    c.agi, c.deduction, c.taxable = agi, deduction, taxable
    # Capital Loss Carryover Worksheet (Schedule D instructions; Form 1041 adds back the exemption).
    # Line 1 is taxable income before it is floored at zero ("if a loss, enclose it in parentheses").
    line4 = unfloored + line21 + (deduction if status == TRUST else ZERO)  # line 3
    line4 = line4 if line4 > 0 else ZERO
    line4 = line21 if line21 < line4 else line4  # line 4: the smaller of line 2 (line 21) and line 3
    cf_st = cf_lt = ZERO
    if st_net < 0:
        line5 = -st_net
        line6 = lt_net if lt_net > 0 else ZERO
        cf_st = line5 - (line4 + line6)
        cf_st = cf_st if cf_st > 0 else ZERO
    if lt_net < 0:
        line9 = -lt_net
        line10 = st_net if st_net > 0 else ZERO
        line11 = line4 - (-st_net if st_net < 0 else ZERO)
        line11 = line11 if line11 > 0 else ZERO
        cf_lt = line9 - (line10 + line11)
        cf_lt = cf_lt if cf_lt > 0 else ZERO
    c.line4, c.cf_st, c.cf_lt = line4, cf_st, cf_lt
    # 4. Qualified Dividends and Capital Gain Tax Worksheet.
    preferential = profile.qualified_dividends + net_capital_gain
    ordinary = taxable - preferential
    ordinary = ordinary if ordinary > 0 else ZERO  # line 5
    pref = taxable - ordinary  # line 10: the smaller of taxable income and line 4
    c.ordinary, c.pref = ordinary, pref
    pref_tax = ZERO
    if pref:
        brackets = tables.capital_gains[status]
        for index, bracket in enumerate(brackets):
            end = brackets[index + 1].start if index + 1 < len(brackets) else None
            top = taxable if end is None or taxable < end else end
            bottom = ordinary if ordinary > bracket.start else bracket.start
            if top > bottom:
                pref_tax += (top - bottom) * bracket.rate
    c.pref_tax = pref_tax
    ordinary_brackets = tables.ordinary[status]
    ordinary_formula = bracket_tax(ordinary, ordinary_brackets)
    line23_formula = ordinary_formula + pref_tax
    line24_formula = bracket_tax(taxable, ordinary_brackets) if pref else line23_formula
    c.tax_formula = line23_formula if line23_formula <= line24_formula else line24_formula
    c.ordinary_tax_formula = ordinary_formula
    if irs:
        _irs_figure(c, status, tables, ordinary_brackets, line24_formula)
    # 5. NIIT, IRC 1411: net gain may not go below zero, but the 1211(b) loss offsets other investment
    # income (Treas. Reg. 1.1411-4(d)(2)); MAGI is AGI here (no foreign earned income exclusion).
    nii = profile.qualified_dividends + profile.net_investment_income_extra + capital_in_agi
    nii = nii if nii > 0 else ZERO
    over = agi - tables.niit_threshold[status]
    base = (nii if nii < over else over) if over > 0 else ZERO
    c.nii = nii
    c.niit = base * tables.niit_rate
    # 6. State: a flat rate on taxable income including gains.
    c.state = taxable * profile.state_rate / HUNDRED
    return c


def _irs_figure(c: _Core, status: str, tables: YearTables, ordinary_brackets, line24_formula: Decimal) -> None:
    """QDCG worksheet lines 22-25 as filed: the Tax Table for each amount under the limit (1040 only)."""
    ordinary, taxable, pref, pref_tax = c.ordinary, c.taxable, c.pref, c.pref_tax
    ordinary_formula = c.ordinary_tax_formula
    below = tables.tax_table_below
    table_ok = status in tables.tax_table_statuses
    c.table_applies = table_ok and taxable < below
    ordinary_irs = tax_table_tax(ordinary, ordinary_brackets) if table_ok and ordinary < below else ordinary_formula
    line23 = ordinary_irs + pref_tax
    if pref:
        line24 = tax_table_tax(taxable, ordinary_brackets) if table_ok and taxable < below else line24_formula
    else:
        line24 = line23
    c.line24 = line24
    c.line24_used = line24 < line23
    c.tax_irs = line24 if c.line24_used else line23
    c.ordinary_tax_irs = ordinary_irs
    used_table = table_ok and ((taxable < below) if c.line24_used else (ordinary < below))
    c.method = TAX_TABLE if used_table else FORMULA


def project(profile: TaxProfile, tables: YearTables | None = None) -> TaxBreakdown:
    """The tax projection of one return for profile.year (see the module docstring for every rule).

    `tables` defaults to harvester/data/tax/<year>.json; a missing year raises TaxTableError."""
    check_profile(profile)
    with localcontext(CONTEXT):
        tables = tables or load_year(profile.year)
        c = _compute(profile, tables)
        status = profile.filing_status
        brackets = tables.capital_gains[status]
        pref_lines = []
        if c.pref:
            for index, bracket in enumerate(brackets):
                end = brackets[index + 1].start if index + 1 < len(brackets) else None
                top = c.taxable if end is None or c.taxable < end else end
                bottom = c.ordinary if c.ordinary > bracket.start else bracket.start
                if top > bottom:
                    amount = top - bottom
                    pref_lines.append(BracketLine(bracket.rate, bracket.start, end, cents(amount),
                                                  cents(amount * bracket.rate)))
        if status not in tables.tax_table_statuses:
            note = ("Form 1041 has no Tax Table: the trust's tax uses the rate schedule for estates and "
                    "trusts.")
        elif c.method == TAX_TABLE:
            note = (f"The income taxed at ordinary rates ({usd(c.taxable if c.line24_used else c.ordinary)}) is "
                    f"below ${tables.tax_table_below:,.0f}, so the IRS Tax Table applies: its tax is the tax on the "
                    "middle of the table's row (rows of $50 from $3,000, of $25 below), in whole dollars. "
                    "income_tax_formula gives the exact-rate figure.")
        else:
            note = (f"The income taxed at ordinary rates is ${tables.tax_table_below:,.0f} or more, so the exact "
                    "rate formula applies (the Tax Computation Worksheet).")
        if c.line24_used:
            note += " The regular tax on all taxable income is lower than the capital gain worksheet's, so it is used."
        tax_irs, tax_formula = cents(c.tax_irs), cents(c.tax_formula)
        niit, state = cents(c.niit), cents(c.state)
        return TaxBreakdown(
            year=profile.year,
            filing_status=status,
            net_short_term=cents(c.st_net),
            net_long_term=cents(c.lt_net),
            net_capital=cents(c.net),
            capital_loss_deduction=cents(c.line21),
            loss_used=cents(c.line4),
            carryforward_st_next=cents(c.cf_st),
            carryforward_lt_next=cents(c.cf_lt),
            agi=cents(c.agi),
            deduction=cents(c.deduction),
            taxable_income=cents(c.taxable),
            ordinary_taxable_income=cents(c.ordinary),
            preferential_income=cents(c.pref),
            ordinary_lines=bracket_lines(c.ordinary, tables.ordinary[status]),
            preferential_lines=tuple(pref_lines),
            ordinary_tax=cents(c.ordinary_tax_irs),
            preferential_tax=cents(c.pref_tax),
            regular_tax=cents(c.line24),
            income_tax=tax_irs,
            income_tax_formula=tax_formula,
            income_tax_table=tax_irs if c.method == TAX_TABLE else None,
            method=c.method,
            method_note=note,
            net_investment_income=cents(c.nii),
            niit=niit,
            state_tax=state,
            total=tax_irs + niit + state,
            total_formula=tax_formula + niit + state,
        )


def tax_total(profile: TaxProfile, method: str = FORMULA, tables: YearTables | None = None) -> Decimal:
    """Total tax (income tax + NIIT + state), unrounded, without building the breakdown: the scan's
    fast path. `method` "formula" uses the exact rates throughout; "irs" the Tax Table where it applies."""
    with localcontext(CONTEXT):
        c = _compute(profile, tables or load_year(profile.year), irs=method != FORMULA)
        return (c.tax_formula if method == FORMULA else c.tax_irs) + c.niit + c.state


def harvest_value(profile: TaxProfile, loss_short: Decimal, loss_long: Decimal,
                  tables: YearTables | None = None) -> HarvestValue:
    """The value now of realizing `loss_short` + `loss_long` more this year: total tax before minus after.

    Losses are positive numbers (a negative one is a gain, as a switch-back may realize). The figure uses
    the exact rates, not the Tax Table: the table's $50 rows would make a small loss worth either nothing
    or a row's worth of tax depending on where income falls in a row (docs/tax_projection.md). The part
    of the loss not usable this year (beyond the 3,000 / 1,500 offset) carries forward and is worth
    nothing now; the replacement's basis is lower by the whole loss, so the tax is deferred, not forgiven."""
    check_profile(profile)
    for name, value in (("loss_short", loss_short), ("loss_long", loss_long)):
        if type(value) is not Decimal or not value.is_finite():
            raise TaxInputError(f"{name} must be a finite Decimal, not {value!r}")
    with localcontext(CONTEXT):
        tables = tables or load_year(profile.year)
        before = _compute(profile, tables)
        after = _compute(profile, tables, -loss_short, -loss_long)
        return value_from(profile, before, after, loss_short, loss_long)


def value_words(profile: TaxProfile, before: _Core, after: _Core, loss_short: Decimal, loss_long: Decimal) -> str:
    """HarvestValue.explanation alone, from two projections (the scan's explanation)."""
    value = cents(before.total()) - cents(after.total())
    federal = cents(before.tax_formula) - cents(after.tax_formula)
    niit = cents(before.niit) - cents(after.niit)
    state = cents(before.state) - cents(after.state)
    carried = cents(after.cf_st) - cents(before.cf_st) + cents(after.cf_lt) - cents(before.cf_lt)
    return _value_words(profile, loss_short, loss_long, value, federal, niit, state, carried,
                        cents(loss_short + loss_long))


def value_from(profile: TaxProfile, before: _Core, after: _Core, loss_short: Decimal,
               loss_long: Decimal) -> HarvestValue:
    """HarvestValue from two projections already computed (the scan computes them while ranking)."""
    value = cents(before.total()) - cents(after.total())
    federal = cents(before.tax_formula) - cents(after.tax_formula)
    niit = cents(before.niit) - cents(after.niit)
    state = cents(before.state) - cents(after.state)
    cf_st = cents(after.cf_st) - cents(before.cf_st)
    cf_lt = cents(after.cf_lt) - cents(before.cf_lt)
    total_loss = cents(loss_short + loss_long)
    return HarvestValue(
        loss_short=cents(loss_short),
        loss_long=cents(loss_long),
        tax_before=cents(before.total()),
        tax_after=cents(after.total()),
        value_now=value,
        federal_saving=federal,
        niit_saving=niit,
        state_saving=state,
        carryforward_added_st=cf_st,
        carryforward_added_lt=cf_lt,
        basis_reduction=total_loss,
        explanation=_value_words(profile, loss_short, loss_long, value, federal, niit, state, cf_st + cf_lt,
                                 total_loss),
    )


def projection(profile: TaxProfile, tables: YearTables, st_more: Decimal = ZERO, lt_more: Decimal = ZERO) -> _Core:
    """The unrounded projection (no checks, no breakdown): the scan's fast path. The caller runs in
    harvester.core.money.CONTEXT and has checked the profile."""
    return _compute(profile, tables, st_more, lt_more, irs=False)


def _value_words(profile, loss_short, loss_long, value, federal, niit, state, carried, total_loss) -> str:
    if total_loss < 0:
        return (f"Selling realizes a gain of {usd(-total_loss)}, which adds about {usd(-value)} to the "
                f"{profile.year} tax (federal {usd(-federal)}, investment income tax {usd(-niit)}, state "
                f"{usd(-state)}).")
    parts = []
    if loss_short and loss_long:
        parts.append(f"({usd(loss_short)} short-term, {usd(loss_long)} long-term)")
    elif loss_short:
        parts.append("(short-term)")
    elif loss_long:
        parts.append("(long-term)")
    limit = "1,500" if profile.filing_status == MFS else "3,000"
    text = (f"Realizing a loss of {usd(total_loss)} {' '.join(parts)} lowers the {profile.year} tax by about "
            f"{usd(value)} (federal {usd(federal)}, investment income tax {usd(niit)}, state {usd(state)}).")
    if carried > 0:
        text += (f" {usd(carried)} of it cannot be used this year (losses beyond gains offset at most "
                 f"${limit} of other income) and carries forward to next year, keeping its character.")
    text += (f" The replacement is bought at today's price, so the position's cost basis is {usd(total_loss)} "
             "lower than before: the tax is deferred, not forgiven, until the replacement is sold.")
    return text

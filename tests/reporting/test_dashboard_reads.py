"""The dashboard's hand-written reads give what the ORM gives, and the drill-down's rows of sales are the
cells the template wrote (harvester/dashboard.py `_accounts`, harvester/templatetags/dashboard_rows.py)."""

from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Account, Household, Owner
from harvester import dashboard

pytestmark = pytest.mark.django_db


def orm_reading(scope: dashboard.Scope):
    """The scope's households, accounts, account owners and owners as the ORM reads them."""
    households = list(Household.objects.filter(pk__in=scope.household_ids).order_by("name", "id"))
    accounts = list(Account.objects.filter(household_id__in=scope.household_ids).order_by("name", "id"))
    owners_of = {a.pk: tuple(sorted(a.owners.values_list("pk", flat=True))) for a in accounts}
    shown = [a for a in accounts if scope.owner_id is None or scope.owner_id in owners_of[a.pk]]
    owners = list(Owner.objects.filter(household_id__in=scope.household_ids).select_related("taxpayer_unit"))
    return households, shown, owners_of, owners


def fields(model) -> list:
    return [(f.attname, getattr(model, f.attname)) for f in model._meta.concrete_fields if f.attname != "created_at"]


def same_rows(models, expected) -> bool:
    return [fields(m) for m in models] == [fields(m) for m in expected]


@pytest.mark.parametrize("by_owner", [False, True])
@pytest.mark.parametrize("known", [False, True])
def test_accounts_and_owners_are_read_as_the_orm_reads_them(history, by_owner, known):
    other = Household.objects.create(name="Someone else")  # a second household must not leak in
    Account.objects.create(household=other, name="Elsewhere", kind="individual")
    owner_id = history.jordan_owner.pk if by_owner else None
    scope = dashboard.Scope((history.household.pk,), owner_id)
    households, accounts, account_owners, owners = dashboard._accounts(scope, [history.household] if known else ())
    want_households, want_accounts, want_owners_of, want_owners = orm_reading(scope)
    assert same_rows(households.values(), want_households)
    assert same_rows(accounts.values(), want_accounts)
    assert account_owners == want_owners_of
    assert any(len(o) == 2 for o in account_owners.values())  # the joint account: both spouses
    assert same_rows(owners.values(), want_owners)
    assert [o.taxpayer_unit.name for o in owners.values()] == [o.taxpayer_unit.name for o in want_owners]
    if by_owner:
        assert accounts and all(owner_id in account_owners[pk] for pk in accounts)
        assert len(accounts) < len(account_owners)


def test_a_book_of_households_reads_every_household_in_name_order(history):
    second = Household.objects.create(name="Aardvark family")
    scope = dashboard.Scope((history.household.pk, second.pk))
    households, accounts, _, _ = dashboard._accounts(scope)
    assert list(households) == [second.pk, history.household.pk]
    assert same_rows(accounts.values(), orm_reading(scope)[1])


def render_rows(rows, year=2026):
    return Template("{% load dashboard_rows %}{% sale_rows rows year %}").render(Context({"rows": rows, "year": year}))


def sale(**overrides):
    values = dict(
        sale_id=7, date_sold=date(2026, 3, 2), ticker="VEA", quantity=Decimal("10.50000000"),
        proceeds=Decimal("1234.5"), cost_basis=Decimal("1300.00"), disallowed=Decimal("0.00"),
        short=Decimal("-65.50"), long=Decimal("0.00"), lots=2, harvest=False,
    )
    return dashboard.SaleRow(**{**values, **overrides})


def test_a_sale_row_has_the_cells_the_template_wrote():
    html = render_rows([sale(), sale(sale_id=8, ticker="<X&Y>", disallowed=Decimal("12.5"), harvest=True)])
    first, second = html.split("\n")
    assert first == (
        '<tr class="sale-row" data-sale="7"><td>2026-03-02</td><td>VEA</td><td class="num">10.5</td>'
        '<td class="num">$1,234.50</td><td class="num">$1,300.00</td><td class="num"></td>'
        '<td class="num"><span class="loss">−$65.50</span></td><td class="num"><span class="gain">$0.00</span></td>'
        '<td class="num">2</td><td></td></tr>'
    )
    assert "<td>&lt;X&amp;Y&gt;</td>" in second and '<td class="num">W $12.50</td>' in second
    assert second.endswith("<td>harvest</td></tr>")


def test_no_sales_says_so():
    assert render_rows([], 2024) == '<tr><td colspan="10">No reportable sales in 2024.</td></tr>'


def expected_sales(account, year, page, harvest_sales):
    """The drill-down's page of sales computed from the stored rows in Python."""
    from lots.models import Disposal, Transaction

    sales = list(Transaction.objects.filter(account=account, action="sell", trade_date__year=year)
                 .order_by("trade_date", "seq", "id"))
    rows = []
    for t in sales[(page - 1) * dashboard.SALES_PAGE : page * dashboard.SALES_PAGE]:
        ds = list(Disposal.objects.filter(sale=t, reportable=True).select_related("security"))
        if not ds:
            continue
        rows.append(dashboard.SaleRow(
            sale_id=t.pk, date_sold=ds[0].date_sold, ticker=ds[0].security.ticker,
            quantity=sum(d.quantity for d in ds), proceeds=sum(d.proceeds for d in ds),
            cost_basis=sum(d.cost_basis for d in ds), disallowed=sum(d.disallowed for d in ds),
            short=sum((d.gain_loss for d in ds if d.term == "short"), Decimal("0.00")),
            long=sum((d.gain_loss for d in ds if d.term == "long"), Decimal("0.00")),
            lots=len(ds), harvest=t.pk in harvest_sales,
        ))
    return rows, len(sales)


def test_the_page_of_sales_is_what_the_stored_rows_add_up_to(history):
    from lots.ledger import ledger_recompute
    from tests.reporting.test_dashboard_pages import add_sales

    w = history
    w.trade(w.jordan_ind, "VTI", "2023-01-03", "buy", "1", "200")
    w.trade(w.jordan_ind, "VTI", "2024-01-02", "buy", "1.5", "210")
    mixed = w.trade(w.jordan_ind, "VTI", "2024-03-01", "sell", "2.5", "190", fees="0.70")  # one long lot, one short
    ledger_recompute(household_id=w.household.pk)
    add_sales(w, 55)  # 56 sales in 2024: two pages
    harvest = frozenset({mixed.pk})
    for page in (1, 2, 3):
        got = dashboard.drill_sales(w.jordan_ind.pk, 2024, page=page, harvest_sales=harvest)
        assert got == expected_sales(w.jordan_ind, 2024, page, harvest)
    first, count = dashboard.drill_sales(w.jordan_ind.pk, 2024, page=1, harvest_sales=harvest)
    assert count == 56 and len(first) == 50
    row = next(r for r in first if r.sale_id == mixed.pk)
    assert row.lots == 2 and row.short and row.long and row.harvest
    # A year with one sale (Alex's harvested VEA sale), and a year without any.
    sales, count = dashboard.drill_sales(w.alex_ind.pk, 2026, page=1, harvest_sales=frozenset())
    assert count == 1 and [s.sale_id for s in sales] == [w.vea_sale.pk]
    assert dashboard.drill_sales(w.alex_ind.pk, 2019, page=1, harvest_sales=frozenset()) == ([], 0)


@given(st.one_of(st.none(), st.decimals(allow_nan=True, allow_infinity=True), st.integers(), st.just("")))
def test_money_and_quantities_need_no_escaping(value):
    """sale_rows and signed_money put money() and qty() text into HTML as it is."""
    from harvester.templatetags.money import money, qty, signed_money_html

    texts = [money(value), signed_money_html(value).removeprefix('<span class="loss">')
             .removeprefix('<span class="gain">').removesuffix("</span>")]
    if isinstance(value, Decimal) and value.is_finite() or isinstance(value, int):
        texts.append(qty(value))
    assert not any(c in text for text in texts for c in "&<>\"'")

"""The dashboard's hand-written reads give what the ORM gives, and the drill-down's rows of sales are the
cells the template wrote (harvester/dashboard.py `_accounts`, harvester/templatetags/dashboard_rows.py)."""

from datetime import date
from decimal import Decimal

import pytest
from django.template import Context, Template

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

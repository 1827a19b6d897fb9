"""Pages: the household list, the household overview and an account's. Views parse, call access_*, read, render."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import Case, Count, DecimalField, F, OuterRef, Prefetch, Subquery, Sum, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.access import access_account, access_household, households_for
from accounts.models import Account, Membership, Owner
from harvester.money import PRICE
from lots import selectors
from lots.models import Lot, Price, ScheduledPurchase, Security, Transaction

LOTS_PAGE = 100  # open lots per page of the household page's table (docs/load.md, "Where the time goes" 3)
TRANSACTIONS_PAGE = 100  # transactions per page of the account page's table


@login_required
def home(request):
    households = households_for(request.user).annotate(
        n_accounts=Count("accounts", distinct=True), n_owners=Count("owners", distinct=True)
    )
    roles = dict(Membership.objects.filter(user=request.user).values_list("household_id", "role"))
    if len(roles) == 1 and Membership.Role.ADVISOR not in roles.values():
        return redirect("household", household_id=next(iter(roles)))
    return render(request, "accounts/home.html", {"households": households, "roles": roles})


@dataclass(frozen=True)
class LotsPage:
    """Where a page of the lots table sits: page `number` of `pages`, rows `first` to `last` of `count`;
    `query` starts the address of another page (the account filter, if any)."""

    number: int
    pages: int
    count: int
    first: int
    last: int
    query: str = ""

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def _page_number(request, name: str = "page") -> int:
    """?page=N: absent is the first page; anything but a positive integer is a 404 (as the dashboard's)."""
    raw = request.GET.get(name)
    if raw in (None, ""):
        return 1
    try:
        number = int(raw)
    except ValueError:
        raise Http404("No such page") from None
    if number < 1:
        raise Http404("No such page")
    return number


def _open_lots(household, account_id: int | None):
    """The household's open lots in selectors.household_lots's order (account, ticker, acquired, id)."""
    lots = Lot.objects.filter(account__household=household)
    if account_id is not None:
        lots = lots.filter(account_id=account_id)
    return lots.select_related("account", "security").order_by(
        "account__name", "security__ticker", "acquired_date", "id"
    )


def _lots_page(request, lots, *, count: int, as_of, query: str = "") -> dict:
    """One page of `lots` (LOTS_PAGE rows) valued as the selectors value them; `query` starts the other
    pages' addresses. A page past the last shows the last (lots close as sales are recorded: an old address
    still lands on the table)."""
    pages = max(1, -(-count // LOTS_PAGE))
    number = min(_page_number(request), pages)
    start = (number - 1) * LOTS_PAGE
    views = selectors.lots_valued(lots[start : start + LOTS_PAGE], as_of=as_of)
    return {"lots": views, "lots_page": LotsPage(number, pages, count, start + 1, start + len(views), query)}


def _positions(household, account_names: dict[int, str], account_id: int | None = None) -> list[selectors.PositionView]:
    """selectors.positions over every open lot of the household (of its account `account_id` if given),
    summed by the database: two queries whatever the number of lots, and no lot read into Python. As there,
    a lot's market value is selectors.lot_value at the security's latest close, a position's the sum of its
    lots', and no value without a close."""
    lots = Lot.objects.filter(account__household=household)
    if account_id is not None:
        lots = lots.filter(account_id=account_id)
    newest = Price.objects.filter(security_id=OuterRef("pk")).order_by("-date")
    securities = {
        s.pk: s
        for s in Security.objects.filter(pk__in=lots.values("security_id"))
        .select_related("asset_class")
        .annotate(close=Subquery(newest.values("close")[:1]))
    }
    close = Case(
        *(When(security_id=pk, then=Value(s.close)) for pk, s in securities.items() if s.close is not None),
        default=Value(None),
        output_field=DecimalField(**PRICE),
    )
    rows = (
        lots.values("account_id", "security_id")
        .annotate(
            shares=Sum("quantity"),
            basis=Sum("cost_basis"),
            n_lots=Count("id"),
            value=Sum(selectors.lot_value_expression(F("quantity"), close)),
        )
        .order_by()
    )
    if any(r["security_id"] not in securities for r in rows):  # bought between the two queries: read it all
        return selectors.positions(
            selectors.household_lots(household, as_of=timezone.localdate(), account_id=account_id)
        )
    result = [
        selectors.PositionView(
            account_id=r["account_id"],
            account_name=account_names[r["account_id"]],
            security=securities[r["security_id"]],
            quantity=r["shares"],
            cost_basis=r["basis"],
            market_value=r["value"],
            unrealized=r["value"] - r["basis"] if r["value"] is not None else None,
            lots=r["n_lots"],
        )
        for r in rows
    ]
    return sorted(result, key=lambda p: (p.account_name, p.security.ticker))


@login_required
def household_detail(request, household_id):
    """The household overview. The lots table shows LOTS_PAGE lots at a time; the account totals and the
    positions cover every open lot (summed by the database). An htmx request aimed at #lots (the account
    filter, the table's previous/next links) gets that table alone; without JavaScript the same links
    (?page=N, ?account=N) render the whole page."""
    household = access_household(request.user, household_id)
    as_of = timezone.localdate()
    account_filter = None
    if request.GET.get("account"):
        account = access_account(request.user, request.GET["account"])
        if account.household_id != household.pk:
            raise Http404("No such account in this household")
        account_filter = account.pk
    query = f"account={account_filter}&" if account_filter is not None else ""
    lots = _open_lots(household, account_filter)
    context = {"household": household, "account_filter": account_filter}
    if request.htmx and request.htmx.target == "lots":
        context.update(_lots_page(request, lots, count=lots.count(), as_of=as_of, query=query))
        return render(request, "accounts/household.html#lots", context)
    accounts = list(
        Account.objects.filter(household=household)
        .prefetch_related(Prefetch("owners", queryset=Owner.objects.select_related("taxpayer_unit")))
        .order_by("name")
    )
    position_views = _positions(household, {a.pk: a.name for a in accounts})
    count = sum(p.lots for p in position_views if account_filter is None or p.account_id == account_filter)
    context.update(
        {
            "as_of": as_of,
            "owners": household.owners.select_related("taxpayer_unit", "user").prefetch_related("trustees"),
            "accounts": accounts,
            "totals": selectors.account_totals(position_views),
            "positions": position_views,
            "scheduled": ScheduledPurchase.objects.filter(account__household=household, active=True).select_related(
                "account", "security"
            ),
            **_lots_page(request, lots, count=count, as_of=as_of, query=query),
        }
    )
    return render(request, "accounts/household.html", context)


def _transactions_page(request, account, *, query: str = "") -> dict:
    """One page of the account's transactions (TRANSACTIONS_PAGE, newest first) at ?tx_page=N, placed as
    the lots' pages are (a page past the last shows the last)."""
    transactions = (
        Transaction.objects.filter(account=account).select_related("security").order_by("-trade_date", "-seq", "-id")
    )
    count = transactions.count()
    pages = max(1, -(-count // TRANSACTIONS_PAGE))
    number = min(_page_number(request, "tx_page"), pages)
    start = (number - 1) * TRANSACTIONS_PAGE
    rows = list(transactions[start : start + TRANSACTIONS_PAGE])
    return {
        "transactions": rows,
        "transactions_page": LotsPage(number, pages, count, start + 1, start + len(rows), query),
    }


@login_required
def account_detail(request, household_id, account_id):
    """One account: its open lots LOTS_PAGE at a time (?page=N, the #lots region) and its transactions
    TRANSACTIONS_PAGE at a time, newest first (?tx_page=N, the #transactions region); the positions cover
    every open lot of the account (summed by the database). An htmx request aimed at either region gets that
    region alone; without JavaScript the same links render the whole page, keeping the other table's page."""
    household = access_household(request.user, household_id)
    account = access_account(request.user, account_id)
    if account.household_id != household.pk:
        return redirect("account", household_id=account.household_id, account_id=account.pk)
    as_of = timezone.localdate()
    lots_number, tx_number = _page_number(request), _page_number(request, "tx_page")
    lots_query = f"tx_page={tx_number}&" if tx_number > 1 else ""  # the other table's page, kept
    tx_query = f"page={lots_number}&" if lots_number > 1 else ""
    lots = _open_lots(household, account.pk)
    context = {"household": household, "account": account}
    if request.htmx and request.htmx.target == "lots":
        context.update(_lots_page(request, lots, count=lots.count(), as_of=as_of, query=lots_query))
        return render(request, "accounts/account.html#lots", context)
    if request.htmx and request.htmx.target == "transactions":
        context.update(_transactions_page(request, account, query=tx_query))
        return render(request, "accounts/account.html#transactions", context)
    position_views = _positions(household, {account.pk: account.name}, account.pk)
    context.update(
        {
            "positions": position_views,
            "as_of": as_of,
            **_lots_page(request, lots, count=sum(p.lots for p in position_views), as_of=as_of, query=lots_query),
            **_transactions_page(request, account, query=tx_query),
        }
    )
    return render(request, "accounts/account.html", context)

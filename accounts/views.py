"""Pages: the household list and the household overview. Views parse, call access_*, read, render."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.access import access_account, access_household, households_for
from accounts.models import Account, Membership, Owner
from lots import selectors
from lots.models import ScheduledPurchase, Transaction


@login_required
def home(request):
    households = households_for(request.user).annotate(
        n_accounts=Count("accounts", distinct=True), n_owners=Count("owners", distinct=True)
    )
    roles = dict(Membership.objects.filter(user=request.user).values_list("household_id", "role"))
    if len(roles) == 1 and Membership.Role.ADVISOR not in roles.values():
        return redirect("household", household_id=next(iter(roles)))
    return render(request, "accounts/home.html", {"households": households, "roles": roles})


@login_required
def household_detail(request, household_id):
    household = access_household(request.user, household_id)
    as_of = timezone.localdate()
    account_filter = None
    if request.GET.get("account"):
        account = access_account(request.user, request.GET["account"])
        if account.household_id != household.pk:
            raise Http404("No such account in this household")
        account_filter = account.pk
    all_lots = selectors.household_lots(household, as_of=as_of)
    lot_views = [v for v in all_lots if account_filter is None or v.lot.account_id == account_filter]
    position_views = selectors.positions(all_lots)
    accounts = (
        Account.objects.filter(household=household)
        .prefetch_related(Prefetch("owners", queryset=Owner.objects.select_related("taxpayer_unit")))
        .order_by("name")
    )
    context = {
        "household": household,
        "as_of": as_of,
        "owners": household.owners.select_related("taxpayer_unit", "user").prefetch_related("trustees"),
        "accounts": accounts,
        "totals": selectors.account_totals(position_views),
        "positions": position_views,
        "lots": lot_views,
        "account_filter": account_filter,
        "scheduled": ScheduledPurchase.objects.filter(account__household=household, active=True).select_related(
            "account", "security"
        ),
    }
    if request.htmx and request.htmx.target == "lots":
        return render(request, "accounts/household.html#lots", context)
    return render(request, "accounts/household.html", context)


@login_required
def account_detail(request, household_id, account_id):
    household = access_household(request.user, household_id)
    account = access_account(request.user, account_id)
    if account.household_id != household.pk:
        return redirect("account", household_id=account.household_id, account_id=account.pk)
    as_of = timezone.localdate()
    lot_views = selectors.household_lots(household, as_of=as_of, account_id=account.pk)
    transactions = (
        Transaction.objects.filter(account=account).select_related("security").order_by("-trade_date", "-seq", "-id")
    )
    return render(
        request,
        "accounts/account.html",
        {
            "household": household,
            "account": account,
            "lots": lot_views,
            "positions": selectors.positions(lot_views),
            "transactions": transactions[:500],
            "as_of": as_of,
        },
    )

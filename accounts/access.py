"""The access layer: every view and API endpoint fetches household data through these helpers.

A household the caller does not belong to does not exist for them (404). Inside their own household,
an action their role may not take is refused (403). Roles (PRODUCT.md "Who uses it"):
advisor manages; member and trustee read (and later approve their own accounts); reporter reads.
"""

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Account, Household, Membership

MANAGER_ROLES = frozenset({Membership.Role.ADVISOR})


def households_for(user) -> QuerySet[Household]:
    """The households this login belongs to or advises."""
    if not user.is_authenticated:
        return Household.objects.none()
    return Household.objects.filter(memberships__user=user).distinct()


def role_in(user, household_id: int) -> str | None:
    """The caller's role in a household, or None when they are a stranger to it."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(user=user, household_id=household_id).values_list("role", flat=True).first()
    )


def access_household(user, household_id, *, manage: bool = False) -> Household:
    """Fetch a household the caller belongs to; 404 for strangers, 403 when `manage` and not an advisor.
    Sets `viewer_role`. One query for the household and the caller's role in it (every page and API call
    makes it: written once in SQL, where the ORM cost more Python time to build the two queries than the
    database took to answer them)."""
    try:
        household_id = int(household_id)
    except (TypeError, ValueError):
        raise Http404("No such household") from None
    if not user.is_authenticated or not 0 < household_id < 2**63:  # beyond a bigint: no such row
        raise Http404("No such household")
    with connection.cursor() as cursor:
        cursor.execute(_HOUSEHOLD_WITH_ROLE, [household_id, user.pk])
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such household")
    # Made as the ORM makes it; created_at is left deferred (reading it loads it).
    household = Household.from_db(connection.alias, ["id", "name", "history_complete_from"], row[1:])
    household.viewer_role = row[0]
    if manage and household.viewer_role not in MANAGER_ROLES:
        raise PermissionDenied("Only the household's advisor can do this.")
    return household


_HOUSEHOLD_WITH_ROLE = (
    f"SELECT m.role, h.id, h.name, h.history_complete_from FROM {Household._meta.db_table} h "
    f"JOIN {Membership._meta.db_table} m ON m.household_id = h.id WHERE h.id = %s AND m.user_id = %s"
)


def access_account(user, account_id, *, manage: bool = False) -> Account:
    """Fetch an account of a household the caller belongs to (same rules as access_household)."""
    try:
        account = Account.objects.select_related("household").get(pk=int(account_id))
    except (Account.DoesNotExist, TypeError, ValueError):
        raise Http404("No such account") from None
    access_household(user, account.household_id, manage=manage)
    return account

"""API tokens: how a request's token is looked up, and why tokens are read-only.

Tokens are read-only: a reporting client reads; changes are made in the browser (PRODUCT.md "Who uses it").
A token may still call the few views that write nothing (the 1099-B comparison) or that only take its own
access away (revoking the token): such a view sets `token_may_write = True`.
"""

from datetime import UTC

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotFound, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.access import role_in


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's TokenAuthentication ("Authorization: Token <key>", the same answers and messages), the key
    looked up by one query written once in SQL. DRF builds its select_related query with the ORM on every
    request, which costs about twice the Python time of this one: a sixth of an open-lots page's CPU time
    (docs/reporting.md "Speed"). A revoked token fails at once: nothing is cached."""

    def authenticate_credentials(self, key):
        if "\x00" in key:  # no token has one, and PostgreSQL refuses it in a query
            raise AuthenticationFailed(_("Invalid token."))
        token_model, user_model = self.get_model(), get_user_model()
        sql = (
            f"SELECT u.*, t.created AS api_token_created FROM {user_model._meta.db_table} u "
            f"JOIN {token_model._meta.db_table} t ON t.user_id = u.{user_model._meta.pk.column} WHERE t.key = %s"
        )
        user = next(iter(user_model.objects.raw(sql, [key])), None)
        if user is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        created = user.__dict__.pop("api_token_created")
        if timezone.is_naive(created):  # SQLite: a raw column's datetime comes back without its zone
            created = timezone.make_aware(created, UTC)
        token = token_model.from_db(user._state.db, ["key", "user_id", "created"], [key, user.pk, created])
        token.user = user
        return user, token


class TokensAreReadOnly(BasePermission):
    message = "API tokens are read-only: make changes in the browser."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "token_may_write", False):
            return True
        if not isinstance(request.successful_authenticator, TokenAuthentication):
            return True
        # A stranger to the household gets the 404 they get everywhere else, not a hint that it exists.
        household_id = getattr(view, "kwargs", {}).get("household_id")
        if household_id is not None and role_in(request.user, household_id) is None:
            raise NotFound("No such household")
        raise PermissionDenied(self.message)

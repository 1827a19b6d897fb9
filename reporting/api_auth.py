"""API tokens: how a request's token is looked up, and why tokens are read-only.

Tokens are read-only: a reporting client reads; changes are made in the browser (PRODUCT.md "Who uses it").
A token may still call the few views that write nothing (the 1099-B comparison) or that only take its own
access away (revoking the token): such a view sets `token_may_write = True`.
"""

import functools

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotFound, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.access import role_in


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's TokenAuthentication ("Authorization: Token <key>", the same answers and messages), the key
    looked up by one query written once in SQL. DRF builds its select_related query with the ORM on every
    request, which costs several times the Python time of this one (docs/reporting.md "Speed"). A revoked
    token fails at once: nothing is cached.

    The user and the token are made from the row with Model.from_db, as the ORM makes them; the few
    columns a request does not need (dates, the password hash) are left deferred: reading one loads it."""

    def authenticate_credentials(self, key):
        if "\x00" in key:  # no token has one, and PostgreSQL refuses it in a query
            raise AuthenticationFailed(_("Invalid token."))
        token_model, user_model = self.get_model(), get_user_model()
        with connection.cursor() as cursor:
            cursor.execute(_token_sql(user_model, token_model), [key])
            row = cursor.fetchone()
        if row is None:
            raise AuthenticationFailed(_("Invalid token."))
        user = user_model.from_db(connection.alias, _user_fields(user_model), row)
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        token = token_model.from_db(connection.alias, ["key", "user_id"], [key, user.pk])
        token.user = user
        return user, token


_USER_FIELDS = frozenset({"id", "username", "first_name", "last_name", "email", "is_staff", "is_active", "is_superuser"})


@functools.cache
def _user_fields(user_model) -> list[str]:
    """The user's columns that the query reads, in the model's field order (as from_db takes them)."""
    return [f.attname for f in user_model._meta.concrete_fields if f.attname in _USER_FIELDS]


@functools.cache
def _token_sql(user_model, token_model) -> str:
    columns = ", ".join(f"u.{user_model._meta.get_field(name).column}" for name in _user_fields(user_model))
    return (f"SELECT {columns} FROM {user_model._meta.db_table} u JOIN {token_model._meta.db_table} t "
            f"ON t.user_id = u.{user_model._meta.pk.column} WHERE t.key = %s")


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

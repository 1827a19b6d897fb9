"""API tokens are read-only: a reporting client reads; changes are made in the browser (PRODUCT.md "Who uses it").

A token may still call the few views that write nothing (the 1099-B comparison) or that only take its own
access away (revoking the token): such a view sets `token_may_write = True`.
"""

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.access import role_in


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

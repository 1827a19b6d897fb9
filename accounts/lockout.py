"""Login throttling with django-axes: wrong passwords and wrong second-factor codes count together.

Five failures for one username from one address (settings.AXES_FAILURE_LIMIT) lock that pair out for
15 minutes (AXES_COOLOFF_TIME); a completed login clears the count. The password step counts through
Django's `authenticate` (axes listens to `user_login_failed`); the code step and the password-or-code
confirmations on the security page count through `count_failure`. Each lockout is audited once, when
it starts.
"""

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.shortcuts import render

from accounts.mfa import has_second_factor
from harvester.audit import audit_record, client_ip


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, in front of ModelBackend.

    A call without a request is not an HTTP login attempt (Django's test client `login()`, a shell):
    there is no address to count it against, so it passes to the next backend unchecked instead of
    raising. Every view here that checks a password passes the request (LoginView through
    AuthenticationForm; the security pages through `count_failure`)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets (settings.AXES_LOCKOUT_CALLABLE, and the views' own checks). A
    session that was half-way through the login, or confirming a change, is ended too."""
    if request.user.is_authenticated:
        logout(request)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    response = render(request, "registration/locked_out.html", context, status=429)
    if getattr(request, "htmx", False):  # an htmx form (approve): the whole page, not the fragment it asked for
        response["HX-Retarget"], response["HX-Reswap"] = "body", "innerHTML"
    return response


def _credentials(user) -> dict:
    return {str(settings.AXES_USERNAME_FORM_FIELD): user.get_username()}


def is_locked_out(request, user) -> bool:
    """Whether `user` is locked out from this request's address."""
    return not AxesProxyHandler.is_allowed(request, _credentials(user))


def count_failure(request, user) -> bool:
    """Record a wrong code or password of a logged-in `user`; return True when it locked them out."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def clear_failures(request, user) -> None:
    """The login is complete: forget this address's earlier failures for the user."""
    AxesProxyHandler.reset_attempts(ip_address=client_ip(request), username=user.get_username())


@receiver(user_logged_in)
def clear_failures_after_password(sender, request, user, **kwargs):
    """A right password completes the login of a user without a second factor. With one, the count goes on
    until the code is right too: otherwise each right password would buy another round of code guesses."""
    if request is not None and not has_second_factor(user):
        clear_failures(request, user)


@receiver(user_locked_out)
def audit_lockout(sender, request, username, ip_address, **kwargs):
    """Audit a lockout when it starts (the attempt that reaches the limit), not every refused attempt.

    The username is recorded only when it is a real login: a password typed into the username field
    must not end up in the audit log."""
    failures = getattr(request, "axes_failures_since_start", None)
    if failures != settings.AXES_FAILURE_LIMIT:
        return
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: username or ""}).first()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    with transaction.atomic():
        audit_record(
            action="auth.lockout",
            obj=user,
            summary=f"{user.get_username() if user else 'An unknown username'}: login locked for {minutes} "
            f"minutes after {failures} wrong passwords or codes from one address",
            after={"step": "code" if request.user.is_authenticated else "password", "path": request.path[:200]},
            request=request,
        )

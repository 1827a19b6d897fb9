"""Two gates every session-authenticated request passes: the session is still alive, and it passed the
second factor when the user has one (or must have one). docs/security.md describes both."""

import time
from urllib.parse import urlparse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.db import connections, router
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect
from django_otp import middleware as otp_middleware
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from harvester.rawsql import columns

LOGIN_AT = "harvester_login_at"  # session keys: when the password was accepted, when last seen
SEEN_AT = "harvester_seen_at"
SEEN_RESOLUTION = 60  # seconds: "last seen" is written at most once a minute, not on every request


@receiver(user_logged_in)
def stamp_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[LOGIN_AT] = now
        request.session[SEEN_AT] = now


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _htmx_redirect_target(request, url: str) -> str:
    """Where an htmx request's page should go: `url`, coming back to the page (not the fragment)."""
    current = request.headers.get("HX-Current-URL", "")
    parsed = urlparse(current)
    back = parsed.path + (f"?{parsed.query}" if parsed.query else "") if parsed.path else "/"
    return redirect_to_login(back, url)["Location"]


class SessionExpiryMiddleware:
    """End a session 8 hours after login (SESSION_COOKIE_AGE) or after 30 idle minutes
    (SESSION_IDLE_TIMEOUT). Django's own expiry alone would do neither: the cookie's age restarts
    whenever the session is saved. The session is flushed server-side (logout), so the old cookie is
    worthless, and the request goes on as anonymous: a page asks to log in again, the API answers 403."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            login_at = request.session.setdefault(LOGIN_AT, now)
            seen_at = request.session.get(SEEN_AT, now)
            idle, age = now - seen_at, now - login_at
            if idle > settings.SESSION_IDLE_TIMEOUT or age > settings.SESSION_COOKIE_AGE:
                logout(request)
                reason = (f"{settings.SESSION_IDLE_TIMEOUT // 60} minutes without activity"
                          if idle > settings.SESSION_IDLE_TIMEOUT else f"{settings.SESSION_COOKIE_AGE // 3600} hours")
                messages.info(request, f"You were logged out after {reason}. Please log in again.")
                if getattr(request, "htmx", False):
                    return HttpResponseClientRedirect(_htmx_redirect_target(request, resolve_url(settings.LOGIN_URL)))
            elif idle >= SEEN_RESOLUTION or SEEN_AT not in request.session:
                request.session[SEEN_AT] = now
        return self.get_response(request)


# Views an unverified session may reach: logging in and out, the code page, and the calendar feed (its
# token is its authentication; a calendar app has no session). "enrol" adds the setup page.
OPEN_VIEWS = frozenset({"login", "logout", "mfa-verify", "calendar-feed"})
ENROL_VIEWS = frozenset({"mfa-setup"})


class SecondFactorMiddleware:
    """Keep an unverified session of a user who has a second factor on the code page, and one of a user
    who must have one (advisors, staff) on the setup page, before any other view runs. The session API
    answers such a session 403 JSON. API tokens are not sessions: request.user is anonymous here for
    them, and they pass."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        name = request.resolver_match.view_name if request.resolver_match else ""
        gate = mfa.second_factor_gate(user)
        if gate is None:
            return None
        request.second_factor_pending = True  # base.html shows only "Log out" in the navigation
        if name in OPEN_VIEWS or (gate == "enrol" and name in ENROL_VIEWS):
            return None
        if _is_api(request):
            detail = ("Enter the code from your authenticator app first (log in again in the browser)."
                      if gate == "verify" else "Set up two-factor sign-in in the browser first: it is required for your role.")
            return JsonResponse({"detail": detail, "code": "second_factor_required"}, status=403)
        url = resolve_url("mfa-verify" if gate == "verify" else "mfa-setup")
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(_htmx_redirect_target(request, url))
        return redirect_to_login(request.get_full_path() if request.method == "GET" else "/", url)


_TOTP_LABEL = TOTPDevice.model_label()
_TOTP_NAMES, _TOTP_SELECT = columns(TOTPDevice, "d", ("id", "user_id", "name", "confirmed"))  # the rest deferred


class OTPMiddleware(otp_middleware.OTPMiddleware):
    """django-otp's middleware (request.user.otp_device, is_verified()), reading the session's authenticator
    app with one plain query: every logged-in request makes it, and the ORM took longer to build it than
    the database took to answer. The columns the middleware checks are read (the device's user, whether
    it is confirmed); the others are deferred (reading one loads it). Other kinds of device go to
    django-otp's own lookup."""

    def _device_from_persistent_id(self, persistent_id: str):
        label, _, pk = self._normalize_persistent_id(persistent_id).partition("/")
        if label != _TOTP_LABEL or not pk.isdigit() or int(pk) >= 2**63:
            return super()._device_from_persistent_id(persistent_id)
        alias = router.db_for_read(TOTPDevice)
        with connections[alias].cursor() as cursor:
            cursor.execute(f"SELECT {_TOTP_SELECT} FROM {TOTPDevice._meta.db_table} d WHERE d.id = %s", [int(pk)])
            row = cursor.fetchone()
        return None if row is None else TOTPDevice.from_db(alias, _TOTP_NAMES, row)

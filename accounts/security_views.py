"""Account security pages: the code step of the login, the "Account security" page (authenticator,
backup codes, password), and the password change. Views parse, check, call one service in accounts/mfa.py,
render. Changing or removing a factor asks for the password or a current code first."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import mfa
from accounts.lockout import clear_failures, count_failure, is_locked_out, lockout_response
from harvester.audit import audit_record


def _next_url(request, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse(default)


def _wait_message(until) -> str:
    seconds = max(1, int((until - timezone.now()).total_seconds()) + 1) if until else 1
    return f"Too many wrong codes in a row: wait {seconds} second{'s' if seconds != 1 else ''} and try again."


# ---- the login's code step


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    """After the password: a code from the authenticator app, or a backup code."""
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    if user.is_verified():
        return HttpResponseRedirect(_next_url(request))
    gate = mfa.second_factor_gate(user)
    if gate != "verify":
        target = _next_url(request)
        return redirect(f"{reverse('mfa-setup')}?{urlencode({'next': target})}") if gate else redirect(target)
    error = None
    if request.method == "POST":
        if is_locked_out(request, user):
            return lockout_response(request)
        check = mfa.code_check(user, request.POST.get("code"))
        if check.device is not None:
            clear_failures(request, user)
            mfa.session_verify(request, check.device)
            return HttpResponseRedirect(_next_url(request))
        if check.wait_until is not None:
            error = _wait_message(check.wait_until)
        elif count_failure(request, user):
            return lockout_response(request)
        else:
            error = "That code is not right. Check that your phone's clock is set automatically, or use a backup code."
    return render(request, "registration/verify.html", {
        "error": error, "next": _next_url(request), "debug_hint": settings.DEBUG,
    }, status=400 if error else 200)


# ---- the account security page


def _confirm_identity(request) -> str | None:
    """Check the password or a current code typed into `confirm`. Returns an error to show, None when
    right, or "locked" when that was one wrong answer too many (the caller answers lockout_response)."""
    user = request.user
    if is_locked_out(request, user):
        return "locked"
    raw = request.POST.get("confirm", "")
    if raw and (user.check_password(raw) or (mfa.has_second_factor(user) and mfa.code_check(user, raw).device)):
        return None
    if count_failure(request, user):
        return "locked"
    return "That is not your password or a current code."


def _security_context(request, **extra):
    user = request.user
    return {
        "idle_minutes": settings.SESSION_IDLE_TIMEOUT // 60,
        "max_hours": round(settings.SESSION_COOKIE_AGE / 3600, 1),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "totp": mfa.totp_device(user),
        "backup_codes_left": mfa.backup_codes_left(user),
        "required": mfa.mfa_required(user),
        "events": mfa.recent_security_events(user),
        **extra,
    }


@never_cache
@login_required
def security(request):
    return render(request, "accounts/security.html", _security_context(request))


@sensitive_post_parameters("code", "confirm")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def totp_setup(request):
    """Set up (or replace) the authenticator: scan the QR code or type the secret, then confirm a code."""
    user = request.user
    device = mfa.totp_pending(user)
    replacing = mfa.has_second_factor(user)
    errors = {}
    if request.method == "POST":
        problem = _confirm_identity(request) if replacing else None
        if problem == "locked":
            return lockout_response(request)
        if problem:
            errors["confirm"] = problem
        else:
            codes = mfa.totp_confirm(request=request, device=device, code=request.POST.get("code", ""))
            if codes is None:
                errors["code"] = ("That code is not right. Enter the 6 digits the app shows now; if it keeps "
                                  "failing, check that your phone's clock is set automatically.")
            elif codes:
                return render(request, "accounts/backup_codes.html", {"codes": codes, "next": _next_url(request, "account-security")})
            else:
                messages.success(request, "Your new authenticator app is set up; the old one no longer works.")
                return HttpResponseRedirect(_next_url(request, "account-security"))
    return render(request, "accounts/totp_setup.html", {
        "device": device,
        "qr": mfa.totp_qr_svg(device),
        "secret": mfa.totp_secret_text(device),
        "replacing": replacing,
        "required": mfa.mfa_required(user),
        "errors": errors,
        "next": _next_url(request, "account-security"),
    }, status=400 if errors else 200)


@sensitive_post_parameters("confirm")
@never_cache
@login_required
@require_POST
def backup_codes(request):
    """New backup codes (the old ones stop working), shown once."""
    if not mfa.has_second_factor(request.user):
        return redirect("account-security")
    problem = _confirm_identity(request)
    if problem == "locked":
        return lockout_response(request)
    if problem:
        return render(request, "accounts/security.html", _security_context(request, codes_error=problem), status=400)
    codes = mfa.backup_codes_regenerate(request=request)
    return render(request, "accounts/backup_codes.html", {"codes": codes, "next": reverse("account-security")})


@sensitive_post_parameters("confirm")
@login_required
@require_POST
def mfa_disable(request):
    """Turn two-factor sign-in off. Not for advisors and staff: they must keep one (they can replace it)."""
    if mfa.mfa_required(request.user):
        messages.error(request, "Your role requires two-factor sign-in: you can replace the authenticator app, not turn it off.")
        return redirect("account-security")
    problem = _confirm_identity(request)
    if problem == "locked":
        return lockout_response(request)
    if problem:
        return render(request, "accounts/security.html", _security_context(request, disable_error=problem), status=400)
    mfa.mfa_disable(user=request.user, request=request, actor=request.user)
    messages.success(request, "Two-factor sign-in is off. Your password alone now logs you in.")
    return redirect("account-security")


# ---- password change


class CountingPasswordChangeForm(PasswordChangeForm):
    """A wrong current password counts towards the lockout, like a wrong password at the login."""

    def clean_old_password(self):
        try:
            return super().clean_old_password()
        except ValidationError:
            self.locked_out = count_failure(self.request, self.user)
            raise


class PasswordChange(auth_views.PasswordChangeView):
    """Django's password change: the session that changes it stays logged in (update_session_auth_hash);
    every other session of the user ends at its next request (its stored password hash no longer matches)."""

    form_class = CountingPasswordChangeForm
    success_url = reverse_lazy("account-security")

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and request.user.is_authenticated and is_locked_out(request, request.user):
            return lockout_response(request)
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.request = self.request
        return form

    def form_invalid(self, form):
        if getattr(form, "locked_out", False):
            return lockout_response(self.request)
        return super().form_invalid(form)

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(action="auth.password.change", actor=self.request.user, obj=self.request.user,
                         summary="Password changed; other sessions were logged out", request=self.request)
        clear_failures(self.request, self.request.user)
        messages.success(self.request, "Your password is changed. Other browsers where you were logged in are logged out.")
        return response

"""The second factor: a TOTP authenticator app, plus one-time backup codes (django-otp devices).

Who must have one: anyone who advises a household, and staff. Everyone else may turn it on. A session
whose user has a confirmed device is "verified" once a code from it was accepted (django-otp stores the
device in the session); accounts/middleware.py keeps unverified sessions on the code page.

Services change devices and write the audit event in the same transaction; the caller checks the
user's password or code first (security_views.py) where the change weakens or replaces a factor.
"""

import time
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime

import segno
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership
from harvester.audit import audit_record

BACKUP_CODE_COUNT = 10
TOTP_NAME = "Authenticator app"
BACKUP_NAME = "Backup codes"


def mfa_required(user) -> bool:
    """Whether this login must use a second factor: advisors of any household, and staff."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return Membership.objects.filter(user=user, role=Membership.Role.ADVISOR).exists()


def has_second_factor(user) -> bool:
    return user_has_device(user, confirmed=True)


def second_factor_gate(user) -> str | None:
    """What an authenticated but unverified session must do first: "verify" (enter a code), "enrol"
    (set up an authenticator: required and none yet), or None (nothing: no factor, none required)."""
    if has_second_factor(user):
        return "verify"
    if mfa_required(user):
        return "enrol"
    return None


def totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def totp_pending(user) -> TOTPDevice:
    """The authenticator being set up (unconfirmed): the same one until it is confirmed, so reloading the
    page does not change the secret the user may already have scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> SafeString:
    """The otpauth:// address as an inline SVG QR code (no external image, nothing for CSP to allow)."""
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=4, border=4, svgclass="qr", lineclass=None, dark="#000", light="#fff",
        title="QR code for your authenticator app",
    )
    return mark_safe(svg)  # noqa: S308 - segno writes only path data and the fixed title above


def normalize_code(raw: str | None) -> str:
    """What people type: spaces and dashes dropped, lower case (backup codes are lower-case base32)."""
    return "".join((raw or "").split()).replace("-", "").lower()


@dataclass(frozen=True)
class CodeCheck:
    device: object | None  # the device that accepted the code
    wait_until: datetime | None = None  # too many wrong codes in a row: the next try is refused until then


def code_check(user, raw: str | None) -> CodeCheck:
    """Check a code against the user's confirmed devices: a 6-digit code against the authenticator, any
    other against the backup codes (each accepted once). django-otp throttles each device: after n
    wrong codes in a row it refuses the next for 2^(n-1) seconds, whatever the code."""
    code = normalize_code(raw)
    if not code:
        return CodeCheck(None)
    model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        devices = [d for d in devices_for_user(user, confirmed=True, for_verify=True) if isinstance(d, model)]
        for device in devices:
            allowed, why = device.verify_is_allowed()
            if not allowed:
                return CodeCheck(None, (why or {}).get("locked_until"))
            if device.verify_token(code):
                return CodeCheck(device)
    return CodeCheck(None)


def session_verify(request, device) -> None:
    """Mark the session as having passed the second factor with `device`, under a new session key (the
    session gained a privilege: an id seen before it must not carry it)."""
    otp_login(request, device)
    request.session.cycle_key()


def _new_backup_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def totp_confirm(*, request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the authenticator being set up with a code from it. It replaces any earlier one, the session
    is verified with it, and new backup codes are made when the user had none. Returns the new backup
    codes (to show once), [] when the old ones stay, or None when the code is wrong."""
    user = request.user
    device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user, confirmed=False).first()
    if device is None or not device.verify_token(normalize_code(code)):
        return None
    replaced = TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk)
    had_one = replaced.exists()
    replaced.delete()  # sessions verified with the old one are unverified from their next request
    TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.name = TOTP_NAME
    device.save(update_fields=["confirmed", "name"])
    codes = [] if backup_codes_left(user) else _new_backup_codes(user)
    audit_record(
        action="auth.mfa.replace" if had_one else "auth.mfa.enable",
        actor=user,
        obj=user,
        summary="Authenticator app replaced" if had_one else "Two-factor sign-in turned on (authenticator app)",
        after={"backup_codes": len(codes) or backup_codes_left(user)},
        request=request,
    )
    session_verify(request, device)
    return codes


@transaction.atomic
def backup_codes_regenerate(*, request) -> list[str]:
    """New backup codes for the caller; the old ones stop working. Returns them (to show once)."""
    codes = _new_backup_codes(request.user)
    audit_record(
        action="auth.mfa.backup_codes",
        actor=request.user,
        obj=request.user,
        summary=f"New backup codes made ({len(codes)}); the old ones no longer work",
        request=request,
    )
    return codes


@transaction.atomic
def mfa_disable(*, user, request=None, actor=None, reason: str = "") -> bool:
    """Remove every second factor of `user` (authenticator and backup codes). Returns whether there was
    one. The caller decides whether that is allowed (an advisor is sent to set up a new one at once)."""
    had = has_second_factor(user)
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).delete()
    if had:
        audit_record(
            action="auth.mfa.disable",
            actor=actor,
            obj=user,
            summary=("Two-factor sign-in turned off" + (f": {reason}" if reason else ""))[:300],
            request=request,
        )
    return had


def totp_code_now(device: TOTPDevice, *, now: float | None = None) -> tuple[str, int]:
    """The code the device's app shows now, and for about how many seconds it stays valid. When this
    step's code was already accepted (each is accepted once), the next step's, which is accepted too.
    For the DEBUG-only `manage.py totp_code` and for tests; no view shows it."""
    now = time.time() if now is None else now
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = now
    left = device.step - int(now - device.t0) % device.step
    if totp.t() <= device.last_t:
        totp.time, left = now + device.step, left + device.step
    return str(totp.token()).zfill(device.digits), left


def demo_device(user) -> TOTPDevice:
    """The demo advisor's authenticator (accounts/demo.py): confirmed, with a random secret."""
    device = totp_device(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=True)  # a random key
    return device


def recent_security_events(user, limit: int = 10):
    """The latest audit events about this login (second factor, password, lockouts, logins, tokens)."""
    from harvester.models import AuditEvent

    return AuditEvent.objects.filter(object_type=user.__class__.__name__, object_id=str(user.pk),
                                     action__startswith="auth.")[:limit]


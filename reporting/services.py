"""Writes of the reporting app: a login's API token and calendar address (made, replaced, revoked; audited).

Both are authority, so every change writes an audit event ("auth.api_token.*", "auth.calendar_token.*")
in the same transaction; advisors see their members' "auth." events in the household audit trail.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from harvester.audit import audit_record
from reporting.models import CalendarToken


@dataclass(frozen=True)
class TokenStatus:
    exists: bool
    hint: str = ""
    created_at: datetime | None = None
    last_used_at: datetime | None = None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# ---- API token (DRF's Token: one per user, used as "Authorization: Token <key>", read-only)


def api_token_status(user) -> TokenStatus:
    token = Token.objects.filter(user=user).first()
    if token is None:
        return TokenStatus(False)
    return TokenStatus(True, token.key[-4:], token.created)


@transaction.atomic
def api_token_rotate(*, user, request=None) -> Token:
    """Replace the caller's API token with a new one (the old one stops working at once)."""
    had = Token.objects.filter(user=user).delete()[0] > 0
    token = Token.objects.create(user=user)
    audit_record(
        action="auth.api_token.rotate" if had else "auth.api_token.create", actor=user, obj=user,
        summary=f"API token {'replaced' if had else 'made'} (…{token.key[-4:]})", request=request,
    )
    return token


@transaction.atomic
def api_token_revoke(*, user, request=None) -> bool:
    """Delete the caller's API token. Returns whether there was one."""
    deleted = Token.objects.filter(user=user).delete()[0] > 0
    if deleted:
        audit_record(action="auth.api_token.revoke", actor=user, obj=user, summary="API token revoked", request=request)
    return deleted


# ---- calendar address


def calendar_token_status(user) -> TokenStatus:
    token = CalendarToken.objects.filter(user=user, revoked_at__isnull=True).first()
    if token is None:
        return TokenStatus(False)
    return TokenStatus(True, token.hint, token.created_at, token.last_used_at)


@transaction.atomic
def calendar_token_create(*, user, request=None) -> str:
    """Revoke the caller's calendar address, if any, and make a new one. Returns the secret (shown once)."""
    now = timezone.now()
    had = CalendarToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now) > 0
    key = secrets.token_urlsafe(32)
    CalendarToken.objects.create(user=user, key_hash=_hash(key), hint=key[-4:])
    audit_record(
        action="auth.calendar_token.rotate" if had else "auth.calendar_token.create", actor=user, obj=user,
        summary=f"Calendar address {'replaced' if had else 'made'} (…{key[-4:]})", request=request,
    )
    return key


@transaction.atomic
def calendar_token_revoke(*, user, request=None) -> bool:
    revoked = CalendarToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now()) > 0
    if revoked:
        audit_record(action="auth.calendar_token.revoke", actor=user, obj=user, summary="Calendar address revoked",
                     request=request)
    return revoked


def calendar_token_user(key: str):
    """The active user a calendar secret belongs to, or None (unknown, revoked, or the user is inactive).

    Records when it was last used, at most once an hour (a feed is polled often)."""
    if not key or len(key) > 128:
        return None
    token = (
        CalendarToken.objects.filter(key_hash=_hash(key), revoked_at__isnull=True, user__is_active=True)
        .select_related("user")
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 3600:
        CalendarToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user

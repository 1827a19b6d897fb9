"""The one way to write an audit event. Call it inside the transaction that makes the change."""

from typing import Any

from django.db import transaction

from harvester.models import AuditEvent


def client_ip(request) -> str | None:
    """The caller's address; X-Forwarded-For only counts behind a configured proxy (REMOTE_ADDR otherwise)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    actor=None,
    household=None,
    obj: Any = None,
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
    request=None,
) -> AuditEvent:
    """Append one audit event. Must run inside the caller's atomic block so change and record commit together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside transaction.atomic() with the change it records")
    return AuditEvent.objects.create(
        action=action,
        actor=actor if (actor is not None and actor.is_authenticated) else None,
        household=household,
        # __class__, not type(): request.user is a lazy proxy whose type() is SimpleLazyObject
        object_type=obj.__class__.__name__ if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        summary=summary[:300],
        before=before,
        after=after,
        ip=client_ip(request),
    )

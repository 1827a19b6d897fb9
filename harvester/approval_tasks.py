"""Celery tasks of the approval flow: expire past-due proposals, remind before expiry, send emails.

Each task takes ids, re-reads rows and claims its work (row lock or conditional UPDATE), so beat
overlaps, retries and parallel workers do every piece of work once. Registered by HarvesterConfig.ready()
(autodiscovery only finds tasks.py). The beat schedule is at the end of harvester/settings.py.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone

from harvester.models import HarvestProposal, Notification

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def proposals_expire_task() -> int:
    """Expire every open proposal whose expiry has passed (audited; approvers told). Returns how many."""
    from harvester.approvals import OPEN, proposal_expire

    now = timezone.now()
    due = HarvestProposal.objects.filter(status__in=OPEN, expires_at__lte=now).values_list("pk", flat=True)
    return sum(1 for pk in list(due) if proposal_expire(proposal_id=pk, now=now))


@shared_task(acks_late=True)
def proposals_remind_task() -> int:
    """Remind, once, the approvers of proposals that expire within 24 hours. Returns how many proposals."""
    from datetime import timedelta

    from harvester.approvals import proposal_remind

    now = timezone.now()
    soon = HarvestProposal.objects.filter(
        status=HarvestProposal.Status.AWAITING_APPROVAL,
        reminded_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + timedelta(hours=24),
    ).values_list("pk", flat=True)
    return sum(1 for pk in list(soon) if proposal_remind(proposal_id=pk, now=now))


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=60)
def notification_email_task(self, notification_id: int) -> bool:
    """Email one notification. Claims it (emailed_at NULL -> now) so it is sent once; on failure the
    claim is released and the task retries."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(pk=notification_id), Q(emailed_at__isnull=True), ~Q(user__email="")
    ).update(emailed_at=now)
    if claimed != 1:
        return False
    note = Notification.objects.select_related("user").get(pk=notification_id)
    try:
        send_mail(note.subject, note.body, settings.DEFAULT_FROM_EMAIL, [note.user.email])
    except Exception as exc:
        Notification.objects.filter(pk=notification_id, emailed_at=now).update(emailed_at=None)
        log.warning("email for notification %s failed: %s", notification_id, exc)
        raise self.retry(exc=exc) from exc
    return True

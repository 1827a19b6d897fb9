"""Review reminders: a daily Celery beat task tells each household's advisor, members and trustees that a
harvesting review (the policy's review_cadence, harvester.calendar) is coming up.

Each reminder is claimed by a unique (household, due date) row before anything is sent, so beat overlaps,
retries and parallel workers send it once. The notifications (in-app, and email after commit) go through
harvester.notifications.notify. Registered by ReportingConfig.ready(); scheduled at the end of settings.py.
"""

import logging
from datetime import date, timedelta

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

log = logging.getLogger(__name__)

REMINDED_ROLES = ("advisor", "member", "trustee")


@shared_task(acks_late=True)
def review_reminders_task() -> int:
    """Send the reminders of reviews due within REVIEW_REMINDER_DAYS_AHEAD days. Returns how many went out."""
    from accounts.models import Household

    today = timezone.localdate()
    ids = Household.objects.filter(policies__isnull=False).distinct().values_list("pk", flat=True)
    sent = 0
    for household_id in list(ids):
        try:
            sent += review_remind(household_id=household_id, today=today)
        except Exception:  # one household's failure must not stop the others; beat runs again tomorrow
            log.exception("review reminder failed for household %s", household_id)
    return sent


def review_remind(*, household_id: int, today: date) -> int:
    """Remind the household's people of each review due from today to today + the reminder horizon that
    has not been reminded yet. Idempotent: the ReviewReminder row is the claim."""
    from accounts.models import Household, Membership
    from harvester.calendar import review_dates
    from harvester.notifications import notify
    from reporting.models import ReviewReminder

    household = Household.objects.get(pk=household_id)
    ahead = getattr(settings, "REVIEW_REMINDER_DAYS_AHEAD", 7)
    sent = 0
    for due in review_dates(household, today, today + timedelta(days=ahead)):
        try:
            with transaction.atomic():
                claim = ReviewReminder.objects.create(household=household, due=due)
                users = [
                    m.user
                    for m in Membership.objects.filter(household=household, role__in=REMINDED_ROLES)
                    .select_related("user")
                    .order_by("user_id")
                    if m.user.is_active
                ]
                url = f"/households/{household.pk}/dashboard/"
                when = "today" if due == today else f"on {due:%A %d %B %Y}"
                notify(
                    users=users,
                    kind="review_due",
                    subject=f"Harvesting review due {when}: {household.name}"[:200],
                    body=(
                        f"The harvesting policy of {household.name} asks for a review {when}.\n\n"
                        "Look at what was realized and harvested this year, the tax projection, open proposals, "
                        "scheduled purchases that could wash a loss, and whether the policy's thresholds still fit.\n\n"
                        f"Dashboard: {getattr(settings, 'SITE_URL', '').rstrip('/')}{url}\n"
                    ),
                    household=household,
                    url=url,
                )
                claim.recipients = len(users)
                claim.save(update_fields=["recipients"])
        except IntegrityError:
            continue  # already reminded (by an earlier run or a parallel worker)
        sent += 1
    return sent

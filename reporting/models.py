"""Calendar feed tokens (one live token per user, revocable) and the review reminders already sent."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class CalendarToken(models.Model):
    """The secret in a user's iCalendar feed address. Only its SHA-256 is stored: the address is shown once,
    when it is made; revoking it (or making a new one) makes the old address answer 404."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_tokens")
    key_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 hex of the token.")
    hint = models.CharField(max_length=8, help_text="Last characters of the token, to recognise it.")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="calendar_token_one_live_per_user"
            ),
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "live"
        return f"calendar token …{self.hint} of {self.user} ({state})"


class ReviewReminder(models.Model):
    """A review reminder that went out: the unique constraint is the claim, so a reminder goes out once."""

    household = models.ForeignKey("accounts.Household", on_delete=models.CASCADE, related_name="review_reminders")
    due = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-due", "-id"]
        constraints = [models.UniqueConstraint(fields=["household", "due"], name="review_reminder_once")]

    def __str__(self) -> str:
        return f"review reminder {self.household_id} {self.due}"

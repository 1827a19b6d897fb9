"""Remove a login's second factor (authenticator and backup codes) when they lost both: audited. An
advisor or staff member is asked to set up a new one at their next login."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import mfa


class Command(BaseCommand):
    help = "Remove USERNAME's second factor (lost phone and backup codes). Audited as auth.mfa.disable."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", default="", help="recorded in the audit event, e.g. a ticket number")

    def handle(self, *args, username, reason, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No login named {username!r}.")
        if not mfa.mfa_disable(user=user, reason=f"reset by an administrator (manage.py mfa_reset) {reason}".strip()):
            self.stdout.write(f"{username} had no second factor.")
            return
        required = " They must set up a new one at their next login." if mfa.mfa_required(user) else ""
        self.stdout.write(f"{username}'s second factor is removed.{required}")

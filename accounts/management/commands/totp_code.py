"""Print the current TOTP code of a login's authenticator: the demo advisor's second factor on a laptop.

Refuses to run unless DEBUG is on: in production it would hand anyone who can run manage.py every
login's second factor."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import mfa


class Command(BaseCommand):
    help = "Development only (DEBUG=1): print the current code of USERNAME's authenticator app."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--key", action="store_true", help="print the secret key and otpauth:// address instead")

    def handle(self, *args, username, key, **options):
        if not settings.DEBUG:
            raise CommandError("totp_code runs only with DEBUG=1 (development): it would defeat the second factor.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No login named {username!r}.")
        device = mfa.totp_device(user)
        if device is None:
            raise CommandError(f"{username} has no authenticator set up.")
        if key:
            self.stdout.write(f"key: {mfa.totp_secret_text(device)}\n{device.config_url}")
            return
        code, left = mfa.totp_code_now(device)
        self.stdout.write(f"{code}  (valid for about {left} more seconds; each code logs in once)")

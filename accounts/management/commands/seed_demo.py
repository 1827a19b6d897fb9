from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.demo import DEMO_USERS, demo_seed


class Command(BaseCommand):
    help = "Create the demo advisor, three households, two years of trades and synthetic prices (idempotent)."

    def handle(self, *args, **options):
        result = demo_seed(today=timezone.localdate())
        created = ", ".join(result["created"]) or "nothing new (demo already present)"
        self.stdout.write(f"Demo households created: {created}")
        self.stdout.write(f"Demo logins (password for all: {result['password']}):")
        roles = {
            "advisor": "advisor of all three households",
            "alex": "Morgan household member (spouse), trustee of the family trust",
            "jordan": "Morgan household member (spouse)",
            "taylor": "trustee of the Morgan Family Trust",
            "reporter": "read-only reporter of the Morgan household",
            "chen": "member of the Chen household only",
            "patel": "member of the Patel household only",
        }
        for username, first, last in DEMO_USERS:
            self.stdout.write(f"  {username:<9} {first} {last}: {roles[username]}")
        self.stdout.write(f"Reporter API token: {result['token']}  (curl -H 'Authorization: Token …' /api/households/)")
        self.stdout.write(
            "The advisor logs in with a second factor (advisors must). For the code the login asks for, run\n"
            "  DEBUG=1 .venv/bin/python manage.py totp_code advisor\n"
            "(development only), or add the advisor's key to an authenticator app: DEBUG=1 .venv/bin/python "
            "manage.py totp_code advisor --key"
        )

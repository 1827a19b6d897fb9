"""Sign a test client in as a user, past the second factor when the user has (or must have) one.

`client.force_login(user)` alone leaves an advisor unverified, and the MFA middleware sends unverified
advisors to the second-factor page. `sign_in` does what a real TOTP login does: it logs the user in and
records, in the session, the confirmed TOTP device the code came from (django-otp's `otp_login`).
"""

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def totp_device(user) -> TOTPDevice:
    """The user's confirmed TOTP device, created when they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return device


def sign_in(client, user, *, verified: bool = True):
    """Log `client` in as `user`; with `verified`, as having passed the TOTP step."""
    client.force_login(user)
    if verified:
        session = client.session
        assert session[SESSION_KEY] == str(user.pk)
        assert session[BACKEND_SESSION_KEY] and session[HASH_SESSION_KEY]
        session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
        session.save()
    return client


def totp_code(user_or_device) -> str:
    """A code the user's confirmed authenticator accepts now (the next step's when this one was used)."""
    from accounts.mfa import totp_code_now

    device = user_or_device if isinstance(user_or_device, TOTPDevice) else totp_device(user_or_device)
    device.refresh_from_db()
    return totp_code_now(device)[0]

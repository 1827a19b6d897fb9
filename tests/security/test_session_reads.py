"""The session store and the second-factor middleware read their rows in plain SQL (accounts/sessions.py,
accounts.middleware.OTPMiddleware): they must read what Django's and django-otp's own lookups read."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import OTPMiddleware
from accounts.sessions import SessionStore
from tests.signin import sign_in, totp_device

pytestmark = pytest.mark.django_db


def test_a_session_reads_as_djangos_store_reads_it(world):
    store = SessionStore()
    store["answer"] = 42
    store.create()
    assert SessionStore(store.session_key).load() == django_db.SessionStore(store.session_key).load() == {"answer": 42}


@pytest.mark.parametrize("key", ["not-a-session-key-at-all", "short", None])
def test_an_unknown_key_reads_as_no_session(key):
    store = SessionStore(key)
    assert store.load() == {} and store.session_key is None


def test_an_expired_session_is_not_read(world, client):
    sign_in(client, world.alex)
    household = f"/households/{world.household.pk}/"
    assert client.get(household).status_code == 200
    Session.objects.filter(pk=client.session.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert SessionStore(client.cookies["sessionid"].value).load() == {}
    response = client.get(household)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def device_of(persistent_id):
    return OTPMiddleware(lambda request: None)._device_from_persistent_id(persistent_id)


def test_the_device_is_read_as_django_otp_reads_it(world):
    device = totp_device(world.advisor)
    found = device_of(device.persistent_id)
    assert (found.pk, found.user_id, found.name, found.confirmed) == (device.pk, world.advisor.pk, device.name, True)
    assert found.key == device.key and found.step == device.step  # the other columns load when read
    assert device_of(f"otp_totp.totpdevice/{device.pk + 1000}") is None
    assert device_of("otp_totp.totpdevice/not-a-number") is None
    assert device_of(f"django_otp.plugins.otp_totp.models.TOTPDevice/{device.pk}").pk == device.pk  # legacy form


@pytest.mark.parametrize("case", ["verified", "unconfirmed", "someone else's"])
def test_only_the_users_own_confirmed_device_verifies_the_session(world, client, case):
    """An advisor must pass the second factor: a session naming a device that is not theirs, or not
    confirmed, is sent to the code page."""
    sign_in(client, world.advisor)
    if case != "verified":
        session = client.session
        other = totp_device(world.alex) if case == "someone else's" else TOTPDevice.objects.create(
            user=world.advisor, name="Not confirmed", confirmed=False)
        session[DEVICE_ID_SESSION_KEY] = other.persistent_id
        session.save()
    response = client.get(f"/households/{world.household.pk}/")
    if case == "verified":
        assert response.status_code == 200
    else:
        assert response.status_code == 302 and response["Location"].startswith("/login/verify/")

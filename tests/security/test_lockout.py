"""Login throttling (django-axes): five wrong passwords or codes for one username from one address lock
that pair out for 15 minutes, with a clear page, one audit event, and nothing else locked."""

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client

from harvester.models import AuditEvent
from tests.signin import sign_in, totp_code, totp_device

pytestmark = pytest.mark.django_db

T0 = "2026-11-20 15:00:00 +0000"


def attempt(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def lockouts():
    return AuditEvent.objects.filter(action="auth.lockout")


def test_five_wrong_passwords_lock_the_username_at_that_address_for_15_minutes(world, client):
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(4):
            response = attempt(client, "alex", "wrong")
            assert response.status_code == 200 and b"didn't match" in response.content
        locked = attempt(client, "alex", "wrong")
        assert locked.status_code == 429
        assert b"Login paused" in locked.content and b"paused for 15 minutes" in locked.content

        # now even the right password is refused, and nothing is logged in
        assert attempt(client, "alex", "pw-alex").status_code == 429
        assert "_auth_user_id" not in client.session
        # other usernames from this address, and this username from another address, are not locked
        assert attempt(client, "jordan", "pw-jordan").status_code == 302
        assert attempt(Client(REMOTE_ADDR="203.0.113.9"), "alex", "pw-alex").status_code == 302

        clock.shift(15 * 60 + 1)  # the refused attempt at T0 restarted the 15 minutes; they are over now
        assert attempt(Client(), "alex", "pw-alex").status_code == 302

    [event] = lockouts()
    assert event.ip == "127.0.0.1" and event.object_id == str(world.alex.pk)
    assert "login locked for 15 minutes after 5 wrong passwords or codes" in event.summary
    assert event.after["step"] == "password"


def test_a_right_password_clears_the_count_for_a_user_without_a_second_factor(world, client):
    for _ in range(4):
        attempt(client, "alex", "wrong")
    assert attempt(client, "alex", "pw-alex").status_code == 302
    assert not AccessAttempt.objects.filter(username="alex").exists()


def test_wrong_codes_count_with_wrong_passwords_and_the_lockout_ends_the_half_logged_in_session(world, client):
    device = totp_device(world.advisor)
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(2):
            attempt(client, "advisor", "wrong")
        assert attempt(client, "advisor", "pw-advisor").status_code == 302  # the count goes on: codes to come
        for _ in range(2):
            clock.shift(120)  # past django-otp's own growing wait between wrong codes
            assert client.post("/login/verify/", {"code": "000000"}).status_code == 400
        clock.shift(120)
        locked = client.post("/login/verify/", {"code": "000000"})
        assert locked.status_code == 429 and b"Login paused" in locked.content
        assert "_auth_user_id" not in client.session  # logged out
        assert client.get("/").status_code == 302
        assert attempt(client, "advisor", "pw-advisor").status_code == 429

        clock.shift(16 * 60)
        device.refresh_from_db()
        device.throttle_reset()
        fresh = Client()
        assert attempt(fresh, "advisor", "pw-advisor").status_code == 302
        assert fresh.post("/login/verify/", {"code": totp_code(device)}).status_code == 302
    assert not AccessAttempt.objects.filter(username="advisor").exists()  # the completed login cleared it
    [event] = lockouts()
    assert event.after["step"] == "code"


def test_wrong_confirmations_on_the_security_page_count_too(world, client):
    sign_in(client, world.alex)
    for _ in range(4):
        assert client.post("/account/security/backup-codes/", {"confirm": "guess"}).status_code == 400
    locked = client.post("/account/security/backup-codes/", {"confirm": "guess"})
    assert locked.status_code == 429
    assert client.get("/account/security/").status_code == 302  # the session is over
    assert lockouts().count() == 1


def test_a_wrong_current_password_on_the_password_change_counts_too(world, client):
    sign_in(client, world.alex)
    data = {"old_password": "guess", "new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"}
    for _ in range(4):
        assert client.post("/account/password/", data).status_code == 200
    assert client.post("/account/password/", data).status_code == 429
    world.alex.refresh_from_db()
    assert world.alex.check_password("pw-alex")


def test_the_test_clients_login_still_works_without_a_request(world, client):
    """Django's test client calls authenticate() without a request: no address to count it against."""
    assert client.login(username="alex", password="pw-alex")
    assert not client.login(username="alex", password="wrong")

"""Two-factor sign-in: the login's code step, advisors who must have it, setting it up, backup codes,
turning it off, and the audit trail. The World's people: advisor (must have it), alex (a member, may)."""

import re
from base64 import b32decode

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts import mfa
from harvester.models import AuditEvent
from tests.signin import sign_in, totp_code, totp_device

pytestmark = pytest.mark.django_db


def login(client, user, next_url=""):
    return client.post("/login/" + (f"?next={next_url}" if next_url else ""),
                       {"username": user.username, "password": "pw-" + user.username})


def pending_code(client) -> str:
    """The code of the authenticator the setup page shows, computed from the secret on the page."""
    page = client.get("/account/security/authenticator/").content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    device = TOTPDevice.objects.get(confirmed=False, key=b32decode(secret.replace(" ", "")).hex())
    return mfa.totp_code_now(device)[0]


def audit_actions(user):
    events = AuditEvent.objects.filter(object_type="User", object_id=str(user.pk), action__startswith="auth.mfa")
    return list(events.values_list("action", flat=True))


# ---- who must have a second factor


def test_it_requires_a_second_factor_of_advisors_and_staff_only(world, django_user_model):
    assert mfa.mfa_required(world.advisor)
    assert not mfa.mfa_required(world.alex) and not mfa.mfa_required(world.reporter)
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    assert mfa.mfa_required(staff)


def test_an_advisor_without_an_authenticator_is_sent_to_set_one_up_before_anything_else(world, client):
    response = login(client, world.advisor)
    assert response.status_code == 302
    page = client.get(f"/households/{world.household.pk}/")
    assert page.status_code == 302 and page["Location"].startswith("/account/security/authenticator/?next=")
    setup = client.get(page["Location"])
    assert setup.status_code == 200 and b"Your role (advisor or staff) requires a second factor" in setup.content
    # the rest of the site stays closed: other pages, the security page, the session API
    assert client.get("/account/security/").status_code == 302
    api = client.get("/api/households/")
    assert api.status_code == 403 and api.json()["code"] == "second_factor_required"


def test_a_member_without_an_authenticator_logs_in_with_the_password_alone(world, client):
    login(client, world.alex)
    assert client.get(f"/households/{world.household.pk}/").status_code == 200


# ---- the login's code step


def test_a_user_with_an_authenticator_enters_a_code_after_the_password(world, client):
    device = totp_device(world.alex)
    response = login(client, world.alex, next_url=f"/households/{world.household.pk}/")
    page = client.get(response["Location"])
    assert page.status_code == 302 and page["Location"].startswith("/login/verify/")
    assert client.get(page["Location"]).status_code == 200
    # before the code: no page and no session API
    assert client.get("/api/households/").status_code == 403
    assert client.get("/account/security/").status_code == 302

    wrong = client.post("/login/verify/", {"code": "000000", "next": f"/households/{world.household.pk}/"})
    assert wrong.status_code == 400 and b"That code is not right" in wrong.content

    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # skip django-otp's 1 s wait
    session_before = client.cookies["sessionid"].value
    right = client.post("/login/verify/", {"code": totp_code(device), "next": f"/households/{world.household.pk}/"})
    assert right.status_code == 302 and right["Location"] == f"/households/{world.household.pk}/"
    assert client.cookies["sessionid"].value != session_before  # a new session id once verified
    assert client.get(f"/households/{world.household.pk}/").status_code == 200
    assert client.get("/api/households/").status_code == 200


def test_a_code_is_accepted_once(world, client):
    device = totp_device(world.alex)
    code = totp_code(device)
    login(client, world.alex)
    assert client.post("/login/verify/", {"code": code}).status_code == 302
    other = Client()
    login(other, world.alex)
    assert other.post("/login/verify/", {"code": code}).status_code == 400


def test_a_backup_code_logs_in_once(world, client):
    sign_in(client, world.alex)
    client.post("/account/security/backup-codes/", {"confirm": "pw-alex"})
    code = StaticToken.objects.filter(device__user=world.alex).first().token

    browser = Client()
    login(browser, world.alex)
    assert browser.post("/login/verify/", {"code": code.upper()[:4] + " " + code.upper()[4:]}).status_code == 302
    again = Client()
    login(again, world.alex)
    assert again.post("/login/verify/", {"code": code}).status_code == 400
    assert mfa.backup_codes_left(world.alex) == mfa.BACKUP_CODE_COUNT - 1


def test_wrong_codes_in_a_row_are_throttled_by_django_otp(world, client):
    device = totp_device(world.alex)
    login(client, world.alex)
    with time_machine.travel("2026-11-20 12:00:00 +0000", tick=False) as clock:
        assert client.post("/login/verify/", {"code": "000000"}).status_code == 400
        throttled = client.post("/login/verify/", {"code": mfa.totp_code_now(device)[0]})
        # the right code is refused too while the device waits: a guesser learns nothing from it
        assert throttled.status_code == 400 and b"Too many wrong codes in a row" in throttled.content
        clock.shift(2)
        assert client.post("/login/verify/", {"code": mfa.totp_code_now(device)[0]}).status_code == 302


def test_the_session_api_refuses_an_unverified_advisor_but_an_api_token_works(world, client):
    totp_device(world.advisor)
    sign_in(client, world.advisor, verified=False)
    response = client.get("/api/households/")
    assert response.status_code == 403
    assert response.json() == {"detail": response.json()["detail"], "code": "second_factor_required"}
    assert "code from your authenticator" in response.json()["detail"]

    token = Token.objects.create(user=world.advisor)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/households/").status_code == 200


def test_an_htmx_request_of_an_unverified_session_redirects_the_whole_page(world, client):
    totp_device(world.advisor)
    sign_in(client, world.advisor, verified=False)
    url = f"/households/{world.household.pk}/scan/"
    response = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver/households/{world.household.pk}/")
    assert response["HX-Redirect"] == f"/login/verify/?next=/households/{world.household.pk}/"


def test_the_calendar_feed_and_logout_stay_open_to_an_unverified_session(world, client):
    totp_device(world.advisor)
    sign_in(client, world.advisor, verified=False)
    assert client.get("/calendar/not-a-token.ics").status_code == 404  # the view answered, not the gate
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302 and client.get("/")["Location"].startswith("/login/")


# ---- setting it up


def test_an_advisor_sets_up_an_authenticator_and_gets_backup_codes_once(world, client):
    login(client, world.advisor)
    page = client.get("/account/security/authenticator/")
    html = page.content.decode()
    assert '<svg width="' in html and 'class="qr"' in html and "QR code for your authenticator app" in html
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1)
    assert len(secret.replace(" ", "")) == 32
    assert client.get("/account/security/authenticator/").content.decode().count(secret) == 1  # same secret on reload

    wrong = client.post("/account/security/authenticator/", {"code": "123456"})
    assert wrong.status_code == 400 and b"That code is not right" in wrong.content
    TOTPDevice.objects.filter(user=world.advisor).update(throttling_failure_count=0)

    done = client.post("/account/security/authenticator/", {"code": pending_code(client), "next": "/"})
    assert done.status_code == 200 and b"Your backup codes" in done.content
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", done.content.decode())
    assert len(codes) == mfa.BACKUP_CODE_COUNT
    assert set(codes) == set(StaticToken.objects.filter(device__user=world.advisor).values_list("token", flat=True))
    assert TOTPDevice.objects.get(user=world.advisor).confirmed
    # this session is verified with the new device: the site is open
    assert client.get(f"/households/{world.household.pk}/").status_code == 200
    security = client.get("/account/security/").content.decode()
    assert 'data-enabled="yes"' in security and codes[0] not in security  # shown once
    assert audit_actions(world.advisor) == ["auth.mfa.enable"]


def test_a_member_turns_it_on_and_off_with_their_password(world, client):
    sign_in(client, world.alex, verified=False)
    assert b'data-enabled="no"' in client.get("/account/security/").content
    client.post("/account/security/authenticator/", {"code": pending_code(client)})
    assert mfa.has_second_factor(world.alex)

    refused = client.post("/account/security/disable/", {"confirm": "not-my-password"})
    assert refused.status_code == 400 and b"not your password or a current code" in refused.content
    assert mfa.has_second_factor(world.alex)
    assert client.post("/account/security/disable/", {"confirm": "pw-alex"}).status_code == 302
    assert not mfa.has_second_factor(world.alex)
    assert not StaticDevice.objects.filter(user=world.alex).exists()
    assert audit_actions(world.alex) == ["auth.mfa.disable", "auth.mfa.enable"]
    event = AuditEvent.objects.get(action="auth.mfa.disable")
    assert event.actor == world.alex and event.ip == "127.0.0.1"


def test_an_advisor_cannot_turn_it_off(world, client):
    sign_in(client, world.advisor)
    response = client.post("/account/security/disable/", {"confirm": "pw-advisor"}, follow=True)
    assert b"Your role requires two-factor sign-in" in response.content
    assert mfa.has_second_factor(world.advisor)
    assert b'id="disable-form"' not in client.get("/account/security/").content


def test_replacing_the_authenticator_needs_the_password_or_a_code_and_unverifies_other_sessions(world, client):
    old = totp_device(world.advisor)
    sign_in(client, world.advisor)
    elsewhere = sign_in(Client(), world.advisor)
    code = pending_code(client)
    refused = client.post("/account/security/authenticator/", {"code": code, "confirm": "wrong"})
    assert refused.status_code == 400 and b"not your password or a current code" in refused.content
    assert TOTPDevice.objects.filter(pk=old.pk).exists()

    TOTPDevice.objects.filter(user=world.advisor, confirmed=False).update(throttling_failure_count=0)
    replaced = client.post("/account/security/authenticator/", {"code": pending_code(client), "confirm": totp_code(old)})
    assert replaced.status_code == 200 and b"Your backup codes" in replaced.content  # they had none yet
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert TOTPDevice.objects.filter(user=world.advisor, confirmed=True).count() == 1
    assert client.get(f"/households/{world.household.pk}/").status_code == 200
    assert elsewhere.get(f"/households/{world.household.pk}/")["Location"].startswith("/login/verify/")
    assert "auth.mfa.replace" in audit_actions(world.advisor)


def test_new_backup_codes_replace_the_old_ones(world, client):
    sign_in(client, world.alex)
    first = client.post("/account/security/backup-codes/", {"confirm": "pw-alex"})
    old = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", first.content.decode())
    assert client.post("/account/security/backup-codes/", {"confirm": "nope"}).status_code == 400
    second = client.post("/account/security/backup-codes/", {"confirm": "pw-alex"})
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", second.content.decode())
    assert len(new) == 10 and not set(old) & set(new)
    assert not StaticToken.objects.filter(token__in=old).exists()
    assert audit_actions(world.alex).count("auth.mfa.backup_codes") == 2
    assert "no-store" in second["Cache-Control"]  # the codes must not sit in a cache


def test_the_security_page_lists_the_users_own_security_events(world, client):
    sign_in(client, world.alex)
    assert client.post("/account/security/backup-codes/", {"confirm": "pw-alex"}).status_code == 200
    page = client.get("/account/security/").content.decode()
    assert 'data-action="auth.mfa.backup_codes"' in page


# ---- commands


def test_totp_code_refuses_without_debug(world, settings):
    totp_device(world.advisor)
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG=1"):
        call_command("totp_code", "advisor")


def test_totp_code_prints_a_code_the_login_accepts_with_debug(world, settings, capsys, client):
    device = totp_device(world.advisor)
    settings.DEBUG = True
    call_command("totp_code", "advisor")
    code = capsys.readouterr().out.split()[0]
    login(client, world.advisor)
    assert client.post("/login/verify/", {"code": code}).status_code == 302
    assert client.session["otp_device_id"] == device.persistent_id


def test_mfa_reset_removes_the_factor_and_the_advisor_must_set_up_a_new_one(world, client):
    totp_device(world.advisor)
    call_command("mfa_reset", "advisor", "--reason", "ticket 42")
    assert not mfa.has_second_factor(world.advisor)
    event = AuditEvent.objects.get(action="auth.mfa.disable")
    assert event.actor is None and "ticket 42" in event.summary
    login(client, world.advisor)
    assert client.get("/")["Location"].startswith("/account/security/authenticator/")


def test_a_half_logged_in_page_shows_no_navigation_but_log_out(world, client):
    totp_device(world.advisor)
    sign_in(client, world.advisor, verified=False)
    page = client.get("/login/verify/").content.decode()
    assert "Log out" in page and 'href="/dashboard/"' not in page and "Inbox" not in page
    sign_in(client, world.advisor)
    assert 'href="/dashboard/"' in client.get("/").content.decode()

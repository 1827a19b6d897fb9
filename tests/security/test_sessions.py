"""Sessions: logout really ends them (an old cookie is worthless), a password change ends the user's other
sessions but not the current one, and sessions expire after 30 idle minutes or 8 hours in any case."""

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from tests.signin import sign_in

pytestmark = pytest.mark.django_db

T0 = "2026-11-20 15:00:00 +0000"


def household_page(world):
    return f"/households/{world.household.pk}/"


def test_logout_deletes_the_session_so_a_replayed_cookie_is_refused(world, client):
    sign_in(client, world.advisor)
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get(household_page(world)).status_code == 200
    assert client.post("/logout/").status_code == 302
    assert not Session.objects.filter(session_key=stolen).exists()

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen
    response = replay.get(household_page(world))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert replay.get("/api/households/").status_code in (401, 403)


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(world, client):
    laptop = sign_in(client, world.alex)
    phone = sign_in(Client(), world.alex)
    assert phone.get(household_page(world)).status_code == 200

    response = laptop.post("/account/password/", {
        "old_password": "pw-alex", "new_password1": "copper-kettle-harbor-51", "new_password2": "copper-kettle-harbor-51",
    })
    assert response.status_code == 302 and response["Location"] == "/account/security/"
    assert laptop.get(household_page(world)).status_code == 200  # still logged in, still verified
    gone = phone.get(household_page(world))
    assert gone.status_code == 302 and gone["Location"].startswith("/login/")
    assert Client().login(username="alex", password="copper-kettle-harbor-51")
    assert laptop.get("/account/security/").content.count(b'data-action="auth.password.change"') == 1


def test_a_password_change_checks_the_new_password(world, client):
    sign_in(client, world.alex)
    response = client.post("/account/password/", {"old_password": "pw-alex", "new_password1": "12345678",
                                                  "new_password2": "12345678"})
    assert response.status_code == 200 and b"too common" in response.content


def test_a_session_ends_after_30_idle_minutes(world, client):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, world.alex)
        assert client.get(household_page(world)).status_code == 200
        clock.shift(29 * 60)
        assert client.get(household_page(world)).status_code == 200  # activity moves the idle clock
        clock.shift(29 * 60)
        assert client.get(household_page(world)).status_code == 200
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        clock.shift(31 * 60)
        response = client.get(household_page(world))
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
        assert not Session.objects.filter(session_key=key).exists()
        page = client.get(response["Location"])
        assert b"You were logged out after 30 minutes without activity" in page.content


def test_a_session_ends_8_hours_after_login_however_active(world, client):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, world.alex)
        for _ in range(16):
            clock.shift(29 * 60)
            assert client.get(household_page(world)).status_code == 200
        clock.shift(20 * 60)  # 8 h 4 min after login
        assert client.get(household_page(world)).status_code == 302


def test_an_expired_htmx_request_sends_the_whole_page_to_the_login(world, client):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, world.alex)
        client.get(household_page(world))
        clock.shift(31 * 60)
        response = client.get(f"/households/{world.household.pk}/scan/", HTTP_HX_REQUEST="true",
                              HTTP_HX_CURRENT_URL=f"http://testserver{household_page(world)}")
        assert response["HX-Redirect"] == f"/login/?next={household_page(world)}"


def test_the_session_api_expires_too(world, client):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, world.alex)
        assert client.get("/api/households/").status_code == 200
        clock.shift(31 * 60)
        assert client.get("/api/households/").status_code in (401, 403)

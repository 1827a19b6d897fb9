"""Response headers, and production settings that pass `manage.py check --deploy` with no extra variable."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from harvester.headers import CONTENT_SECURITY_POLICY
from tests.signin import sign_in

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_every_page_carries_the_security_headers(client):
    response = client.get("/login/")
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    csp = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_a_logged_in_page_is_not_stored_by_caches(world, client):
    sign_in(client, world.alex)
    assert client.get(f"/households/{world.household.pk}/")["Cache-Control"] == "no-store"


def test_the_api_keeps_the_strict_policy_and_the_browsable_api_may_use_inline_styles(world, client):
    sign_in(client, world.alex)
    assert client.get("/api/households/")["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    browsable = client.get("/api/households/", HTTP_ACCEPT="text/html")
    policy = browsable["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self';" in policy
    assert policy.replace(" 'unsafe-inline'", "") == CONTENT_SECURITY_POLICY


def test_no_template_has_inline_script_style_or_event_handlers():
    """What the CSP would block: an inline <script> (not JSON data), a <style> element, a style="" or
    on*="" attribute, a javascript: URL."""
    import re

    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")", r"<style\b", r"\sstyle=",
                        r"\son[a-z]+=", r"javascript:", r"hx-on"):
            if re.search(pattern, text, flags=re.I):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert offenders == []


def test_charts_size_themselves_without_a_style_attribute():
    from decimal import Decimal

    from harvester.svg import Series, bar_chart

    svg = bar_chart(chart_id="c", title="t", description="d", categories=["2025"],
                    series=[Series("Short-term", "solid", [Decimal("-5")])])
    assert " style=" not in svg and 'class="chart"' in svg and ' width="' in svg


# ---- production settings, in a fresh interpreter (the test suite itself runs with TESTING relaxations)


def production_env(**overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "SECURE_", "SESSION_",
                                                                     "CSRF_", "BEHIND_TLS_PROXY"))}
    env.pop("HARVESTER_TESTING", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the test suite's, for Playwright; check --deploy refuses it
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="harvester.example.com",
               DJANGO_SETTINGS_MODULE="harvester.settings", **overrides)
    return env


def run(args, env, tmp_path):
    env = {**env, "SQLITE_PATH": str(tmp_path / "prod.sqlite3")}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_passes_with_production_defaults(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_a_safeguard_is_turned_off(tmp_path):
    """The test above is not vacuous: the same check reports a production setting that was weakened."""
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                 production_env(SECURE_HSTS_SECONDS="0"), tmp_path)
    assert result.returncode != 0 and "security.W004" in result.stderr


PROBE = """
import django; django.setup()
from django.conf import settings as s
from django.test import Client
print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME)
print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)
c = Client(HTTP_HOST="harvester.example.com")
url = "/no-such-page/"  # an answer that needs no database and no collected static files
plain = c.get(url)
print(plain.status_code, plain.get("Location"))
tls = c.get(url, secure=True)
print(tls.status_code, tls["Strict-Transport-Security"])
proxied = c.get(url, HTTP_X_FORWARDED_PROTO="https")
print(proxied.status_code)
"""


def test_production_is_https_only_without_any_variable(tmp_path):
    result = run(["-c", PROBE], production_env(), tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "True True __Host-sessionid __Host-csrftoken"
    assert lines[1] == "True 31536000 True False"
    assert lines[2] == "301 https://harvester.example.com/no-such-page/"
    assert lines[3] == "404 max-age=31536000; includeSubDomains"
    assert lines[4] == "301"  # X-Forwarded-Proto counts only behind a configured proxy


def test_behind_a_tls_proxy_its_forwarded_proto_is_trusted(tmp_path):
    result = run(["-c", PROBE], production_env(BEHIND_TLS_PROXY="1"), tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[4] == "404"

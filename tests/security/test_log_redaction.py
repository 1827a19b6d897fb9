"""No passwords, tokens, session ids or TOTP codes in the logs: drive the flows that carry them, capture
every log record at DEBUG (Django's request logger and django-axes included), and look for each secret."""

import logging
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token

from harvester.logredact import MASK, RedactSecretsFilter, redact
from reporting import services as reporting
from tests.signin import totp_code, totp_device

SECRET_PASSWORD = "Hunter2-correct-horse"


def record_texts(record: logging.LogRecord) -> list[str]:
    """Everything a handler could write from a record: the message, the traceback, the stack, and every
    other string or number attribute (extra= values included)."""
    texts = [record.getMessage(), record.exc_text or "", record.stack_info or ""]
    if record.exc_info and record.exc_info[1] is not None:
        texts.append(str(record.exc_info[1]))
    texts += [str(v) for v in vars(record).values() if isinstance(v, str | int | float | tuple | list | dict)]
    return texts


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("django", "django.request", "django.security", "axes"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.mark.django_db
def test_no_secret_reaches_a_log_record(world, all_logs):
    secrets = []
    world.advisor.set_password(SECRET_PASSWORD)
    world.advisor.save()
    secrets.append(SECRET_PASSWORD)
    device = totp_device(world.advisor)

    # a wrong password, then five to lock the username out (axes logs each failure, then the lockout)
    intruder = Client()
    for guess in ("Wrong-guess-1", "Wrong-guess-2", "Wrong-guess-3", "Wrong-guess-4", "Wrong-guess-5"):
        intruder.post("/login/", {"username": "alex", "password": guess})
        secrets.append(guess)

    # the advisor: right password, a wrong code, the right code, pages, logout
    browser = Client()
    browser.post("/login/", {"username": "advisor", "password": SECRET_PASSWORD})
    half_session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    secrets.append(half_session)
    browser.post("/login/verify/", {"code": "135791"})
    secrets.append("135791")
    device.throttle_reset()
    code = totp_code(device)
    browser.post("/login/verify/", {"code": code})
    secrets += [code, browser.cookies[settings.SESSION_COOKIE_NAME].value, browser.cookies[settings.CSRF_COOKIE_NAME].value]
    browser.get(f"/households/{world.household.pk}/")
    browser.get("/households/999999/")  # a 404 logged by django.request
    browser.post("/logout/")

    # API tokens: a good one, a wrong one (401, logged), in the header
    token = Token.objects.create(user=world.reporter).key
    secrets.append(token)
    Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/households/")
    wrong_token = "f" * 40
    secrets.append(wrong_token)
    Client(HTTP_AUTHORIZATION=f"Token {wrong_token}").get("/api/households/")

    # calendar addresses: the token is in the path; a live one, and unknown ones (403 anonymous, 404 logged in)
    feed = reporting.calendar_token_create(user=world.alex)
    secrets.append(feed)
    Client().get(f"/calendar/{feed}.ics")
    unknown = "not-a-live-calendar-token-0123456789abcdef"
    secrets.append(unknown)
    Client().get(f"/calendar/{unknown}.ics")
    member = Client()
    member.force_login(world.alex)
    member.get(f"/calendar/{unknown}.ics")

    # and code that logs carelessly: the filter is the last line of defence
    careless = logging.getLogger("harvester.careless")
    careless.warning("request headers %s", {"HTTP_AUTHORIZATION": f"Token {token}", "HTTP_COOKIE": f"sessionid={half_session}"})
    careless.info("login form %s", f"username=alex&password={SECRET_PASSWORD}&code={code}")
    try:
        raise ValueError(f"cannot read /calendar/{feed}.ics")
    except ValueError:
        careless.exception("feed failed")

    records = all_logs.records
    logged = {r.name for r in records}
    assert {"django.request", "axes.handlers.database", "harvester.careless"} <= logged, logged
    assert any("Not Found" in r.getMessage() for r in records if r.name == "django.request")
    assert any("/calendar/[redacted].ics" in r.getMessage() for r in records)
    leaks = [(r.name, secret) for r in records for text in record_texts(r) for secret in secrets if secret in text]
    assert leaks == []
    # and what the configured handler writes
    formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    written = "\n".join(formatter.format(r) for r in records)
    assert not [s for s in secrets if s in written]


@pytest.mark.parametrize(
    "text, kept",
    [
        ("GET /calendar/AbC-123_xyz.ics HTTP/1.1", "GET /calendar/[redacted].ics HTTP/1.1"),
        ("Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "Authorization: [redacted]"),
        ("{'HTTP_AUTHORIZATION': 'Bearer abc.def.ghi'}", "{'HTTP_AUTHORIZATION': '[redacted]'}"),
        ("Cookie: __Host-sessionid=k1x9; csrftoken=Zz9", "Cookie: __Host-sessionid=[redacted]; csrftoken=[redacted]"),
        ("username=alex&password=p%40ss&next=/", "username=alex&password=[redacted]&next=/"),
        ('{"password": "s3cret", "new_password1": "n"}', '{"password": "[redacted]", "new_password1": "[redacted]"}'),
        ('WHERE "authtoken_token"."key" = \'abc123\'', 'WHERE "authtoken_token"."key" = \'[redacted]\''),
        ("code=123456 accepted", "code=[redacted] accepted"),
        ("status_code=404 for /households/3/", "status_code=404 for /households/3/"),
        ("Not Found: /households/3/lots/", "Not Found: /households/3/lots/"),
    ],
)
def test_redact(text, kept):
    assert redact(text) == kept


def test_every_url_with_a_token_in_its_path_is_redacted():
    """A new route that carries a secret in its path must be added to harvester/logredact.py."""
    routes = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                routes.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns)
    secret_routes = [r for r in routes if re.search(r"<(?:\w+:)?\w*(token|secret|key)\w*>", r)]
    assert secret_routes, "expected the calendar feed"
    for route in secret_routes:
        path = "/" + re.sub(r"<[^>]+>", "S3CRET-value_123", route).lstrip("^").rstrip("$")
        assert "S3CRET" not in redact(f"Not Found: {path}"), route


def test_the_filter_is_installed_where_every_record_passes():
    root = logging.getLogger()
    assert any(isinstance(f, RedactSecretsFilter) for h in root.handlers for f in h.filters)
    for name in ("django", "django.server"):
        logger = logging.getLogger(name)
        assert logger.handlers == [] and logger.propagate, name
    assert MASK == "[redacted]"


def test_gunicorn_access_lines_are_redacted_too(capsys):
    """gunicorn.conf.py: its access log prints request paths, a calendar feed's secret among them."""
    import runpy

    from gunicorn.config import Config

    conf = runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("errorlog", "-")
    logger = conf["logger_class"](cfg)
    logger.access_log.info('%(h)s "%(r)s" %(s)s', {"h": "10.0.0.1", "r": "GET /calendar/Sup3r-secret_feed.ics HTTP/1.1", "s": "200"})
    logger.error("Bad request line: GET /calendar/Another-secret.ics")
    out = capsys.readouterr()
    printed = out.out + out.err
    assert "/calendar/[redacted].ics" in printed
    assert "Sup3r-secret_feed" not in printed and "Another-secret" not in printed

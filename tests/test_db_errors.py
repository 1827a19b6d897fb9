"""The database goes away: pages answer a short 503 page, the API a 503 JSON body, never a 500 traceback.

(scripts/faults proves the same against a real gunicorn and a real PostgreSQL restart.)
"""

import json

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path


def _view_loses_database(request):
    raise OperationalError("server closed the connection unexpectedly")


def _view_connection_closed(request):
    raise InterfaceError("connection already closed")


def _view_bug(request):
    raise ValueError("a bug, not the database")


def _view_ok(request):
    return HttpResponse("fine")


urlpatterns = [
    path("page/", _view_loses_database),
    path("closed/", _view_connection_closed),
    path("bug/", _view_bug),
    path("ok/", _view_ok),
    path("api/thing/", _view_loses_database),
]


class _MiddlewareLosesDatabase:
    """Like a session or user lookup in a middleware while PostgreSQL is down."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise OperationalError("connection refused")


MIDDLEWARE = ["harvester.db_errors.DatabaseUnavailableMiddleware"]
pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


@override_settings(MIDDLEWARE=MIDDLEWARE)
@pytest.mark.parametrize("url", ["/page/", "/closed/"])
def test_it_answers_a_page_with_a_short_503(client, url):
    response = client.get(url)
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "10"
    body = response.content.decode()
    assert "temporarily unavailable" in body and "try again" in body.lower()
    assert "Traceback" not in body and "connection" not in body


@override_settings(MIDDLEWARE=MIDDLEWARE)
def test_it_answers_the_api_with_its_error_body(client):
    response = client.post("/api/thing/", data={}, content_type="application/json")
    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "database_unavailable"
    assert json.loads(response.content)["detail"]


@override_settings(MIDDLEWARE=MIDDLEWARE)
def test_it_leaves_other_errors_and_good_answers_alone(client):
    assert client.get("/bug/").status_code == 500
    assert client.get("/ok/").content == b"fine"


@override_settings(MIDDLEWARE=[*MIDDLEWARE, "tests.test_db_errors._MiddlewareLosesDatabase"])
def test_it_also_covers_a_database_error_raised_in_a_middleware_inside_it(client):
    response = client.get("/ok/")
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()


def test_it_is_installed_outside_every_middleware_that_may_query_and_connections_are_health_checked():
    middleware = settings.MIDDLEWARE
    assert middleware.index("harvester.db_errors.DatabaseUnavailableMiddleware") == 1 + middleware.index(
        "django.middleware.security.SecurityMiddleware"
    )
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True

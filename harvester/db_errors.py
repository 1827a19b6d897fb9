"""A clean answer when the database is unavailable: 503 with a short message, never a 500 traceback.

PostgreSQL restarting (a failover, an upgrade, a crash) breaks the connections in use: the request that
was writing gets `OperationalError` or `InterfaceError`, its transaction is rolled back by PostgreSQL
(every write service here is one `transaction.atomic`, so nothing of it is kept), and the person should
be told to try again, not shown "Server Error (500)". Pages get `templates/503.html` (standalone: no
base template, no query, no static file); `/api/` gets the API's error body `{"detail", "code"}`.
Both carry `Retry-After`.

View and template errors arrive through `process_exception`. An error raised inside another middleware
(a session or user lookup there) has already been turned into a 500 response by Django before it
reaches us; `got_request_exception` marks the request, and `__call__` replaces that 500 with the 503.
It sits right after SecurityMiddleware (settings.py), so every other middleware is inside it: the
session, user and second-factor lookups, and harvester/headers.py, whose response phase asks whether the
user is logged in (a query, when nothing asked before). Its own answers carry a strict policy of their own.

With `CONN_HEALTH_CHECKS` (settings.py) the next request checks a reused connection first and opens a new
one when PostgreSQL is back, so the site recovers by itself. Runbook: docs/operations.md.
"""

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

log = logging.getLogger(__name__)

UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 10
MESSAGE = "The database is unavailable for a moment, so this request could not be completed. Please try again in a minute."
_MARK = "_harvester_database_unavailable"


def database_unavailable_response(request) -> HttpResponse:
    """503: JSON for the API, a short standalone page for everything else."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE, "code": "database_unavailable"}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": MESSAGE}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    return response


def _mark_request(sender, request=None, **kwargs) -> None:
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, UNAVAILABLE):
        setattr(request, _MARK, exc)


got_request_exception.connect(_mark_request, dispatch_uid="harvester.db_errors")


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        exc = getattr(request, _MARK, None)
        if exc is not None and response.status_code == 500:
            log.warning("database unavailable during %s %s (in a middleware): %s", request.method, request.path, exc)
            return database_unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if not isinstance(exception, UNAVAILABLE):
            return None
        log.warning("database unavailable during %s %s: %s", request.method, request.path, exception)
        return database_unavailable_response(request)

"""The reporting API against its own OpenAPI schema (schemathesis, in process, TOOLCHAIN.md section 5).

Every operation tagged "reporting" is called with generated parameters, as a reporting client would:
read-only token, the Morgans' household id in the path (so filters and pages run on real rows). Checks:
no 5xx, and every documented response matches its schema. The token endpoints are left out: a
generated DELETE would revoke the token the other examples use.
"""

from contextlib import contextmanager

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from harvester.wsgi import application

schema = (
    schemathesis.openapi.from_wsgi("/api/schema/", application)
    .include(tag="reporting")
    .exclude(path_regex=r"^/api/token/")
)


@contextmanager
def keep_db_connection():
    """Django's handler closes the connection after each request; inside a test transaction it must stay."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def reporter_token(history):
    from rest_framework.authtoken.models import Token

    return history, Token.objects.create(user=history.reporter).key


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_the_reporting_api_conforms_to_its_schema(case, reporter_token):
    world, key = reporter_token
    if case.path_parameters and "household_id" in case.path_parameters:
        case.path_parameters["household_id"] = world.household.pk
    with keep_db_connection():
        case.call_and_validate(
            headers={"Authorization": f"Token {key}"},
            checks=[not_a_server_error, response_schema_conformance],
        )

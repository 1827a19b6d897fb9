"""Every API operation, fuzzed by schemathesis from the OpenAPI schema, as the household's advisor.

tests/reporting/test_schema.py fuzzes the read-only reporting operations with a reporter's token. This
one covers the whole schema, writes included (imports, prices, scheduled purchases, scans, policy
acknowledgement, approvals, execution, comments), through the session an advisor gets in the browser:
a session cookie that passed the second factor plus the CSRF cookie and header. Path ids are the
household's real objects, so the generated bodies reach the services and their validation.

Checks: no 5xx, and every documented response matches its schema. The token endpoints are left out:
they belong to a token's owner (covered in tests/reporting), and a session cannot be fuzzed into them
without revoking the credentials other examples use.
"""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from harvester.wsgi import application
from tests.approvals.factories import acknowledged_policy, make_proposal
from tests.signin import sign_in

schema = schemathesis.openapi.from_wsgi("/api/schema/", application).exclude(path_regex=r"^/api/token/")


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
def advisor_session(world):
    """The Morgans with something behind every path id, and the advisor's verified browser session."""
    from django.conf import settings as django_settings

    from harvester.models import HarvestScan
    from lots.models import ImportBatch, ScheduledPurchase, Security

    acknowledged_policy(world)
    proposal = make_proposal(world, world.alex_ind)
    today = timezone.localdate()
    purchase = ScheduledPurchase.objects.create(
        account=world.jordan_ind, security=Security.objects.get(ticker="VTI"), kind="contribution",
        frequency="monthly", amount="500", start_date=today + timedelta(days=3),
    )
    scan = HarvestScan.objects.create(household=world.household, started_by=world.advisor, as_of=today)
    client = sign_in(Client(), world.advisor)
    with keep_db_connection():
        preview = client.post(
            f"/api/households/{world.household.pk}/imports/preview/",
            {"account": world.alex_ind.pk, "file": _generic_csv()},
        )
    assert preview.status_code == 201, preview.content
    batch = ImportBatch.objects.get(pk=preview.json()["id"])
    csrf = _get_new_csrf_string()
    cookies = {django_settings.SESSION_COOKIE_NAME: client.cookies[django_settings.SESSION_COOKIE_NAME].value,
               django_settings.CSRF_COOKIE_NAME: csrf}
    ids = {"household_id": world.household.pk, "proposal_id": proposal.pk, "batch_id": batch.pk,
           "purchase_id": purchase.pk, "scan_id": scan.pk}
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "X-CSRFToken": csrf,
               "Referer": "http://localhost/"}
    # The credentials must really reach the services: a write with them succeeds, one without is refused.
    with keep_db_connection():
        body = {"body": "Checked against the 1099-B."}
        path = f"/api/proposals/{proposal.pk}/comment/"
        assert Client().post(path, body, content_type="application/json").status_code in (401, 403)
        written = Client(HTTP_COOKIE=headers["Cookie"], HTTP_X_CSRFTOKEN=csrf).post(path, body, content_type="application/json")
        assert written.status_code == 201, written.content
    return ids, headers


def _generic_csv():
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    text = (Path(__file__).parent.parent / "importers" / "fixtures" / "generic_trades.csv").read_bytes()
    return SimpleUploadedFile("fuzz.csv", text, content_type="text/csv")


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_every_api_operation_conforms_to_its_schema_and_never_fails(case, advisor_session):
    ids, headers = advisor_session
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = ids[name]
    with keep_db_connection():
        case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

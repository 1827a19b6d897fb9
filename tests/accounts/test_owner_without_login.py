"""Pages that name people still render when there is nobody to name: an owner without a login, a scan
the daily schedule started (both were 500s: a template filter argument that does not resolve raises)."""

from datetime import date

import pytest

from accounts.models import Owner
from harvester.models import HarvestScan
from tests.signin import sign_in

pytestmark = pytest.mark.django_db


def test_the_household_page_says_an_owner_has_no_login(world, client):
    family = world.alex_owner.taxpayer_unit
    Owner.objects.create(household=world.household, name="Grandma", taxpayer_unit=family)
    response = sign_in(client, world.advisor).get(f"/households/{world.household.pk}/")
    assert response.status_code == 200
    assert "no login" in response.content.decode()


def test_the_scans_page_names_the_daily_schedule(world, client):
    HarvestScan.objects.create(household=world.household, started_by=None, as_of=date(2026, 11, 2), status="done")
    response = sign_in(client, world.advisor).get(f"/households/{world.household.pk}/scan/")
    assert response.status_code == 200
    assert "daily schedule" in response.content.decode()

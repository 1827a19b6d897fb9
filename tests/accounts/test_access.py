"""Access: a stranger to a household gets 404 for everything of it, on every page and API endpoint."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.signin import sign_in

pytestmark = pytest.mark.django_db


def household_urls(world):
    """Every URL pattern of the site that takes a household or account id, filled with the Morgans' ids."""
    from tests.approvals.factories import proposal_for_url_walk

    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if "admin" in str(p.pattern):
                    continue
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if "<" not in route:
                    continue
                url = route.replace("<int:household_id>", str(world.household.pk))
                url = url.replace("<int:account_id>", str(world.alex_ind.pk))
                url = url.replace("<int:lot_id>", "1")
                url = url.replace("<int:proposal_id>", str(proposal_for_url_walk(world).pk)) if "<int:proposal_id>" in url else url
                url = url.replace("<int:batch_id>", "1").replace("<int:purchase_id>", "1")
                url = url.replace("<int:scan_id>", "1")  # no scan of theirs exists: 404 (tests/scans cover real ones)
                url = url.replace("<str:token>", "not-a-live-token")
                assert "<" not in url, f"test does not know how to fill {route}"
                found.append("/" + url.lstrip("^").rstrip("$"))

    walk(get_resolver().url_patterns)
    return found


def test_it_finds_the_household_urls(world):
    urls = household_urls(world)
    assert f"/households/{world.household.pk}/" in urls
    assert f"/api/households/{world.household.pk}/lots/" in urls


def test_it_gives_a_stranger_404_on_every_household_url(world, client):
    """GET and POST: a method a view does not take may answer 405 (that leaks nothing); one must be 404."""
    sign_in(client, world.chen)
    for url in household_urls(world):
        statuses = {client.get(url).status_code, client.post(url, {}).status_code}
        assert 404 in statuses and statuses <= {404, 405}, (url, statuses)


def test_it_gives_an_anonymous_visitor_a_login_redirect_or_401(world, client):
    for url in household_urls(world):
        status = client.get(url).status_code
        assert status in (302, 401, 403), (url, status)
        if status == 302:
            assert client.get(url)["Location"].startswith("/login/")


def test_it_gives_a_stranger_404_through_a_token_too(world):
    from rest_framework.authtoken.models import Token

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=world.chen).key)
    for url in household_urls(world):
        if url.startswith("/api/"):
            statuses = {api.get(url).status_code, api.post(url, {}).status_code}
            assert 404 in statuses and statuses <= {404, 405}, (url, statuses)


def test_it_lists_only_the_callers_households(world, client):
    sign_in(client, world.chen)
    page = client.get("/").content.decode()  # a single-household member is redirected to it
    assert "Morgan" not in page
    api = APIClient()
    api.force_authenticate(world.chen)
    names = [h["name"] for h in api.get("/api/households/").json()["results"]]
    assert names == ["Chen household"]


def test_it_shows_an_advisor_every_household_they_advise(world, client):
    from accounts.models import Membership

    Membership.objects.create(household=world.other_household, user=world.advisor, role="advisor")
    sign_in(client, world.advisor)
    page = client.get("/").content.decode()
    assert "Morgan household" in page and "Chen household" in page


def test_it_redirects_a_single_household_member_to_their_household(world, client):
    sign_in(client, world.alex)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == f"/households/{world.household.pk}/"


def test_it_rejects_a_filter_naming_another_households_account(world, client):
    sign_in(client, world.alex)
    assert client.get(f"/households/{world.household.pk}/?account={world.chen_account.pk}").status_code == 404
    assert client.get(f"/households/{world.household.pk}/?account={world.alex_ira.pk}").status_code == 200


def test_it_refuses_writes_to_the_read_only_api(world):
    api = APIClient()
    api.force_authenticate(world.reporter)
    url = f"/api/households/{world.household.pk}/"
    assert api.get(url).status_code == 200
    for method in ("post", "put", "patch", "delete"):
        assert getattr(api, method)(url, {}).status_code == 405, method


def test_access_household_distinguishes_roles(world):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from accounts.access import access_household

    assert access_household(world.advisor, world.household.pk, manage=True).viewer_role == "advisor"
    with pytest.raises(PermissionDenied):
        access_household(world.alex, world.household.pk, manage=True)
    with pytest.raises(PermissionDenied):
        access_household(world.reporter, world.household.pk, manage=True)
    with pytest.raises(Http404):
        access_household(world.chen, world.household.pk)
    with pytest.raises(Http404):
        access_household(world.alex, "not-a-number")


def test_every_api_view_goes_through_the_access_layer():
    """A guard against a new endpoint that forgets access_*: each household view names the helper."""
    import inspect

    from rest_framework.views import APIView

    from harvester import api

    views = [v for v in vars(api).values() if isinstance(v, type) and issubclass(v, APIView) and v.__module__ == api.__name__]
    assert len(views) >= 5
    for view in views:
        helper = "households_for" if view.__name__ == "HouseholdList" else "access_household"
        assert helper in inspect.getsource(view), view.__name__

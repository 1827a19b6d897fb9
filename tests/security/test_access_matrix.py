"""The access matrix: every route of the site, as each kind of caller, and the status each must get.

Routes are read from the URL resolver, so a route missing from MATRIX fails the test (and so does a
method a view implements that the table does not state). Every path id is filled with an object of
household A (the Morgans, tests/conftest.py); write requests carry a body that is *valid* for the
route, so what decides the status is who is asking, not a missing field.

The callers (columns of MATRIX):
    anon       nobody logged in
    member     Alex: a member of A; owns "Alex individual", the account of A's open proposal
    trustee    Taylor: trustee of A's trust; owns no personal account of A
    reporter   A's read-only reporter, logged in to the browser
    advisor    A's advisor (signed in past the second factor)
    member_b   Chen: a member of household B only
    advisor_b  the advisor of household B only (another firm, to A)
    token      the same reporter through `Authorization: Token <key>` (no session)

The rules the table spells out (PRODUCT.md "Who uses it", docs/approvals.md, docs/reporting.md):
    * a household you do not belong to does not exist for you: 404, on pages and the API alike;
    * inside it, an action your role may not take is 403: imports, prices and scheduled-purchase writes,
      policy edits, scans, the execution desk and executions are the advisor's; approving is the
      account's owners' (a trustee for the trust's accounts; the advisor only within discretion);
    * a reporter reads (not the audit trail) and changes nothing of the household, in the browser too;
    * a token is read-only (403 on every write, except the 1099-B comparison, which stores nothing, and
      revoking itself) and is not a login: pages answer it as they answer anyone logged out;
    * logged out: pages redirect to the login page (302), the API answers 403 (session auth comes first).
A successful page write redirects (302, POST-redirect-GET); 405 is a method the route does not take.
"""

import functools
import json
import logging
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security.two_households import broker_report, generic_csv, prices_csv, site_for_module

pytestmark = pytest.mark.django_db

ACTORS = ("anon", "member", "trustee", "reporter", "advisor", "member_b", "advisor_b", "token")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# ---- the matrix

# Rows that many routes share. Columns:  anon member trustee reporter advisor member_b advisor_b token
PAGE = "302 200 200 200 200 404 404 302"  # a page of the household every member reads (a POST reads too)
ADVISOR_PAGE = "302 403 403 403 200 404 404 302"  # a page of the household for its advisor only
ADVISOR_WRITE = "302 403 403 403 302 404 404 302"  # the advisor's change: done, then redirected
POST_ONLY = "302 405 405 405 405 405 405 302"  # a page that only takes POST (the method is checked first)
OWN_PAGE = "302 200 200 200 200 200 200 302"  # a page about the caller's own things
AUDIT = "302 200 200 403 200 404 404 302"  # the audit trail: advisor, members and trustees, not reporters
API = "403 200 200 200 200 404 404 200"  # a read of the household over the API, for members and tokens
API_NO_WRITE = "403 405 405 405 405 405 405 403"  # a write to a read-only API route: a token is refused first
API_ADVISOR = "403 403 403 403 200 404 404 403"  # an API read for the advisor only (imports)
API_POST_ONLY = "403 405 405 405 405 405 405 405"  # GET on an API route that only takes POST
PROPOSAL_POST_ONLY = "403 405 405 405 405 404 404 405"  # ... of one proposal: a stranger's 404 comes first
PUBLIC = "200 200 200 200 200 200 200 200"
ALL_405 = "405 405 405 405 405 405 405 405"
ALL_302 = "302 302 302 302 302 302 302 302"

# fmt: off
MATRIX: dict[str, dict[str, str]] = {
    # ---- site pages (not of one household)
    "home":                  dict(GET="302 302 302 302 200 302 200 302",  # one household: straight to it
                                  POST="302 302 302 302 200 302 200 302"),
    "login":                 dict(GET="200 302 302 302 302 302 302 200", POST="200 302 302 302 302 302 302 200",
                                  PUT="200 302 302 302 302 302 302 200"),
    "logout":                dict(GET=ALL_405, POST=ALL_302),
    "inbox":                 dict(GET=OWN_PAGE, POST=OWN_PAGE),
    "inbox-read":            dict(GET=POST_ONLY, POST="302 302 302 302 302 302 302 302"),
    "dashboard-all":         dict(GET=OWN_PAGE, POST=OWN_PAGE),
    "reporting-access":      dict(GET=OWN_PAGE, POST=OWN_PAGE),  # a token cannot make tokens or addresses
    # Alex's live calendar address: the secret in it is the credential, whoever presents it.
    "calendar-feed":         dict(GET=PUBLIC, POST=ALL_405),
    "admin:index":           dict(GET=ALL_302, POST=ALL_302),  # nobody here is staff: the admin's login

    # ---- the caller's own sign-in (everyone here has passed the second factor: the code page sends them on)
    "mfa-verify":            dict(GET=ALL_302, POST=ALL_302),
    "account-security":      dict(GET=OWN_PAGE, POST=OWN_PAGE),
    "mfa-setup":             dict(GET=OWN_PAGE, POST="302 400 400 400 400 400 400 302"),  # a wrong code
    "mfa-backup-codes":      dict(GET=POST_ONLY, POST=OWN_PAGE),  # new codes, shown once
    "mfa-disable":           dict(GET=POST_ONLY, POST=ALL_302),  # done, or refused to advisors: a message
    "password-change":       dict(GET=OWN_PAGE, POST="302 302 302 302 302 302 302 302",
                                  PUT=OWN_PAGE),  # a PUT carries no form: the form again

    # ---- household pages
    "household":             dict(GET=PAGE, POST=PAGE),
    "account":               dict(GET=PAGE, POST=PAGE),
    "realized":              dict(GET=PAGE, POST=PAGE),
    "form8949-csv":          dict(GET=PAGE, POST=PAGE),
    "reconcile":             dict(GET=PAGE, POST=PAGE),  # compares a 1099-B report, stores nothing
    "transactions-csv":      dict(GET=PAGE, POST=PAGE),
    "calendar":              dict(GET=PAGE, POST=PAGE),
    "dashboard":             dict(GET=PAGE, POST=PAGE),
    "audit":                 dict(GET=AUDIT, POST=AUDIT),
    "audit-csv":             dict(GET=AUDIT, POST=AUDIT),
    "policy":                dict(GET=PAGE, POST=PAGE),
    "policy-edit":           dict(GET=ADVISOR_PAGE, POST=ADVISOR_WRITE),
    "policy-acknowledge":    dict(GET=POST_ONLY,  # owners acknowledge (the trust through its trustee)
                                  POST="302 302 302 403 403 404 404 302"),
    "imports":               dict(GET=ADVISOR_PAGE, POST=ADVISOR_WRITE),
    "import-batch":          dict(GET=ADVISOR_PAGE, POST=ADVISOR_PAGE),  # preview again: the page again
    "import-confirm":        dict(GET=POST_ONLY, POST=ADVISOR_WRITE),
    "prices":                dict(GET=PAGE, POST=ADVISOR_PAGE),
    "scheduled":             dict(GET=PAGE, POST=ADVISOR_WRITE),
    "scheduled-edit":        dict(GET=ADVISOR_PAGE, POST=ADVISOR_WRITE),
    "scheduled-delete":      dict(GET=POST_ONLY, POST=ADVISOR_WRITE),
    "household-scans":       dict(GET=PAGE, POST=ADVISOR_WRITE),  # POST: "Scan now"
    "scan":                  dict(GET=PAGE, POST=PAGE),
    "scan-proposal":         dict(GET=PAGE, POST=PAGE),
    "execution":             dict(GET=ADVISOR_PAGE, POST=ADVISOR_PAGE),
    "order-ticket":          dict(GET=ADVISOR_PAGE, POST=ADVISOR_PAGE),

    # ---- one proposal (Alex's individual account; execution: Jordan's approved one)
    "proposal":              dict(GET=PAGE, POST=PAGE),
    # Only the account's owner decides: not the trustee, not the advisor (no discretion granted).
    "proposal-approve":      dict(GET=POST_ONLY, POST="302 302 403 403 403 404 404 302"),
    "proposal-reject":       dict(GET=POST_ONLY, POST="302 302 403 403 403 404 404 302"),
    "proposal-comment":      dict(GET=POST_ONLY, POST="302 302 403 403 302 404 404 302"),  # approvers and advisor
    "proposal-execute":      dict(GET=ADVISOR_PAGE, POST=ADVISOR_WRITE),

    # ---- API: the caller's own
    "api-households":        dict(GET="403 200 200 200 200 200 200 200", POST=API_NO_WRITE),
    "api-inbox":             dict(GET="403 200 200 200 200 200 200 200", POST=API_NO_WRITE),
    "api-token":             dict(GET="403 200 200 200 200 200 200 200", POST=API_POST_ONLY,
                                  DELETE="403 204 204 204 204 204 204 204"),  # a token may revoke itself
    "api-token-rotate":      dict(GET=API_POST_ONLY, POST="403 201 201 201 201 201 201 403"),  # not with a token
    "api-docs":              dict(GET=PUBLIC, POST=PUBLIC),  # the list of operations, no data
    "api-schema":            dict(GET=PUBLIC, POST=ALL_405),

    # ---- API: reads of the household
    "api-household":              dict(GET=API, POST=API_NO_WRITE),
    "api-household-owners":       dict(GET=API, POST=API_NO_WRITE),
    "api-household-accounts":     dict(GET=API, POST=API_NO_WRITE),
    "api-household-lots":         dict(GET=API, POST=API_NO_WRITE),
    "api-household-open-lots":    dict(GET=API, POST=API_NO_WRITE),
    "api-household-transactions": dict(GET=API, POST=API_NO_WRITE),
    "api-household-disposals":    dict(GET=API, POST=API_NO_WRITE),
    "api-household-wash":         dict(GET=API, POST=API_NO_WRITE),
    "api-household-proposals":    dict(GET=API, POST=API_NO_WRITE),
    "api-household-approvals":    dict(GET=API, POST=API_NO_WRITE),
    "api-household-projections":  dict(GET=API, POST=API_NO_WRITE),
    "api-household-measures":     dict(GET=API, POST=API_NO_WRITE),
    "api-household-calendar":     dict(GET=API, POST=API_NO_WRITE),
    "api-household-8949":         dict(GET=API, POST=API_NO_WRITE),
    "api-household-8949-csv":     dict(GET=API, POST=API_NO_WRITE),
    "api-household-realized":     dict(GET=API, POST=API_NO_WRITE),
    "api-prices":                 dict(GET=API, POST=API_NO_WRITE),
    "api-scheduled":              dict(GET=API, POST=API_NO_WRITE),
    "api-policy":                 dict(GET=API, POST=API_NO_WRITE),
    "api-audit":                  dict(GET="403 200 200 403 200 404 404 403", POST=API_NO_WRITE),  # not reporters
    "api-scan":                   dict(GET=API, POST=API_POST_ONLY),  # no writes: a token meets the 405 too
    # Writes nothing (token_may_write): a reporting client may compare a broker's 1099-B report.
    "api-household-reconcile":    dict(GET=API_POST_ONLY, POST="403 200 200 200 200 404 404 200"),

    # ---- API: the advisor's writes (and imports, which show the household's trades)
    "api-imports":           dict(GET=API_ADVISOR, POST=API_NO_WRITE),
    "api-import":            dict(GET=API_ADVISOR, POST=API_NO_WRITE),
    "api-import-preview":    dict(GET=API_POST_ONLY, POST="403 403 403 403 201 404 404 403"),
    "api-import-repreview":  dict(GET=API_POST_ONLY, POST=API_ADVISOR),
    "api-import-commit":     dict(GET=API_POST_ONLY, POST=API_ADVISOR),
    "api-price-import":      dict(GET=API_POST_ONLY, POST=API_ADVISOR),
    "api-scheduled-create":  dict(GET=API_POST_ONLY, POST="403 403 403 403 201 404 404 403"),
    "api-scheduled-update":  dict(GET=API_POST_ONLY, POST=API_ADVISOR, PATCH=API_ADVISOR),
    "api-scheduled-delete":  dict(GET=API_POST_ONLY, POST="403 403 403 403 204 404 404 403",
                                  DELETE="403 403 403 403 204 404 404 403"),
    "api-household-scans":   dict(GET=API_POST_ONLY, POST="403 403 403 403 202 404 404 403"),
    "api-policy-acknowledge": dict(GET=API_POST_ONLY, POST="403 200 200 403 403 404 404 403"),

    # ---- API: one proposal
    "api-proposal":          dict(GET=API, POST="403 405 405 405 405 404 404 403"),
    "api-proposal-approve":  dict(GET=PROPOSAL_POST_ONLY, POST="403 200 403 403 403 404 404 403"),
    "api-proposal-reject":   dict(GET=PROPOSAL_POST_ONLY, POST="403 200 403 403 403 404 404 403"),
    "api-proposal-comment":  dict(GET=PROPOSAL_POST_ONLY, POST="403 201 403 403 201 404 404 403"),
    "api-proposal-execute":  dict(GET=PROPOSAL_POST_ONLY, POST="403 403 403 403 200 404 404 403"),
}
# fmt: on


# ---- request bodies: valid for the route, so the caller's authority decides


def _password(user) -> str:
    return f"pw-{user.username}" if user is not None else ""


@dataclass(frozen=True)
class Body:
    """What a write sends: `data(objects, user)` gives the fields; `kind` is form (multipart) or json."""

    data: object  # callable (Objects, user) -> dict
    kind: str = "form"


def _soon() -> str:
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.localdate() + timedelta(days=10)).isoformat()


def _scheduled_form(o, user):
    from lots.models import Security

    return {"account": o.account.pk, "security": Security.objects.get(ticker="VTI").pk, "kind": "contribution",
            "frequency": "monthly", "amount": "250", "start_date": _soon(), "active": "on"}


def _policy_form(o, user):
    from django.forms.models import model_to_dict

    from harvester.policy import POLICY_FIELDS

    values = model_to_dict(o.policy, fields=list(POLICY_FIELDS))
    return {k: ("" if v is None else v) for k, v in values.items()} | {"min_loss_amount": "1234", "change_note": "Matrix"}


# Each takes the household's objects (two_households.Objects) and the caller (None when logged out).
BODIES: dict[str, Body] = {
    "login": Body(lambda o, u: {"username": "nobody", "password": "wrong"}),
    "mfa-verify": Body(lambda o, u: {"code": "000000"}),
    "mfa-setup": Body(lambda o, u: {"confirm": _password(u), "code": "000000"}),
    "mfa-backup-codes": Body(lambda o, u: {"confirm": _password(u)}),
    "mfa-disable": Body(lambda o, u: {"confirm": _password(u)}),
    "password-change": Body(lambda o, u: {"old_password": _password(u), "new_password1": "Matrix-pass-phrase-9",
                                          "new_password2": "Matrix-pass-phrase-9"}),
    "reconcile": Body(lambda o, u: {"account": o.account.pk, "report": broker_report()}),
    "imports": Body(lambda o, u: {"account": o.account.pk, "file": generic_csv(), "format": "auto"}),
    "import-batch": Body(lambda o, u: {"account": o.account.pk, "source_account": "", "as_of": ""}),
    "import-confirm": Body(lambda o, u: {"sha256": o.batch.sha256}),
    "prices": Body(lambda o, u: {"file": prices_csv()}),
    "scheduled": Body(_scheduled_form),
    "scheduled-edit": Body(_scheduled_form),
    "proposal-approve": Body(lambda o, u: {"version": o.proposal.version, "password": _password(u)}),
    "proposal-reject": Body(lambda o, u: {"version": o.proposal.version, "reason": "Not now."}),
    "proposal-comment": Body(lambda o, u: {"body": "Why this lot?"}),
    "proposal-execute": Body(lambda o, u: {"paper": "1"}),
    "policy-edit": Body(_policy_form),
    "policy-acknowledge": Body(lambda o, u: {"version": o.policy.version}),
    "reporting-access": Body(lambda o, u: {"action": "calendar-rotate"}),
    "api-household-reconcile": Body(lambda o, u: {"account": o.account.pk, "report": broker_report()}),
    "api-policy-acknowledge": Body(lambda o, u: {"version": o.policy.version}, "json"),
    "api-proposal-approve": Body(lambda o, u: {"version": o.proposal.version, "password": _password(u)}, "json"),
    "api-proposal-reject": Body(lambda o, u: {"version": o.proposal.version, "reason": "Not now."}, "json"),
    "api-proposal-comment": Body(lambda o, u: {"body": "Why this lot?"}, "json"),
    "api-proposal-execute": Body(lambda o, u: {"paper": True}, "json"),
    "api-import-preview": Body(lambda o, u: {"account": o.account.pk, "file": generic_csv()}),
    "api-import-repreview": Body(lambda o, u: {"account": o.account.pk}, "json"),
    "api-import-commit": Body(lambda o, u: {"sha256": o.batch.sha256}, "json"),
    "api-price-import": Body(lambda o, u: {"file": prices_csv()}),
    "api-scheduled-create": Body(lambda o, u: {"account": o.account.pk, "ticker": "VTI", "kind": "contribution",
                                               "frequency": "monthly", "amount": "250", "start_date": _soon()}, "json"),
    "api-scheduled-update": Body(lambda o, u: {"paused_until": _soon()}, "json"),
}

# Path ids that are not household A's default object for their name.
ID_OVERRIDES: dict[str, dict[str, str]] = {
    "proposal-execute": {"proposal_id": "approved"},
    "api-proposal-execute": {"proposal_id": "approved"},
}


# ---- the site: both households and a session per caller, built once for the module (tests/security/two_households.py)


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    yield from site_for_module(django_db_blocker)


# ---- the routes


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str  # e.g. "households/<int:household_id>/policy/"
    methods: frozenset  # the methods the view implements, when it says (class-based views)

    def url(self, objects, overrides: dict | None = None) -> str:
        ids = objects.ids()
        for param, attr in (overrides or {}).items():
            ids[param] = getattr(objects, attr).pk
        url = self.pattern
        for name, value in ids.items():
            for converter in ("int", "str"):
                url = url.replace(f"<{converter}:{name}>", str(value))
        assert "<" not in url, f"the matrix does not know how to fill {self.pattern}"
        return "/" + url


def _view_methods(callback) -> frozenset:
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is None:
        return frozenset()
    return frozenset(m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m))


def site_routes() -> dict[str, Route]:
    """Every named route of the site; the admin counts as one route ("admin:index")."""
    routes: dict[str, Route] = {}

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    routes["admin:index"] = Route("admin:index", prefix + str(p.pattern), frozenset({"GET"}))
                    continue
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                assert p.name, f"unnamed route {prefix}{p.pattern}: name it so the matrix can list it"
                assert p.name not in routes, f"two routes named {p.name}"
                routes[p.name] = Route(p.name, prefix + str(p.pattern), _view_methods(p.callback))

    walk(get_resolver().url_patterns)
    return routes


ROUTES = site_routes()


# Routes whose requests may change something when they are allowed (the rest must never change anything).
WRITE_ROUTES = frozenset(BODIES) | {
    "logout", "inbox-read", "scheduled-delete", "household-scans", "api-token", "api-token-rotate",
    "api-scheduled-delete", "api-household-scans",
}


def _login_redirect(response) -> bool:
    location = response.get("Location", "") if response.status_code == 302 else ""
    return location.startswith((reverse("login"), reverse("admin:login")))


def refused(response) -> bool:
    return response.status_code in (401, 403, 404, 405) or _login_redirect(response)


@dataclass(frozen=True)
class Outcome:
    status: int
    refused: bool
    changed: tuple  # the tables the request changed


def call(site, actor: str, method: str, route: Route, objects=None, body_objects=None) -> Outcome:
    """One request as `actor`, in a savepoint rolled back afterwards: every caller meets the same state.
    The address holds the ids of `objects` (household A's by default), the body those of `body_objects`."""
    objects = objects or site.a
    url = route.url(objects, ID_OVERRIDES.get(route.name))
    client = site.client(actor)
    body = BODIES.get(route.name)
    kwargs = {}
    if method in ("POST", "PUT", "PATCH") and body is not None:
        data = body.data(body_objects or objects, site.users[actor])
        if body.kind == "json" or method != "POST":
            kwargs = {"data": json.dumps(data), "content_type": "application/json"}
        else:
            kwargs = {"data": data}
    with transaction.atomic():
        response = getattr(client, method.lower())(url, **kwargs)
        after = fingerprint()
        transaction.set_rollback(True)
    # Every request starts from the state the module built (the one before was rolled back).
    before = site.baseline = site.baseline or fingerprint()
    changed = tuple(t for t, b, a in zip(WATCHED_TABLES, before, after, strict=True) if b != a) if before else ()
    return Outcome(response.status_code, refused(response), changed)


# ---- what a request changed: one query over the tables that hold money, authority and credentials

# (app label, model, columns left out: bookkeeping a read may touch)
WATCHED = [
    ("auth", "User", {"last_login"}),
    ("accounts", "Household", set()), ("accounts", "Membership", set()), ("accounts", "Owner", set()),
    ("accounts", "Account", set()), ("accounts", "OwnerTaxProfile", set()), ("accounts", "TargetAllocation", set()),
    ("harvester", "HarvestPolicy", set()), ("harvester", "PolicyAcknowledgment", set()),
    ("harvester", "HarvestScan", set()), ("harvester", "HarvestProposal", set()), ("harvester", "Approval", set()),
    ("harvester", "ProposalComment", set()), ("harvester", "Execution", set()), ("harvester", "AuditEvent", set()),
    ("harvester", "Notification", {"read_at"}),  # opening a proposal marks its notifications read
    ("lots", "ImportBatch", set()), ("lots", "Transaction", set()), ("lots", "Lot", set()),
    ("lots", "ScheduledPurchase", set()), ("lots", "Price", set()), ("lots", "Security", set()),
    ("authtoken", "Token", set()),
    ("reporting", "CalendarToken", {"last_used_at"}),  # the feed notes when it was last read
]
WATCHED_TABLES = tuple(f"{app}.{model}" for app, model, _ in WATCHED)


@functools.cache
def _fingerprint_sql() -> str:
    from django.apps import apps
    from django.db import connection

    q = connection.ops.quote_name
    parts = []
    for app, name, skip in WATCHED:
        model = apps.get_model(app, name)
        columns = [q(f.column) for f in model._meta.concrete_fields if f.name not in skip]
        through = [m.remote_field.through for m in model._meta.local_many_to_many]
        parts.append(f"(SELECT md5(coalesce(string_agg(concat_ws('|', {', '.join(columns)}), ',' "
                     f"ORDER BY {q(model._meta.pk.column)}), '')) FROM {q(model._meta.db_table)})")
        for t in through:  # trustees, account owners
            cols = [q(f.column) for f in t._meta.concrete_fields]
            parts[-1] = (f"md5({parts[-1]} || (SELECT coalesce(string_agg(concat_ws('|', {', '.join(cols)}), ',' "
                         f"ORDER BY {q(t._meta.pk.column)}), '') FROM {q(t._meta.db_table)}))")
    return "SELECT " + ", ".join(parts)


def fingerprint() -> tuple | None:
    """A digest per watched table (PostgreSQL; None elsewhere: the suite runs on PostgreSQL)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        return cursor.fetchone()


# ---- the tests


@pytest.fixture(autouse=True, scope="module")
def quiet_refusals():
    """Every 403, 404 and 405 below is expected: keep django.request's warnings out of the output."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def test_the_matrix_states_every_route_and_every_method_its_view_takes():
    missing = sorted(set(ROUTES) - set(MATRIX))
    assert not missing, f"routes with no row in MATRIX: say what each caller must get: {missing}"
    gone = sorted(set(MATRIX) - set(ROUTES))
    assert not gone, f"MATRIX rows for routes that no longer exist: {gone}"
    for name, route in ROUTES.items():
        stated = set(MATRIX[name])
        assert {"GET", "POST"} <= stated and route.methods <= stated, (name, sorted(route.methods - stated))
        for method, row in MATRIX[name].items():
            assert method in METHODS and len(row.split()) == len(ACTORS), (name, method, row)
    assert set(BODIES) <= set(ROUTES) and set(ID_OVERRIDES) <= set(ROUTES)


def test_the_change_detector_sees_a_change(site):
    """The check that refused requests change nothing is only as good as this."""
    from harvester.models import ProposalComment

    if fingerprint() is None:
        pytest.skip("the change detector needs PostgreSQL")
    with transaction.atomic():
        before = fingerprint()
        ProposalComment.objects.create(proposal=site.a.proposal, user=site.world.alex, body="x")
        after = fingerprint()
        transaction.set_rollback(True)
    assert [t for t, b, a in zip(WATCHED_TABLES, before, after, strict=True) if b != a] == ["harvester.ProposalComment"]


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_caller_gets_the_status_the_matrix_says(site, name):
    """And a refused request, or any request to a route that only reads, changes nothing."""
    if name not in ROUTES:
        pytest.skip("no such route (test_the_matrix_states_every_route... says so)")
    route = ROUTES[name]
    wrong = []
    for method, row in MATRIX[name].items():
        for actor, want in zip(ACTORS, row.split(), strict=True):
            outcome = call(site, actor, method, route)
            if outcome.status != int(want):
                wrong.append(f"{method} as {actor}: {outcome.status}, the matrix says {want}")
            if outcome.changed and (outcome.refused or name not in WRITE_ROUTES):
                wrong.append(f"{method} as {actor} ({outcome.status}) changed {', '.join(outcome.changed)}")
    assert not wrong, f"{name} ({route.pattern}):\n  " + "\n  ".join(wrong)


# Who decides on which account (docs/approvals.md "Who approves what"): the matrix's proposal rows are on
# Alex's individual account; these are the other side. (proposal, expected status per caller)
DECIDERS = {
    "alex_individual": {"member": 200, "spouse": 403, "trustee": 403, "reporter": 403, "advisor": 403},
    "trust": {"trustee": 200, "member": 403, "spouse": 403, "reporter": 403, "advisor": 403},
}


@pytest.mark.parametrize("page", [False, True], ids=["api", "page"])
@pytest.mark.parametrize("account", sorted(DECIDERS))
def test_only_the_accounts_approvers_approve(site, account, page):
    """A spouse cannot approve the other's individual account; a trustee approves the trust's, and an owner
    cannot; the reporter and the advisor (no discretion granted) never."""
    p = site.a.proposal if account == "alex_individual" else site.trust_proposal
    url = f"/proposals/{p.pk}/approve/" if page else f"/api/proposals/{p.pk}/approve/"
    expected = {actor: (302 if page and status == 200 else status) for actor, status in DECIDERS[account].items()}
    got = {}
    for actor in expected:
        data = {"version": p.version, "password": _password(site.users[actor])}
        with transaction.atomic():
            client = site.client(actor)
            response = client.post(url, data) if page else client.post(url, data, content_type="application/json")
            transaction.set_rollback(True)
        got[actor] = response.status_code
    assert got == expected


# Query filters naming household B's objects on household A's pages and API lists.
FILTERS = [
    ("household", "?account={b_account}"), ("transactions-csv", "?account={b_account}"),
    ("dashboard", "?owner={b_owner}"), ("dashboard", "?account={b_account}"), ("audit", "?actor={chen}"),
    ("api-household-accounts", "?owner={b_owner}"), ("api-household-open-lots", "?account={b_account}"),
    ("api-household-open-lots", "?owner={b_owner}"), ("api-household-transactions", "?account={b_account}"),
    ("api-household-disposals", "?owner={b_owner}"), ("api-household-wash", "?account={b_account}"),
    ("api-household-proposals", "?account={b_account}"), ("api-household-approvals", "?proposal={b_proposal}"),
    ("api-household-projections", "?owner={b_owner}"), ("api-household-measures", "?owner={b_owner}"),
    ("api-audit", "?actor={chen}"),
]


@pytest.mark.parametrize(("name", "query"), FILTERS)
def test_a_filter_naming_household_bs_objects_finds_nothing_of_them(site, name, query):
    """Refused (400 in the API, 404 on a page) or an answer with nothing of B in it."""
    b = site.b
    query = query.format(b_account=b.account.pk, b_owner=b.household.owners.get().pk, chen=site.world.chen.pk,
                         b_proposal=b.proposal.pk)
    url = ROUTES[name].url(site.a) + query
    response = site.client("advisor").get(url)
    assert response.status_code in (200, 400, 404), (url, response.status_code)
    if response.status_code == 200:
        body = response.content.decode()
        assert "Chen" not in body and "chen" not in body, url
        if name.startswith("api-"):
            assert response.json()["results"] == [], url


# Every route that takes an id, except the calendar feed: its secret is a credential, not an id.
ID_ROUTES = sorted(name for name, r in ROUTES.items() if "<" in r.pattern and name != "calendar-feed")


@pytest.mark.parametrize("name", ID_ROUTES)
def test_household_a_finds_nothing_of_household_b(site, name):
    """Filled with household B's ids (and a body valid for B), every route is 404 to A's member, A's advisor and
    A's token (405 for a method the route does not take: that says nothing about B). B's advisor, the
    control, finds them."""
    route = ROUTES[name]
    methods = sorted(MATRIX.get(name, {"GET": "", "POST": ""}), key=METHODS.index)
    gets = MATRIX.get(name, {}).get("GET", "").split()
    probe = "POST" if gets and gets[ACTORS.index("advisor")] == "405" else "GET"
    control = call(site, "advisor_b", probe, route, site.b).status
    assert control != 404, f"B's ids do not reach B's objects on {name}: {probe} as B's advisor is 404"
    api = route.pattern.startswith("api/")
    wrong = []
    for actor in ("member", "advisor", "token") if api else ("member", "advisor"):
        outcomes = {m: call(site, actor, m, route, site.b) for m in methods}
        codes = {o.status for o in outcomes.values()}
        if not (404 in codes and codes <= {404, 405}) or any(o.changed for o in outcomes.values()):
            wrong.append(f"{actor}: {({m: (o.status, o.changed) for m, o in outcomes.items()})}")
    assert not wrong, f"{name} with B's ids:\n  " + "\n  ".join(wrong)


# Routes whose address holds a household id and the id of something in it.
NESTED_ROUTES = sorted(name for name, r in ROUTES.items() if "<int:household_id>" in r.pattern and r.pattern.count("<") > 1)


@pytest.mark.parametrize("name", NESTED_ROUTES)
def test_a_households_address_does_not_reach_another_households_object(site, name):
    """A's own household id with B's account, import, scheduled purchase or proposal in the address (and A's in
    the body): A's advisor, who may do everything in A, still finds nothing (the view checks the object
    belongs to the household the address names)."""
    from dataclasses import replace

    route = ROUTES[name]
    mixed = replace(site.b, household=site.a.household)
    methods = MATRIX.get(name, {"GET": "", "POST": ""})
    outcomes = {m: call(site, "advisor", m, route, mixed, body_objects=site.a) for m in methods}
    codes = {o.status for o in outcomes.values()}
    assert 404 in codes and codes <= {404, 405}, {m: o.status for m, o in outcomes.items()}
    assert not any(o.changed for o in outcomes.values())

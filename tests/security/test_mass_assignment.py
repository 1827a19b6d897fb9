"""Mass assignment: a write that names a household, owner, status, approver or user it may not set is refused
(400) or the extra fields are ignored; the stored rows say who really acted and where, and nothing of
household B changes.

Every write that moves money or authority is tried, on its page and in the API: approving, rejecting,
commenting, executing, acknowledging and editing the policy, starting a scan, importing (preview, preview
again, commit), scheduled purchases, the 1099-B comparison, API tokens and calendar addresses, and the
caller's own second factor and password. Each request carries, besides a valid body, the fields of FOREIGN:
household B's ids, B's people, and states nobody gets by asking for them. A field the route does take
(an account) is given B's account too, and must be refused.
"""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from harvester.models import (
    Approval,
    AuditEvent,
    Execution,
    HarvestPolicy,
    HarvestProposal,
    HarvestScan,
    PolicyAcknowledgment,
    ProposalComment,
)
from lots.models import ImportBatch, ScheduledPurchase, Transaction
from tests.security.two_households import broker_report, generic_csv, site_for_module

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    yield from site_for_module(django_db_blocker)


def foreign(site, **also) -> dict:
    """Fields no write takes: household B, its member and advisor, states and decisions nobody sets by asking."""
    w, b = site.world, site.b
    chen_owner = b.household.owners.get()
    return {
        "household": b.household.pk, "household_id": b.household.pk,
        "owner": chen_owner.pk, "owner_id": chen_owner.pk,
        "status": "executed", "state": "approved", "decision": "approve", "by_discretion": True,
        "approver": w.chen.pk, "approved_by": w.chen.pk, "user": w.chen.pk, "user_id": w.chen.pk,
        "created_by": site.advisor_b.pk, "started_by": site.advisor_b.pk, "executed_by": site.advisor_b.pk,
        "committed_by": site.advisor_b.pk, "role": "advisor", "proposal": b.proposal.pk, "policy": site.policy_b.pk,
        **also,
    }


def household_b(site) -> dict:
    """What a write to household A must never change in household B."""
    hh = site.b.household
    return {
        "proposals": sorted(HarvestProposal.objects.filter(household=hh).values_list("id", "status", "version")),
        "approvals": Approval.objects.filter(proposal__household=hh).count(),
        "comments": ProposalComment.objects.filter(proposal__household=hh).count(),
        "executions": Execution.objects.filter(proposal__household=hh).count(),
        "policies": sorted(HarvestPolicy.objects.filter(household=hh).values_list("id", "version", "created_by")),
        "acknowledgments": PolicyAcknowledgment.objects.filter(policy__household=hh).count(),
        "scans": HarvestScan.objects.filter(household=hh).count(),
        "imports": sorted(ImportBatch.objects.filter(household=hh).values_list("id", "status", "account")),
        "transactions": Transaction.objects.filter(account__household=hh).count(),
        "scheduled": sorted(ScheduledPurchase.objects.filter(account__household=hh).values_list("id", "account",
                                                                                              "amount")),
        "audit": AuditEvent.objects.filter(household=hh).count(),
    }


def send(site, actor, url, data, *, api: bool):
    """POST as `actor`: JSON to the API, a form to a page (files go multipart either way)."""
    client = site.client(actor)
    has_file = any(hasattr(v, "read") for v in data.values())
    if api and not has_file:
        return client.post(url, json.dumps(data), content_type="application/json")
    return client.post(url, data)


@pytest.fixture
def untouched_b(site):
    """Asserts, after the test, that household B is as it was."""
    before = household_b(site)
    yield
    assert household_b(site) == before


API_OR_PAGE = pytest.mark.parametrize("api", [True, False], ids=["api", "page"])


def ok(response, *codes):
    assert response.status_code in codes, (response.status_code, response.content[:500])


# ---- proposals


@API_OR_PAGE
def test_an_approval_records_the_callers_own_seat_and_nothing_they_ask_for(site, api, untouched_b):
    """Alex approves the joint account's proposal naming Jordan's seat, B's owner, a discretion flag and the
    status 'approved': one row, Alex's seat, and the proposal still waits for Jordan."""
    from tests.approvals.factories import make_proposal

    w = site.world
    p = make_proposal(w, w.joint, ticker="VB", buy="IJR", lots=(("100", "60"),), price="45",
                      policy=w.household.policies.get(version=1))
    url = f"/api/proposals/{p.pk}/approve/" if api else f"/proposals/{p.pk}/approve/"
    data = {"version": p.version, "password": "pw-alex",
            **foreign(site, owner=w.jordan_owner.pk, owner_id=w.jordan_owner.pk, user=w.jordan.pk, status="approved")}
    ok(send(site, "member", url, data, api=api), 200, 302)
    rows = list(Approval.objects.filter(proposal=p).values_list("owner", "user", "decision", "by_discretion",
                                                                "proposal_version"))
    assert rows == [(w.alex_owner.pk, w.alex.pk, "approve", False, p.version)]
    p.refresh_from_db()
    assert p.status == "awaiting_approval"


@API_OR_PAGE
def test_a_rejection_is_the_callers_and_ends_in_rejected_whatever_status_it_names(site, api, untouched_b):
    w, p = site.world, site.a.proposal
    url = f"/api/proposals/{p.pk}/reject/" if api else f"/proposals/{p.pk}/reject/"
    data = {"version": p.version, "reason": "Not this year.", **foreign(site, status="approved")}
    ok(send(site, "member", url, data, api=api), 200, 302)
    p.refresh_from_db()
    assert p.status == "rejected"
    assert list(Approval.objects.filter(proposal=p).values_list("owner", "user", "decision")) == [
        (w.alex_owner.pk, w.alex.pk, "reject")
    ]


@API_OR_PAGE
def test_a_comment_is_the_callers_on_the_proposal_of_the_address(site, api, untouched_b):
    w, p = site.world, site.a.proposal
    url = f"/api/proposals/{p.pk}/comment/" if api else f"/proposals/{p.pk}/comment/"
    ok(send(site, "member", url, {"body": "Why this lot?", **foreign(site)}, api=api), 201, 302)
    assert list(ProposalComment.objects.filter(proposal__household=w.household).values_list("proposal", "user")) == [
        (p.pk, w.alex.pk)
    ]


@API_OR_PAGE
def test_an_execution_is_recorded_as_the_advisors_in_the_proposals_account(site, api, untouched_b):
    w, p = site.world, site.a.approved
    url = f"/api/proposals/{p.pk}/execute/" if api else f"/proposals/{p.pk}/execute/"
    data = {"paper": True if api else "1", **foreign(site, account=site.b.account.pk)}
    ok(send(site, "advisor", url, data, api=api), 200, 302)
    execution = Execution.objects.get(proposal=p)
    assert execution.executed_by == w.advisor
    assert {execution.sell_transaction.account_id, execution.buy_transaction.account_id} == {p.account_id}
    p.refresh_from_db()
    assert p.status == "executed"


# ---- policy


@API_OR_PAGE
def test_an_acknowledgment_is_for_the_owners_the_caller_acts_for(site, api, untouched_b):
    """Alex names Jordan and the trust: only Alex is acknowledged. Taylor names Alex: only the trust is."""
    w, policy = site.world, site.policy_a
    url = (f"/api/households/{w.household.pk}/policy/acknowledge/" if api
           else f"/households/{w.household.pk}/policy/acknowledge/")
    for actor, owner, owner_id in [("member", w.jordan_owner, w.trust_owner), ("trustee", w.alex_owner, w.jordan_owner)]:
        data = {"version": policy.version, **foreign(site, owner=owner.pk, owner_id=owner_id.pk, user=w.jordan.pk)}
        ok(send(site, actor, url, data, api=api), 200, 302)
    assert sorted(PolicyAcknowledgment.objects.filter(policy=policy).values_list("owner", "user")) == sorted([
        (w.alex_owner.pk, w.alex.pk), (w.trust_owner.pk, w.taylor.pk)
    ])


def test_a_policy_edit_makes_the_next_version_of_this_household_by_the_advisor(site, untouched_b):
    from django.forms.models import model_to_dict

    from harvester.policy import POLICY_FIELDS

    w = site.world
    terms = {k: ("" if v is None else v) for k, v in model_to_dict(site.policy_a, fields=list(POLICY_FIELDS)).items()}
    data = {**terms, "min_loss_amount": "1500", "change_note": "Higher floor", **foreign(site, version=99)}
    ok(send(site, "advisor", f"/households/{w.household.pk}/policy/edit/", data, api=False), 302)
    newest = HarvestPolicy.objects.filter(household=w.household).order_by("-version").first()
    assert (newest.version, newest.created_by, str(newest.min_loss_amount)) == (
        site.policy_a.version + 1, w.advisor, "1500.00"
    )
    assert not PolicyAcknowledgment.objects.filter(policy=newest).exists()


# ---- scans


@API_OR_PAGE
def test_a_scan_is_of_the_household_of_the_address_started_by_the_caller(site, api, untouched_b):
    w = site.world
    url = f"/api/households/{w.household.pk}/scans/" if api else f"/households/{w.household.pk}/scan/"
    before = set(HarvestScan.objects.values_list("pk", flat=True))
    ok(send(site, "advisor", url, foreign(site, status="done", as_of="2001-01-02"), api=api), 202, 302)
    (scan,) = HarvestScan.objects.exclude(pk__in=before)
    assert (scan.household, scan.started_by, scan.status, scan.as_of) == (
        w.household, w.advisor, "queued", timezone.localdate()
    )


# ---- imports


@API_OR_PAGE
def test_an_import_preview_goes_to_this_households_account_as_the_caller(site, api, untouched_b):
    w = site.world
    url = f"/api/households/{w.household.pk}/imports/preview/" if api else f"/households/{w.household.pk}/imports/"
    before = set(ImportBatch.objects.values_list("pk", flat=True))
    data = {"account": w.joint.pk, "file": generic_csv(), "format": "auto", **foreign(site, status="committed")}
    ok(send(site, "advisor", url, data, api=api), 201, 302)
    (batch,) = ImportBatch.objects.exclude(pk__in=before)
    assert (batch.household, batch.account, batch.created_by, batch.status, batch.committed_by) == (
        w.household, w.joint, w.advisor, "previewed", None
    )


@API_OR_PAGE
def test_an_import_into_another_households_account_is_refused(site, api, untouched_b):
    w = site.world
    url = f"/api/households/{w.household.pk}/imports/preview/" if api else f"/households/{w.household.pk}/imports/"
    before = ImportBatch.objects.count()
    ok(send(site, "advisor", url, {"account": site.b.account.pk, "file": generic_csv(), "format": "auto"}, api=api),
       400)
    assert ImportBatch.objects.count() == before


@API_OR_PAGE
def test_a_preview_again_cannot_move_the_import_to_another_households_account(site, api, untouched_b):
    w, batch = site.world, site.a.batch
    url = (f"/api/households/{w.household.pk}/imports/{batch.pk}/repreview/" if api
           else f"/households/{w.household.pk}/imports/{batch.pk}/")
    ok(send(site, "advisor", url, {"account": site.b.account.pk, "source_account": "", **foreign(site)}, api=api),
       400)
    batch.refresh_from_db()
    assert (batch.household, batch.account, batch.status) == (w.household, site.a.account, "previewed")


@API_OR_PAGE
def test_an_import_commit_writes_into_the_previewed_account_as_the_caller(site, api, untouched_b):
    w, batch = site.world, site.a.batch
    url = (f"/api/households/{w.household.pk}/imports/{batch.pk}/commit/" if api
           else f"/households/{w.household.pk}/imports/{batch.pk}/confirm/")
    before = Transaction.objects.count(), Transaction.objects.filter(account=batch.account).count()
    data = {"sha256": batch.sha256, **foreign(site, account=site.b.account.pk, status="previewed")}
    ok(send(site, "advisor", url, data, api=api), 200, 302)
    batch.refresh_from_db()
    assert (batch.status, batch.committed_by, batch.account) == ("committed", w.advisor, site.a.account)
    after = Transaction.objects.count(), Transaction.objects.filter(account=batch.account).count()
    assert after[0] - before[0] == after[1] - before[1] > 0  # every new trade is in the previewed account


# ---- scheduled purchases


def _schedule(site, account, *, api: bool) -> dict:
    soon = (timezone.localdate() + timedelta(days=10)).isoformat()
    common = {"account": account.pk, "kind": "contribution", "frequency": "monthly", "amount": "250",
              "start_date": soon}
    return {**common, "ticker": "VTI"} if api else {**common, "security": site.vti.pk, "active": "on"}


@API_OR_PAGE
def test_a_scheduled_purchase_is_made_in_this_household_whatever_else_it_names(site, api, untouched_b):
    w = site.world
    url = (f"/api/households/{w.household.pk}/scheduled-purchases/create/" if api
           else f"/households/{w.household.pk}/scheduled/")
    before = set(ScheduledPurchase.objects.values_list("pk", flat=True))
    ok(send(site, "advisor", url, {**_schedule(site, w.alex_ind, api=api), **foreign(site)}, api=api), 201, 302)
    (made,) = ScheduledPurchase.objects.exclude(pk__in=before)
    assert made.account == w.alex_ind


@API_OR_PAGE
def test_a_scheduled_purchase_in_another_households_account_is_refused(site, api, untouched_b):
    w = site.world
    url = (f"/api/households/{w.household.pk}/scheduled-purchases/create/" if api
           else f"/households/{w.household.pk}/scheduled/")
    before = ScheduledPurchase.objects.count()
    ok(send(site, "advisor", url, _schedule(site, site.b.account, api=api), api=api), 400)
    assert ScheduledPurchase.objects.count() == before


@API_OR_PAGE
def test_a_scheduled_purchase_cannot_be_moved_to_another_households_account(site, api, untouched_b):
    w, purchase = site.world, site.a.purchase
    url = (f"/api/households/{w.household.pk}/scheduled-purchases/{purchase.pk}/update/" if api
           else f"/households/{w.household.pk}/scheduled/{purchase.pk}/edit/")
    data = {**_schedule(site, site.b.account, api=api), **foreign(site)}
    ok(send(site, "advisor", url, data, api=api), 400)
    purchase.refresh_from_db()
    assert purchase.account == w.jordan_ind


# ---- the 1099-B comparison (it stores nothing, but must not read another household's account)


@API_OR_PAGE
def test_a_report_cannot_be_compared_with_another_households_account(site, api, untouched_b):
    w = site.world
    url = f"/api/households/{w.household.pk}/reconcile/" if api else f"/households/{w.household.pk}/reconcile/"
    response = send(site, "member", url, {"account": site.b.account.pk, "report": broker_report()}, api=api)
    ok(response, 400)
    assert b"Chen" not in response.content


# ---- credentials


@API_OR_PAGE
def test_a_new_api_token_is_the_callers_whoever_it_names(site, api, untouched_b):
    from rest_framework.authtoken.models import Token

    w = site.world
    url = "/api/token/rotate/" if api else "/reporting/access/"
    data = {**foreign(site, user=w.jordan.pk, user_id=w.jordan.pk, username="jordan")}
    if not api:
        data["action"] = "api-rotate"
    ok(send(site, "member", url, data, api=api), 200, 201)
    assert set(Token.objects.values_list("user__username", flat=True)) == {"alex", "reporter"}


def test_a_new_calendar_address_is_the_callers_whoever_it_names(site, untouched_b):
    from reporting.models import CalendarToken

    w = site.world
    live = set(CalendarToken.objects.filter(revoked_at__isnull=True).values_list("pk", "user__username"))
    data = {"action": "calendar-rotate", **foreign(site, user=w.jordan.pk, user_id=w.jordan.pk, username="jordan")}
    ok(send(site, "trustee", "/reporting/access/", data, api=False), 200)
    now = set(CalendarToken.objects.filter(revoked_at__isnull=True).values_list("pk", "user__username"))
    assert {u for _, u in now - live} == {"taylor"} and live - now == set()  # Alex's and Chen's stay live


def test_turning_off_the_second_factor_touches_only_the_callers(site, untouched_b):
    from django_otp import devices_for_user

    from tests.signin import totp_device

    w = site.world
    jordans = totp_device(w.jordan)
    data = {"confirm": "pw-alex", **foreign(site, user=w.jordan.pk, user_id=w.jordan.pk, username="jordan")}
    ok(send(site, "member", "/account/security/disable/", data, api=False), 302)
    assert not list(devices_for_user(w.alex, confirmed=True))
    assert list(devices_for_user(w.jordan, confirmed=True)) == [jordans]
    assert list(devices_for_user(w.chen, confirmed=True))


def test_a_password_change_changes_only_the_callers(site, untouched_b):
    w = site.world
    data = {"old_password": "pw-alex", "new_password1": "Matrix-pass-phrase-9", "new_password2": "Matrix-pass-phrase-9",
            **foreign(site, user=w.jordan.pk, user_id=w.jordan.pk, username="jordan")}
    ok(send(site, "member", "/account/password/", data, api=False), 302)
    w.alex.refresh_from_db()
    w.jordan.refresh_from_db()
    assert w.alex.check_password("Matrix-pass-phrase-9") and w.jordan.check_password("pw-jordan")


def test_the_savepoints_leave_the_site_as_built(site):
    """The tests above change household A in their own transaction: the next one starts from the site as built."""
    with transaction.atomic():
        assert HarvestProposal.objects.get(pk=site.a.proposal.pk).status == "awaiting_approval"
        assert not Execution.objects.filter(proposal=site.a.approved).exists()

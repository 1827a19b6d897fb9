"""What the owners' three requests cost in queries (docs/load.md "CPU per request"): the inbox and the
proposal page read a fixed number of queries however many proposals there are, and approving one does
not read more as its proposal or its household hold more lots. Also: the inbox's selection in SQL
selects what its ORM formulation did, and the card an approval answers with is the one a fresh read
of the proposal makes."""

import re

import pytest
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, Owner
from harvester import approvals
from harvester.models import Approval, HarvestProposal, ProposalComment
from tests.approvals.factories import make_proposal
from tests.signin import sign_in

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def confirm(client, user):
    session = client.session
    session[approvals.PASSWORD_SESSION_KEY] = {"user": user.pk, "at": timezone.now().isoformat()}
    session.save()


def queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx)


def copies(p: HarvestProposal, n: int, **changes) -> list[HarvestProposal]:
    """`n` more proposals like `p` (same lots: enough for pages and lists, which do not re-check)."""
    made = []
    for _ in range(n):
        c = HarvestProposal.objects.get(pk=p.pk)
        c.pk = None
        c.fingerprint = f"{p.fingerprint}:{HarvestProposal.objects.count()}"
        for name, value in changes.items():
            setattr(c, name, value)
        c.save()
        made.append(c)
    return made


def decorate(world, proposals) -> None:
    """Give proposals the things their cards show: a comment each, an approval on some (Jordan's seat)."""
    for i, p in enumerate(proposals):
        ProposalComment.objects.create(proposal=p, user=world.advisor, body=f"Note {i}")
        if p.account_id == world.joint.pk and i % 2:
            Approval.objects.create(proposal=p, proposal_version=p.version, owner=world.jordan_owner,
                                    user=world.jordan, decision="approve")


def test_the_inbox_reads_as_many_queries_for_2_or_20_proposals(world, policy, client, django_assert_num_queries):
    first = [make_proposal(world, world.alex_ind), make_proposal(world, world.joint)]
    decorate(world, first)
    sign_in(client, world.alex)
    client.get("/inbox/")
    few = queries(lambda: client.get("/inbox/"))
    more = copies(first[0], 9) + copies(first[1], 9)
    decorate(world, more)
    with django_assert_num_queries(few):
        page = client.get("/inbox/").content.decode()
    assert page.count('class="proposal-card"') == 20


def test_an_advisors_inbox_with_a_trust_reads_as_many_queries_for_2_or_20(world, policy, client,
                                                                          django_assert_num_queries):
    first = [make_proposal(world, world.trust), make_proposal(world, world.joint)]
    decorate(world, first)
    sign_in(client, world.advisor)
    client.get("/inbox/")
    few = queries(lambda: client.get("/inbox/"))
    more = copies(first[0], 9) + copies(first[1], 9, status="approved")
    decorate(world, more)
    with django_assert_num_queries(few):
        page = client.get("/inbox/").content.decode()
    assert page.count("data-proposal=") == 20  # the advisor decides none: all under "In progress"


def test_the_proposal_page_reads_as_many_queries_for_2_or_20_proposals(world, policy, client,
                                                                       django_assert_num_queries):
    p = make_proposal(world, world.joint)
    other = make_proposal(world, world.alex_ind)
    decorate(world, [p, other])
    sign_in(client, world.alex)
    client.get(f"/proposals/{p.pk}/")
    few = queries(lambda: client.get(f"/proposals/{p.pk}/"))
    decorate(world, [p, p, p] + copies(other, 18))
    with django_assert_num_queries(few):
        page = client.get(f"/proposals/{p.pk}/").content.decode()
    assert page.count('class="comment"') == 4
    trust = make_proposal(world, world.trust)  # a trust's page reads its trustees: one query more, for any count
    sign_in(client, world.taylor)
    client.get(f"/proposals/{trust.pk}/")
    with django_assert_num_queries(few + 1):
        client.get(f"/proposals/{trust.pk}/")
    copies(trust, 18)
    with django_assert_num_queries(few + 1):
        assert "Trust" in client.get(f"/proposals/{trust.pk}/").content.decode()


def approve(client, p):
    return client.post(f"/proposals/{p.pk}/approve/", {"version": p.version, "comment": ""},
                       HTTP_HX_TARGET=f"proposal-{p.pk}", **HTMX)


def test_approving_reads_as_many_queries_with_more_lots(world, policy, client, django_assert_num_queries):
    small = make_proposal(world, world.alex_ind)
    sign_in(client, world.alex)
    confirm(client, world.alex)
    client.get(f"/proposals/{small.pk}/")
    few = queries(lambda: approve(client, small))
    assert HarvestProposal.objects.get(pk=small.pk).status == "approved"
    # A proposal of six lots, in a household that now holds many more.
    make_proposal(world, world.joint, lots=[("10", "210")] * 4)
    make_proposal(world, world.jordan_ind, lots=[("10", "205")] * 4)
    big = make_proposal(world, world.alex_ind, lots=[("5", "200"), ("6", "201"), ("7", "202"), ("8", "203"),
                                                       ("9", "204"), ("10", "205")])
    assert len(big.lots) == 6
    client.get(f"/proposals/{big.pk}/")
    with django_assert_num_queries(few):
        response = approve(client, big)
    assert response.status_code == 200 and 'data-status="approved"' in response.content.decode()


# ---- the same answers as before


def inbox_ids_orm(user) -> list[int]:
    """inbox_proposals' selection as the ORM wrote it before it moved to SQL."""
    Status = HarvestProposal.Status
    acting = Membership.objects.filter(user=user, role__in=approvals.ACTING_ROLES).values("household_id")
    advised = Membership.objects.filter(user=user, role=Membership.Role.ADVISOR).values("household_id")
    mine = Owner.objects.filter(Q(user=user) | Q(trustees=user)).values("pk")
    decided = Approval.objects.filter(proposal=OuterRef("pk"), proposal_version=OuterRef("version"), user=user)
    awaiting_me = Q(status=Status.AWAITING_APPROVAL, household_id__in=acting, account__owners__in=mine) & ~Q(
        Exists(decided)
    )
    advisor = Q(household_id__in=advised, status__in=(Status.AWAITING_APPROVAL, Status.APPROVED))
    ids = HarvestProposal.objects.filter(awaiting_me | advisor).values("pk")
    return list(HarvestProposal.objects.filter(pk__in=ids).order_by("expires_at", "id").values_list("pk", flat=True))


def test_the_inbox_selects_what_the_orm_formulation_selected(world, policy):
    joint = make_proposal(world, world.joint)
    make_proposal(world, world.alex_ind)
    make_proposal(world, world.jordan_ind, status="approved")
    make_proposal(world, world.trust)
    make_proposal(world, world.alex_ira, status="proposed")
    old = make_proposal(world, world.joint, status="rejected")
    copies(joint, 2)
    approvals.proposal_approve(proposal=joint, user=world.jordan, version=1)  # Jordan decided this version
    HarvestProposal.objects.filter(pk=old.pk).update(version=2)
    Approval.objects.create(proposal=old, proposal_version=1, owner=world.alex_owner, user=world.alex,
                            decision="approve")
    Membership.objects.filter(user=world.taylor).update(role="reporter")  # a reporter trustee: acts nowhere
    users = [world.advisor, world.alex, world.jordan, world.taylor, world.reporter, world.outsider, world.chen]
    seen = {}
    for user in users:
        ids = list(approvals.inbox_proposals(user).values_list("pk", flat=True))
        assert ids == inbox_ids_orm(user), user.username
        seen[user.username] = len(ids)
    assert seen["advisor"] == 6 and seen["alex"] == 4 and seen["jordan"] == 2 and seen["outsider"] == 0
    Membership.objects.filter(user=world.taylor).update(role="trustee")
    assert list(approvals.inbox_proposals(world.taylor).values_list("pk", flat=True)) == inbox_ids_orm(world.taylor)
    assert len(inbox_ids_orm(world.taylor)) == 1


CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+')


def test_the_card_an_approval_answers_with_is_a_fresh_reads(world, policy, client):
    """The card is made from the proposal as the approval left it: the same HTML as from a fresh read."""
    for account, user in [(world.joint, world.alex), (world.alex_ind, world.alex), (world.trust, world.taylor)]:
        p = make_proposal(world, account)
        ProposalComment.objects.create(proposal=p, user=world.advisor, body="Worth it this year.")
        sign_in(client, user)
        confirm(client, user)
        answer = approve(client, p)
        assert answer.status_code == 200
        request = RequestFactory().post("/", **HTMX)
        request.user, request.session, request.htmx = user, client.session, True
        view = approvals.proposal_views([approvals.proposals_queryset().get(pk=p.pk)], user)[0]
        fresh = render_to_string("harvester/inbox.html#card", {
            "v": view, "needs_password": False, "paper_enabled": approvals.paper_execution_enabled(),
            "error": "", "message": "You approved version 1.",
        }, request=request)
        assert CSRF.sub(r"\1", answer.content.decode()) == CSRF.sub(r"\1", fresh)
        assert f'data-status="{view.proposal.status}"' in fresh

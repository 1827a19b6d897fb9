"""Real concurrency on PostgreSQL: many threads, each with its own connection, deciding at once.

Exactly one outcome each time: one Approval per owner, one audit event per approval, one transition,
one Execution. (SQLite has no row locks; these tests need PostgreSQL.)
"""

import threading

import pytest
from django.db import connection

from harvester import approvals
from harvester.models import Approval, AuditEvent, Execution, HarvestProposal
from lots.models import Transaction
from tests.approvals.factories import make_proposal

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL: run with scripts/test")


def in_parallel(calls) -> list[str]:
    """Start every call at the same moment, each in its own thread and connection; 'ok' or the error."""
    barrier = threading.Barrier(len(calls))
    results: list[str] = []

    def run(call):
        try:
            barrier.wait()
            call()
            results.append("ok")
        except Exception as exc:  # the outcome is what we assert on
            results.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == len(calls)
    return results


def test_twenty_threads_approving_a_joint_proposal_give_one_approval_per_owner_and_one_transition(world, policy):
    p = make_proposal(world, world.joint)
    calls = [
        (lambda u=user: approvals.proposal_approve(proposal=p, user=u, version=1))
        for user in [world.alex, world.jordan] * 10
    ]
    results = in_parallel(calls)
    assert results.count("ok") == 2, results
    assert all(r == "ok" or r.startswith("ProposalConflict") for r in results), results
    assert sorted(Approval.objects.filter(proposal=p).values_list("owner__name", flat=True)) == ["Alex", "Jordan"]
    assert HarvestProposal.objects.get(pk=p.pk).status == "approved"
    events = AuditEvent.objects.filter(action="proposal.approve", object_id=str(p.pk))
    assert events.count() == 2
    assert [e.after["status"] for e in events].count("approved") == 1


def test_twenty_double_submits_of_one_approval_record_it_once(world, policy):
    p = make_proposal(world, world.alex_ind)
    results = in_parallel([lambda: approvals.proposal_approve(proposal=p, user=world.alex, version=1)] * 20)
    assert results.count("ok") == 1, results
    assert Approval.objects.filter(proposal=p).count() == 1
    assert AuditEvent.objects.filter(action="proposal.approve", object_id=str(p.pk)).count() == 1


def test_a_double_submitted_execution_executes_once(world, policy):
    p = make_proposal(world, world.alex_ind, status="approved")
    results = in_parallel([lambda: approvals.proposal_execute(proposal=p, user=world.advisor)] * 10)
    assert results.count("ok") == 1, results
    assert all("already executed" in r for r in results if r != "ok"), results
    assert Execution.objects.filter(proposal=p).count() == 1
    assert Transaction.objects.filter(source_file=f"proposal:{p.pk}").count() == 2
    assert AuditEvent.objects.filter(action="proposal.execute").count() == 1

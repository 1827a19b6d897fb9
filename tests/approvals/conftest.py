import pytest

from tests.approvals.factories import acknowledged_policy


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in-process (emails, ledger recomputes) when their on-commit callbacks run."""
    from harvester.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


@pytest.fixture
def policy(world):
    """Version 1, acknowledged by everyone: both joint owners approve, all trustees, no discretion."""
    return acknowledged_policy(world)

"""A round trip through a real Celery worker and the real Redis broker."""

from decimal import Decimal

import pytest

from lots.models import Disposal, Lot

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_recomputes_the_ledger_in_a_worker(world, celery_worker_thread):
    from lots.tasks import ledger_recompute_task

    world.trade(world.alex_ind, "VTI", "2025-01-02", "buy", "10", "100")
    world.trade(world.alex_ind, "VTI", "2025-02-03", "sell", "4", "90")
    result = ledger_recompute_task.delay(world.household.pk).get(timeout=30)
    assert result == {"household_id": world.household.pk, "open_lots": 1, "disposals": 1}
    assert Lot.objects.get().quantity == Decimal("6")
    assert Disposal.objects.get().gain_loss == Decimal("-40.00")


def test_it_enqueues_the_recompute_only_after_commit(world, celery_worker_thread):
    """delay_on_commit: a rolled-back change never reaches the worker."""
    from django.db import transaction

    from lots.ledger import ledger_recompute_on_commit

    world.trade(world.jordan_ind, "VEA", "2025-01-02", "buy", "3", "50")
    with transaction.atomic():
        ledger_recompute_on_commit(world.household.pk)
        assert not Lot.objects.exists()
    import time

    for _ in range(100):
        if Lot.objects.exists():
            break
        time.sleep(0.1)
    assert Lot.objects.get().cost_basis == Decimal("150.00")

"""What the scan must not depend on: the order the database returns a household's lots in."""

import random
from dataclasses import replace

from harvester.core import bench, scan


def test_the_order_lots_come_in_changes_nothing_the_scan_proposes_refuses_or_skips():
    """A chunk's lots come back in no particular order (by account from an index scan, by page from a
    sequential one): proposals, refusals and the skipped positions with their reasons stay the same."""
    rng = random.Random(7)
    paths = bench.price_paths(random.Random(7))
    proposed = 0
    for index in range(30):
        snapshot = bench.household(index, 80, rng, paths)
        lots = list(snapshot.lots)
        rng.shuffle(lots)
        first, second = scan(snapshot, bench.AS_OF), scan(replace(snapshot, lots=tuple(lots)), bench.AS_OF)
        assert first.proposals == second.proposals and first.refusals == second.refusals
        assert sorted(first.skipped, key=repr) == sorted(second.skipped, key=repr)
        proposed += len(first.proposals)
    assert proposed  # the generated households do harvest

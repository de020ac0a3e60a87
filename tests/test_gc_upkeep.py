"""Garbage collection upkeep: survivors are frozen out of the collector's walks, and
garbage frozen with them is still reclaimed by the next full collection."""

import gc
import weakref

from chat.sockets.upkeep import GC_FREEZE_EVERY, GC_FULL_EVERY, collect_garbage


class Cycle:
    def __init__(self):
        self.me = self


def test_frozen_garbage_is_reclaimed_by_the_next_full_collection():
    try:
        cycle = Cycle()
        ref = weakref.ref(cycle)
        collect_garbage(GC_FREEZE_EVERY)  # the cycle is alive now: frozen with the rest
        assert gc.get_freeze_count() > 0
        del cycle  # it becomes garbage while frozen
        gc.collect()
        assert ref() is not None  # automatic collections no longer walk it
        collect_garbage(GC_FREEZE_EVERY)
        assert ref() is not None
        collect_garbage(GC_FULL_EVERY)
        assert ref() is None
    finally:
        gc.unfreeze()

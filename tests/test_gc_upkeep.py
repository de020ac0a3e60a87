"""Garbage collection upkeep: survivors are frozen out of the collector's walks, and
garbage frozen with them is still reclaimed by the next full collection."""

import gc
import weakref

from chat.live import upkeep
from chat.live.upkeep import (
    GC_FREEZE_EVERY,
    GC_FREEZE_NEW_SOCKETS,
    GC_FULL_EVERY,
    collect_garbage,
)


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


def test_a_burst_of_new_sockets_is_frozen_without_waiting_for_the_next_tick():
    try:
        gc.unfreeze()
        upkeep._sockets_at_freeze = 0
        collect_garbage(GC_FREEZE_EVERY + 1, sockets=GC_FREEZE_NEW_SOCKETS - 1)
        assert gc.get_freeze_count() == 0  # not yet: a few new sockets wait for the tick
        collect_garbage(GC_FREEZE_EVERY + 2, sockets=GC_FREEZE_NEW_SOCKETS)
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        collect_garbage(GC_FREEZE_EVERY + 3, sockets=GC_FREEZE_NEW_SOCKETS + 1)
        assert gc.get_freeze_count() == 0  # counted from the last freeze
    finally:
        gc.unfreeze()

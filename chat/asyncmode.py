"""The only module that imports gevent or eventlet: selects the async mode and patches.

`wsgi.py` calls `setup()` before anything else is imported, so the standard
library is monkey-patched before pymongo, redis or Flask create sockets.
"""

import os

MODES = ("gevent", "threading", "eventlet")
_mode: str | None = None


def setup(mode: str | None = None) -> str:
    """Monkey-patch for `mode` (default: CHAT_ASYNC_MODE, else gevent) and remember it."""
    global _mode
    mode = (mode or os.environ.get("CHAT_ASYNC_MODE") or "gevent").lower()
    if mode not in MODES:
        raise ValueError(f"CHAT_ASYNC_MODE must be one of {MODES}, not {mode!r}")
    if mode == "gevent":
        import gevent
        from gevent import monkey

        # No spawning stack and tree locals recorded per greenlet (3 greenlets per socket).
        gevent.config.track_greenlet_tree = False
        monkey.patch_all()
    elif mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()
        from eventlet import tpool

        tpool.set_num_threads(BLOCKING_THREADS)
    _mode = mode
    return mode


def current() -> str:
    """The mode chosen by `setup()`; `threading` when nothing was patched (tests, CLI)."""
    return _mode or "threading"


# OS threads for CPU-bound calls: a core is left to the event loop (argon2 releases the
# GIL, so more threads than cores take the loop's core), and at most this many 19 MiB
# hashes are in memory at once; a login storm queues instead.
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
BLOCKING_THREADS = max(1, (CORES or 1) - 1)
_pool = None  # gevent: a pool of BLOCKING_THREADS threads; threading: a semaphore


def run_blocking(fn, *args):
    """Run a CPU-bound call (password hashing) without stalling the green-thread hub, on
    one of BLOCKING_THREADS threads (the rest wait their turn)."""
    global _pool
    if _mode == "gevent":
        import gevent.threadpool

        _pool = _pool or gevent.threadpool.ThreadPool(BLOCKING_THREADS)
        return _pool.apply(fn, args)
    if _mode == "eventlet":
        from eventlet import tpool

        return tpool.execute(fn, *args)  # (its pool has BLOCKING_THREADS: setup())
    import threading

    _pool = _pool or threading.BoundedSemaphore(BLOCKING_THREADS)
    with _pool:
        return fn(*args)

"""Combining concurrent database calls into one: a Combiner runs one batch for every
caller queued (the group commit, combined reads of rooms, sessions and presence)."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(eq=False)
class Pending:
    """One caller's item in a Combiner batch; the batch function finishes it."""

    item: Any
    result: Any = None
    error: Exception | None = None
    done: bool = False

    def finish(self, result: Any = None, error: Exception | None = None) -> None:
        self.result, self.error, self.done = result, error, True


class Combiner:
    """Concurrent calls in this process share one database operation.

    A caller queues its item and waits for the lock; whoever holds it runs `batch_fn`
    on everything queued so far (up to `max_batch`). Each batch starts after its items
    were queued, so a caller never gets a result older than its call. With no
    concurrency a batch is the caller's own item: no added wait.
    """

    def __init__(self, batch_fn: Callable[[list[Pending]], None], max_batch: int = 200):
        self.batch_fn, self.max_batch = batch_fn, max_batch
        self._queue: list[Pending] = []
        self._queue_lock = threading.Lock()  # real threads in tests and the CLI
        self._run_lock = threading.Lock()  # one batch in flight

    def submit(self, item: Any) -> Any:
        """The item's result, or its error raised."""
        pending = Pending(item)
        with self._queue_lock:
            self._queue.append(pending)
        while not pending.done:
            with self._run_lock:
                if pending.done:  # served by the batch before: leave at once
                    break
                with self._queue_lock:
                    batch = self._queue[: self.max_batch]
                    del self._queue[: self.max_batch]
                try:
                    if batch:
                        self.batch_fn(batch)
                except Exception as exc:  # nobody waits forever on a failed batch
                    for p in batch:
                        if not p.done:
                            p.finish(error=exc)
        if pending.error is not None:
            raise pending.error
        return pending.result

    def queued(self) -> int:
        with self._queue_lock:
            return len(self._queue)


class KeyedReads:
    """Concurrent reads of one document each by `field` share one `$in` query.

    Every send reads its room and every socket connect its user and session: under
    load (a reconnect storm, a busy process) hundreds of such reads become a few
    queries instead of hundreds, each paying the driver's per-operation cost.
    """

    def __init__(self, collection: Callable[[], Any], projection: dict | None = None):
        self.collection, self.projection = collection, projection
        self.combiner = Combiner(self._read, max_batch=200)

    def get(self, key: Any) -> dict | None:
        """The document whose `_id` is `key`, or None."""
        return self.combiner.submit(key)

    def _read(self, batch: list[Pending]) -> None:
        keys = list({p.item for p in batch})
        query = {"_id": keys[0]} if len(keys) == 1 else {"_id": {"$in": keys}}
        found = self.collection().find(query, self.projection, batch_size=len(keys))
        docs = {doc["_id"]: doc for doc in found}
        for p in batch:
            p.finish(docs.get(p.item))

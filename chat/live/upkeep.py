"""Per-process background upkeep: typing and token expiry, presence heartbeat and
reaping, and garbage collection kept off the send path."""

import gc
import logging
import time
from collections.abc import Callable

from flask import Flask, current_app

from chat.events import PresenceChanged
from chat.extensions import socketio
from chat.live import roomcache
from chat.live.publish import NAMESPACE, publish
from chat.live.registry import registry
from chat.live.sockets import states, stop_typing
from chat.metrics import metrics

log = logging.getLogger(__name__)
HEARTBEAT_EVERY = 2  # seconds between presence heartbeats; keep well below PRESENCE_PROCESS_TTL
GC_FREEZE_EVERY = 10  # seconds between freezing what survived (see collect_garbage)
GC_FREEZE_NEW_SOCKETS = 500  # ...or as soon as this many sockets connected since
GC_FULL_EVERY = 600  # seconds between full collections of everything, frozen or not
NO_AUTOMATIC_FULL = 1_000_000  # gen-2 threshold: full collections come from here only
_sockets_at_freeze = 0


def init_app(
    app: Flask, rooms_of: Callable[[str], list[str]], jobs: dict[int, Callable[[], object]]
) -> None:
    """Handed down by the transport (the live layer does not reach up to the services):
    `rooms_of` gives a user's room ids, for telling a gone user's rooms; `jobs` are the
    domain's periodic work, by period in seconds (the sync log's archiving, say)."""
    app.extensions["rooms_of"] = rooms_of
    app.extensions["upkeep_jobs"] = jobs


def ensure_running(app: Flask) -> None:
    """Start the loop once per app, after marking this process alive."""
    if app.extensions.get("upkeep"):
        return
    app.extensions["upkeep"] = True
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, NO_AUTOMATIC_FULL)
    _heartbeat()
    collect_garbage(0)
    socketio.start_background_task(roomcache.follow, app)
    socketio.start_background_task(_loop, app)


def _loop(app: Flask) -> None:
    tick = 0
    while True:
        socketio.sleep(1)
        tick += 1
        with app.app_context():
            try:
                expire_sockets(time.time())
                closed = socketio.server.close_unauthenticated(NAMESPACE)
                metrics().refused.labels("auth_timeout").inc(closed)
                cut_slow_consumers(app.config["SOCKET_MAX_QUEUE"])
                if tick % HEARTBEAT_EVERY == 0:
                    _heartbeat()
                for every, job in app.extensions["upkeep_jobs"].items():
                    if tick % every == 0:
                        job()
                collect_garbage(tick, len(states()))
            except Exception:  # the loop must outlive a Redis or database hiccup
                log.exception("socket upkeep failed; retrying")


def collect_garbage(tick: int, sockets: int = 0) -> None:
    """Keep full garbage collections off the send path.

    CPython's full collection walks every tracked object; with thousands of sockets
    (~70 objects each) that stalled the process for 200+ ms every few seconds under
    load (the p99 of every rooms step). Every 10 s, after a young collection, what
    survived (sockets, their greenlets, the app) is frozen: automatic collections
    then walk only newer objects. Every GC_FULL_EVERY seconds everything is thawed
    and collected once, so garbage that was frozen is reclaimed then. A burst of
    new sockets (GC_FREEZE_NEW_SOCKETS since the last freeze) is frozen at once.

    CPython's own full (generation 2) collections are switched off while the loop
    runs (NO_AUTOMATIC_FULL): even over unfrozen objects only, they came every
    ~2 s under load and took 80 ms on average with 10,000 sockets, 8 of 39 over
    100 ms (measured with chat_gc_pause_seconds); young collections still run.
    """
    global _sockets_at_freeze
    _sockets_at_freeze = min(_sockets_at_freeze, sockets)
    if tick % GC_FULL_EVERY == 0:
        gc.unfreeze()
        gc.collect()
    elif tick % GC_FREEZE_EVERY == 0 or sockets >= _sockets_at_freeze + GC_FREEZE_NEW_SOCKETS:
        gc.collect(1)
    else:
        return
    gc.freeze()
    _sockets_at_freeze = sockets


def _heartbeat() -> None:
    for user_id in registry().heartbeat():
        went_offline(user_id)


def went_offline(user_id: str) -> None:
    rooms = tuple(current_app.extensions["rooms_of"](user_id))
    publish(PresenceChanged("", user_id=user_id, online=False, room_ids=rooms))


def expire_sockets(now: float) -> None:
    """Disconnect local sockets whose access token expired; end stale typing."""
    sockets = states()
    for state in sockets.expired(now):
        socketio.server.disconnect(state.sid, namespace=NAMESPACE)
    for sid in list(sockets.typing):
        typist = sockets.get(sid)
        if typist is None:
            sockets.typing.discard(sid)
            continue
        stale = [room for room, deadline in typist.typing.items() if deadline <= now]
        if stale:
            stop_typing(sid, typist, stale)


def cut_slow_consumers(max_queue: int) -> None:
    """Disconnect clients whose outbound queue passed the cap: memory stays bounded,
    and the client recovers what it missed with `sync` after reconnecting. The sockets
    are those a send marked (sockets.guard.GuardedSocket.send) and still over the cap."""
    engine = socketio.server.eio
    marked, engine.overflowing = engine.overflowing, set()
    for eio_sid in marked:
        sock = engine.sockets.get(eio_sid)
        if sock is not None and sock.queue.qsize() > max_queue:
            log.warning("slow consumer cut off", extra={"event": "slow_consumer"})
            metrics().slow_consumer_cuts.inc()
            socketio.server.close_now(eio_sid, abort=True)

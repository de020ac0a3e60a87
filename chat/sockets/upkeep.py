"""Per-process background upkeep: typing and token expiry, presence heartbeat and
reaping, and garbage collection kept off the send path."""

import gc
import logging
import time

from flask import Flask

from chat import realtime
from chat.events import PresenceChanged
from chat.extensions import socketio
from chat.realtime import NAMESPACE
from chat.services import presence
from chat.sockets.common import states, stop_typing

log = logging.getLogger(__name__)
HEARTBEAT_EVERY = 2  # seconds between presence heartbeats; keep well below PRESENCE_PROCESS_TTL
GC_FREEZE_EVERY = 10  # seconds between freezing what survived (see collect_garbage)
GC_FREEZE_NEW_SOCKETS = 500  # ...or as soon as this many sockets connected since
GC_FULL_EVERY = 600  # seconds between full collections of everything, frozen or not
_sockets_at_freeze = 0


def ensure_running(app: Flask) -> None:
    """Start the loop once per app, after marking this process alive."""
    if app.extensions.get("upkeep"):
        return
    app.extensions["upkeep"] = True
    _heartbeat()
    collect_garbage(0)
    socketio.start_background_task(_loop, app)


def _loop(app: Flask) -> None:
    tick = 0
    while True:
        socketio.sleep(1)
        tick += 1
        with app.app_context():
            try:
                expire_sockets(time.time())
                socketio.server.close_unauthenticated(NAMESPACE)
                cut_slow_consumers(app.config["SOCKET_MAX_QUEUE"])
                if tick % HEARTBEAT_EVERY == 0:
                    _heartbeat()
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
    for user_id in presence.registry().heartbeat():
        went_offline(user_id)


def went_offline(user_id: str) -> None:
    rooms = tuple(presence.user_room_ids(user_id))
    realtime.publish(PresenceChanged("", user_id=user_id, online=False, room_ids=rooms))


def expire_sockets(now: float) -> None:
    """Disconnect local sockets whose access token expired; end stale typing."""
    for sid, state in list(states().items()):
        if now >= state.expires:
            socketio.server.disconnect(sid, namespace=NAMESPACE)
            continue
        stale = [room for room, deadline in state.typing.items() if deadline <= now]
        if stale:
            stop_typing(sid, state, stale)


def cut_slow_consumers(max_queue: int) -> None:
    """Disconnect clients whose outbound queue passed the cap: memory stays bounded,
    and the client recovers what it missed with `sync` after reconnecting.
    """
    for eio_sid, sock in list(socketio.server.eio.sockets.items()):
        queue = getattr(sock, "queue", None)
        if queue is not None and queue.qsize() > max_queue:
            log.warning("slow consumer cut off", extra={"event": "slow_consumer"})
            socketio.server.close_now(eio_sid, abort=True)

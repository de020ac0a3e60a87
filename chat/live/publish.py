"""Deliver domain events: emit to Socket.IO channels after the write, then adjust
which sockets listen where (joins, kicks, logouts), on every process.

Delivery is at-most-once by design (Socket.IO keeps no buffer); clients fill
gaps with history or `sync`, so a failed emit is logged and never fails the
write that caused it.
"""

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from flask import current_app

from chat import events, plugin_manager
from chat.events import Event, room_channel, user_channel
from chat.extensions import socketio
from chat.live import origin, registry
from chat.metrics import metrics

log = logging.getLogger(__name__)
NAMESPACE = "/chat"
__all__ = ["NAMESPACE", "publish", "publish_at_most", "room_channel", "user_channel"]


def publish(event: Event) -> None:
    """Emit `event` to its rooms, then apply its effect on live sockets."""
    if socketio.server is None:
        return
    try:
        if event.name and event.channels():
            _emit(event)
        action = ACTIONS.get(type(event))
        if action:
            action(event)
    except Exception:  # a broken queue must not fail a stored write
        log.exception("could not publish %s", type(event).__name__)
    if plugin_manager.plugin_manager().hook.track_event.get_hookimpls():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        socketio.start_background_task(_track, app, event)


class AtMost:
    """Publish an event of one key at most once per `every` seconds, on this process:
    the first at once, then the newest of those that came meanwhile when the interval
    ends (nothing is lost but the intermediate states)."""

    def __init__(self, every: float):
        self.every = every
        self.sent: dict[str, float] = {}  # key -> when the last one went out
        self.waiting: dict[str, Event] = {}  # key -> the newest not sent yet

    def publish(self, key: str, event: Event) -> None:
        now = time.monotonic()
        if key in self.waiting:
            self.waiting[key] = event  # its timer sends the newest
            return
        if now - self.sent.get(key, float("-inf")) >= self.every:
            self.sent[key] = now
            publish(event)
            if len(self.sent) > 10_000:  # forget keys quiet for a whole interval
                self.sent = {k: t for k, t in self.sent.items() if now - t < self.every}
            return
        self.waiting[key] = event
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        wait = self.every - (now - self.sent[key])
        socketio.start_background_task(self._later, app, key, wait)

    def _later(self, app, key: str, wait: float) -> None:
        socketio.sleep(wait)
        with app.app_context():
            self.sent[key] = time.monotonic()
            publish(self.waiting.pop(key))


def publish_at_most(key: str, event: Event, every: float = 1.0) -> None:
    """`publish(event)`, coalesced per `key`: see AtMost (one per app and interval)."""
    limiters = current_app.extensions.setdefault("publish_at_most", {})
    limiter = limiters.get(every) or limiters.setdefault(every, AtMost(every))
    limiter.publish(key, event)


def _track(app, event: Event) -> None:
    """track_event hooks, in the background and isolated from each other."""
    with app.app_context():
        plugin_manager.call("track_event", event=event)


def _emit(event: Event) -> None:
    channels = event.channels()
    source = origin.current() if event.skips_origin else None
    skip: str | list[str] | None = source
    if event.hidden_from_blockers:
        known = getattr(event, "blocked_by", None)
        hidden = _blockers_sockets(getattr(event, "user_id", ""), known)
        if hidden:
            skip = [*([source] if source else []), *hidden]
    socketio.emit(
        event.name,
        event.payload(),
        to=channels[0] if len(channels) == 1 else channels,
        namespace=NAMESPACE,
        skip_sid=skip,
    )


def _blockers_sockets(user_id: str, known: tuple[str, ...] | None = None) -> list[str]:
    """The sockets, on every process, of the users who blocked `user_id`: `known` when
    the publisher has just read them, else the domain's answer, handed down by the
    transport (`app.extensions["blockers_of"]`)."""
    if known is not None:
        blockers: Iterable[str] = known
    else:
        blockers = current_app.extensions["blockers_of"](user_id) if user_id else ()
    return [sid for b in blockers for sid in registry.registry().user_sockets(b)]


def _message_created(event: events.MessageCreated) -> None:
    m = metrics()
    m.message_stored()
    stored = event.message["timestamp"]
    m.delivery_latency.observe(max(0.0, time.time() - _epoch(stored)))


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _subscribe(event: events.MemberJoined) -> None:
    _follow(event.user_id, event.room_id)


def _created(event: events.RoomCreated) -> None:
    """Its members' sockets follow them into a new room (its maker's; a direct room's
    two), wherever it was made (REST, another device)."""
    for user_id in event.room.get("participants", ()):
        _follow(user_id, event.room_id)


def _follow(user_id: str, room_id: str) -> None:
    """The member's sockets follow them into the room, but for those of API tokens
    limited to other rooms (the domain's answer: `app.extensions["sessions_outside"]`)."""
    sockets = registry.registry()
    outside = current_app.extensions["sessions_outside"](user_id, room_id)
    kept = {sid for session in outside for sid in sockets.session_sockets(session)}
    for sid in sockets.user_sockets(user_id) - kept:
        socketio.server.enter_room(sid, room_channel(room_id), namespace=NAMESPACE)


def _unsubscribe(event: events.MemberLeft) -> None:
    for sid in registry.registry().user_sockets(event.user_id):
        socketio.server.leave_room(sid, room_channel(event.room_id), namespace=NAMESPACE)


def _disconnect_session(event: events.SessionRevoked) -> None:
    for sid in registry.registry().session_sockets(event.session):
        socketio.server.disconnect(sid, namespace=NAMESPACE)


ACTIONS: dict[type[Event], Callable[[Any], None]] = {
    events.MessageCreated: _message_created,
    events.MemberJoined: _subscribe,
    events.RoomCreated: _created,
    events.MemberLeft: _unsubscribe,
    events.SessionRevoked: _disconnect_session,
}

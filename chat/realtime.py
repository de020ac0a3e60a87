"""Deliver domain events to Socket.IO channels, after the write that caused them."""

import logging

from chat.events import Event

log = logging.getLogger(__name__)
NAMESPACE = "/chat"


def room_channel(room_id: str) -> str:
    return f"room:{room_id}"


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


def publish(event: Event) -> None:
    """Emit `event` to its room's channel (every process, via the message queue).

    Delivery is at-most-once by design; clients fill gaps with history or `sync`,
    so a failed emit is logged and never fails the write that caused it.
    """
    from chat.extensions import socketio

    if socketio.server is None:
        return
    try:
        socketio.emit(
            event.name,
            event.payload(),
            to=room_channel(event.room_id),
            namespace=NAMESPACE,
            skip_sid=getattr(event, "skip_sid", None),
        )
    except Exception:  # a broken queue must not fail a stored message
        log.exception("could not publish %s to room %s", event.name, event.room_id)

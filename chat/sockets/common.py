"""What every /chat handler shares: per-socket state, the ack envelope, errors, limits."""

import logging
import math
import time
from dataclasses import dataclass, field
from functools import cache, wraps

import marshmallow as ma
from flask import current_app, request

from chat import realtime
from chat.errors import (
    ChatError,
    RateLimited,
    Unauthorized,
    ValidationError,
    error_body,
    translate,
)
from chat.events import TypingChanged
from chat.extensions import socketio
from chat.metrics import metrics
from chat.models import User
from chat.realtime import NAMESPACE
from chat.services.limits import TokenBucket

log = logging.getLogger("chat.security")


@dataclass
class SocketState:
    """What the server remembers about one live socket (this process only)."""

    user: User
    session: str
    expires: float
    typing: dict[str, float] = field(default_factory=dict)  # room id -> deadline
    typing_bucket: TokenBucket = field(default_factory=lambda: TokenBucket(2, 5))
    refusals: int = 0  # rate-limit refusals in a row


def states() -> dict[str, SocketState]:
    return current_app.extensions["sockets"]


def current_state() -> SocketState:
    """This socket's state; an expired token ends the socket after the ack."""
    state = states().get(request.sid)
    if state is None:
        raise Unauthorized("Not connected.")
    if time.time() >= state.expires:
        socketio.start_background_task(
            _disconnect_later, current_app._get_current_object(), request.sid
        )
        raise Unauthorized("Token has expired.")
    return state


def _disconnect_later(app, sid: str) -> None:
    socketio.sleep(0.2)  # let the refusal ack go out first
    with app.app_context():
        socketio.server.disconnect(sid, namespace=NAMESPACE)


@cache
def _instance(schema: type[ma.Schema]) -> ma.Schema:
    """One instance per schema: building one per event cost ~10% of a send's CPU."""
    return schema()


def load(schema: type[ma.Schema], payload) -> dict:
    """Validate an event payload; errors become the contract's validation_error."""
    try:
        return _instance(schema).load(payload if payload is not None else {})
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        fields = {k: v if isinstance(v, list) else [str(v)] for k, v in messages.items()}
        raise ValidationError(fields=fields) from None


def event(name: str, schema: type[ma.Schema]):
    """Register a /chat handler: state check, schema load, ack {ok: true, ...}, metrics.

    The handler is called as fn(state, data) and returns the ack's extra fields.
    """

    def decorate(fn):
        @socketio.on(name, namespace=NAMESPACE)
        @wraps(fn)
        def wrapper(payload=None, *_ignored):
            with metrics().handling(name):
                state = current_state()
                return {"ok": True, **(fn(state, load(schema, payload)) or {})}

        return wrapper

    return decorate


def rate_limit(state: SocketState, wait: float) -> None:
    """Refuse with rate_limited when `wait` > 0; sustained abuse ends the socket."""
    if not wait:
        state.refusals = 0
        return
    state.refusals += 1
    log.info("socket rate limited", extra={"event": "rate_limited", "user": str(state.user.id)})
    if state.refusals >= current_app.config["SOCKET_ABUSE_LIMIT"]:
        app = current_app._get_current_object()
        socketio.start_background_task(_disconnect_later, app, request.sid)
    raise RateLimited("Slow down.", retry_after=max(1, math.ceil(wait)))


@socketio.on_error(NAMESPACE)
def ack_error(error: Exception) -> dict:
    """The socket half of the error envelope: {ok: false, error: {code, message, ...}}."""
    known = translate(error)
    if known is not None:
        if not isinstance(error, ChatError):
            log.warning("%s in a socket handler: %s", known.code, error)
        return {"ok": False, "error": known.to_dict()}
    log.exception("unhandled error in socket handler", exc_info=error)
    return {"ok": False, "error": error_body("internal_error", "Internal server error.")}


def stop_typing(sid: str, state: SocketState, rooms: list[str] | None = None) -> None:
    """End the socket's typing in `rooms` (default: all), telling those rooms."""
    for room_id in list(state.typing if rooms is None else rooms):
        if state.typing.pop(room_id, None) is not None:
            user = state.user
            realtime.publish(
                TypingChanged(room_id, str(user.id), user.username, False, skip_sid=sid)
            )

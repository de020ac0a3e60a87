"""What every /chat handler shares: the event decorator, the ack envelope, errors,
limits (the sockets' own state is chat.live.sockets)."""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, wraps

import marshmallow as ma
from flask import current_app

from chat.errors import (
    ChatError,
    RateLimited,
    Unauthorized,
    ValidationError,
    error_body,
    translate,
)
from chat.extensions import socketio
from chat.live import limits, origin
from chat.live.publish import NAMESPACE
from chat.live.sockets import SocketState, states
from chat.metrics import metrics
from chat.services import policy

log = logging.getLogger("chat.security")


def current_state(sid: str) -> SocketState:
    """The socket's state; an expired token ends the socket after the ack."""
    state = states().get(sid)
    if state is None:  # never left connected without state (and so without limits)
        _disconnect_soon(sid)
        raise Unauthorized("Not connected.")
    if time.time() >= state.expires:
        _disconnect_soon(sid)
        raise Unauthorized("Token has expired.")
    return state


def _disconnect_soon(sid: str) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    socketio.start_background_task(_disconnect_later, app, sid)


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


@dataclass(frozen=True)
class ClientEvent:
    """A registered /chat event, as docs/asyncapi.yaml documents it."""

    name: str
    schema: type[ma.Schema]
    ack: type[ma.Schema] | None  # the fields `{ok: true, ...}` adds (None: none)
    action: str  # the policy's name for it (x-action in docs/asyncapi.yaml)
    handler: Callable = field(repr=False)


CLIENT_EVENTS: dict[str, ClientEvent] = {}  # by name, core and plugins (one app per process)


def event(
    name: str,
    schema: type[ma.Schema],
    *,
    action: str,
    bucket: str | None = None,
    ack: type[ma.Schema] | None = None,
):
    """Register a /chat handler: state check, admission to `action` (the policy's name
    for what it does: services/policy; the service decides it again, whole), the
    user's event budget, schema load, ack {ok: true, ...} (`ack` documents the extra
    fields), metrics.

    Every event of a user, of any kind, on any process, takes a token from one budget
    (SOCKET_EVENT_RATE / SOCKET_EVENT_BURST); `bucket` names a stricter one the event
    also takes from (`send`: SOCKET_SEND_RATE / SOCKET_SEND_BURST), in the same call.
    The handler is called as fn(state, data) and returns the ack's extra fields; it runs
    in an app context, not a request context (`state.sid` is the socket, `state.actor`
    who acts).
    """

    def decorate(fn):
        @wraps(fn)
        def wrapper(sid, payload=None, *_ignored):
            with origin.socket(sid), metrics().handling(name):
                state = current_state(sid)
                policy.admit(state.actor, action)
                rate_limit(state, limits.take(*_budgets(str(state.actor.id), bucket)))
                return {"ok": True, **(fn(state, load(schema, payload)) or {})}

        wrapper.lean = True  # extensions.ChatSocketIO: sid argument, no request context
        socketio.on(name, namespace=NAMESPACE)(wrapper)
        CLIENT_EVENTS[name] = ClientEvent(name, schema, ack, action, fn)
        return wrapper

    return decorate


def _budgets(user_id: str, bucket: str | None) -> list[tuple[str, float, int]]:
    config = current_app.config
    budgets = [(f"events:{user_id}", config["SOCKET_EVENT_RATE"], config["SOCKET_EVENT_BURST"])]
    if bucket == "send":
        budgets.append((f"send:{user_id}", config["SOCKET_SEND_RATE"], config["SOCKET_SEND_BURST"]))
    return budgets


def rate_limit(state: SocketState, wait: float) -> None:
    """Refuse with rate_limited when `wait` > 0. Each accepted event makes up for one
    refusal; SOCKET_ABUSE_LIMIT refusals not made up for end the socket (a client that
    sends ten times its budget is cut off within a second, one that backs off is not)."""
    if not wait:
        state.refusals = max(0, state.refusals - 1)
        return
    state.refusals += 1
    metrics().rate_limited.labels("socket").inc()
    log.info("socket rate limited", extra={"event": "rate_limited", "user": str(state.actor.id)})
    if state.refusals >= current_app.config["SOCKET_ABUSE_LIMIT"]:
        _disconnect_soon(state.sid)
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

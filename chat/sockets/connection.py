"""Connecting and disconnecting: token check before anything runs, channels, presence."""

import logging
from typing import NoReturn

from bson import ObjectId
from flask import current_app, request
from flask_socketio import ConnectionRefusedError, join_room

from chat.actor import Actor
from chat.errors import Forbidden, InsufficientScope, Unauthorized
from chat.events import PresenceChanged
from chat.extensions import socketio
from chat.live import origin, upkeep
from chat.live.publish import NAMESPACE, publish, room_channel, user_channel
from chat.live.registry import registry
from chat.live.sockets import SocketState, states, stop_typing
from chat.metrics import metrics
from chat.services import auth, policy, presence, tokens

log = logging.getLogger("chat.security")


def _token(auth_payload) -> str | None:
    """The access token from the auth payload, ?token=, or an Authorization header."""
    if isinstance(auth_payload, dict) and isinstance(auth_payload.get("token"), str):
        return auth_payload["token"]
    if request.args.get("token"):
        return request.args["token"]
    header = request.headers.get("Authorization", "")
    return header[7:] if header.startswith("Bearer ") else None


@socketio.on("connect", namespace=NAMESPACE)
def connect(auth_payload=None):
    token = _token(auth_payload)
    try:
        actor, expires = _authenticate(token)
    except (Unauthorized, InsufficientScope, Forbidden) as exc:  # a plugin's rule too
        log.info(
            "socket refused",
            extra={"event": "auth_refused", "reason": exc.message, "remote": request.remote_addr},
        )
        _refuse(exc.code)
    _check_capacity(str(actor.id))
    sid, user_id, session = request.sid, str(actor.id), actor.credential.session
    try:
        room_ids = presence.user_room_ids(user_id)
    except Exception:  # the database is down: refuse now, the client retries
        log.warning("socket refused: rooms unreadable", extra={"event": "refused"})
        _refuse("unavailable")
    states().add(SocketState(sid=sid, actor=actor, expires=expires))
    if actor.credential.rooms is None:  # a token of some rooms: not the user's own
        join_room(user_channel(user_id))
    for room_id in room_ids:
        if actor.credential.may_use(ObjectId(room_id)):
            join_room(room_channel(room_id))
    metrics().connected.inc()
    if _registered(sid, user_id, session) == 1:
        rooms = tuple(room_ids)
        blocked_by = tuple(str(b) for b in actor.user.blocked_by)  # read by this connect
        event = PresenceChanged(
            "", user_id=user_id, online=True, room_ids=rooms, username=actor.username,
            blocked_by=blocked_by,
        )  # fmt: skip
        with origin.socket(sid):  # the others in its rooms learn; it knows
            publish(event)


def _authenticate(token: str | None) -> tuple[Actor, float]:
    """(actor, expiry) of an access token or an API token admitted to `connect` (a
    socket delivers messages: messages:read); API tokens' sockets have the session
    `tok:<id>`."""
    if not token:
        raise Unauthorized("Missing token.")
    if token.startswith(tokens.PREFIX):
        actor, expires = tokens.authenticate(token)
    else:
        user, claims = auth.verify_access_token(token)
        actor, expires = Actor.session(user, claims["sid"]), claims["exp"]
    policy.admit(actor, "connect")
    return actor, expires


def _registered(sid: str, user_id: str, session: str) -> int:
    """Count the socket in presence; a Redis outage costs presence accuracy, not the chat."""
    try:
        return registry().add(sid, user_id, session)
    except Exception:
        log.warning("presence store unreachable on connect")
        return 0


def _refuse(reason: str) -> NoReturn:
    """Refuse the connection with `reason` (its data on the client), counted."""
    metrics().refused.labels(reason).inc()
    raise ConnectionRefusedError(reason)


def _check_capacity(user_id: str) -> None:
    """Refuse at once (never hang) past the per-process or per-user socket caps."""
    config = current_app.config
    if len(states()) >= config["SOCKET_MAX_CONNECTIONS"]:
        log.warning("socket refused: server full", extra={"event": "refused", "user": user_id})
        _refuse("server_busy")
    try:
        live = registry().counts([user_id])[0]
    except Exception:  # without the shared count, the per-process cap still holds
        live = 0
    if live >= config["SOCKET_MAX_PER_USER"]:
        log.info("socket refused: too many", extra={"event": "refused", "user": user_id})
        _refuse("too_many_connections")


@socketio.on("disconnect", namespace=NAMESPACE)
def disconnect(*_reason):
    state = states().pop(request.sid, None)
    if state is None:
        return
    metrics().connected.dec()
    stop_typing(request.sid, state)
    try:
        user_id, left = registry().remove(request.sid)
    except Exception:  # Redis down: the heartbeat reaping repairs presence later
        log.warning("presence store unreachable on disconnect")
        return
    if user_id and left == 0:
        upkeep.went_offline(user_id)

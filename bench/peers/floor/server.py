"""The python floor peer: a bare python-socketio server on gevent doing the benchmarked
broadcast (/chat, token in `auth`, join_room, send_message with ack, message_received to
the room) with no storage, no auth check, no plugins, no Flask: what the framework itself
costs. It runs under the product's own gunicorn configuration and transport
(`gunicorn --config python:chat.gunicorn_conf bench.peers.floor.server:app`), so the difference
to `ours` is our code.
"""

import gevent
from gevent import monkey

gevent.config.track_greenlet_tree = False  # as the product sets it (chat/asyncmode.py)
monkey.patch_all()

import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import socketio  # noqa: E402
from bson import ObjectId  # noqa: E402

NS = "/chat"
sio = socketio.Server(
    async_mode="gevent",
    namespaces=[NS],
    cors_allowed_origins=None,
    ping_interval=25,
    ping_timeout=20,
    max_http_buffer_size=64 * 1024,
)
users: dict[str, dict] = {}
seqs: dict[str, int] = {}


@sio.on("connect", namespace=NS)
def connect(sid, environ, auth=None):
    if not isinstance(auth, dict) or not isinstance(auth.get("token"), str):
        raise socketio.exceptions.ConnectionRefusedError("unauthorized")
    users[sid] = {"id": sid, "username": sid}


@sio.on("disconnect", namespace=NS)
def disconnect(sid, *_reason):
    users.pop(sid, None)


@sio.on("join_room", namespace=NS)
def join_room(sid, data=None):
    room_id = (data or {}).get("roomId")
    sio.enter_room(sid, f"room:{room_id}", namespace=NS)
    return {"ok": True, "room": {"id": room_id}}


@sio.on("send_message", namespace=NS)
def send_message(sid, data=None):
    data = data or {}
    room_id = data.get("roomId")
    seqs[room_id] = seqs.get(room_id, 0) + 1
    sender = users.get(sid, {"id": sid, "username": sid})
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    message = {
        "id": str(ObjectId()),
        "roomId": room_id,
        "seq": seqs[room_id],
        "sender": sender,
        "content": data.get("message", data.get("content")),
        "messageType": "text",
        "timestamp": now,
    }
    payload = {"message": message, "sender": sender, "timestamp": now}
    sio.emit("message_received", payload, to=f"room:{room_id}", skip_sid=sid, namespace=NS)
    return {"ok": True, "message": message}


def _health(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"ok {time.time()}".encode()]


_app = socketio.WSGIApp(sio, _health)


def app(environ, start_response):
    """No per-message deflate, as for ours and Node."""
    environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    return _app(environ, start_response)

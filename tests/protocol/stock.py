"""The reference servers of the official protocol test suites, built with stock
python-engineio and python-socketio at the versions chat runs (no chat code): what the
suites expect of a server, so that their failures against chat can be told apart from
upstream's (tests/test_protocol_suites.py). Served by gunicorn's gevent worker, as chat.

- engineio_app: an Engine.IO server at /engine.io/ that echoes every message (the
  engine.io-protocol suite's server).
- socketio_app: a Socket.IO server at /socket.io/ with the main and `/custom`
  namespaces, which emits `auth` with the handshake's payload on connect, answers
  `message` with `message-back` and acks `message-with-ack` with its arguments (the
  socket.io-protocol suite's server).
"""

import engineio
import socketio

HEARTBEAT = {"ping_interval": 1, "ping_timeout": 1}  # python-engineio: whole seconds

eio = engineio.Server(async_mode="gevent", max_http_buffer_size=1_000_000, **HEARTBEAT)


@eio.on("message")
def echo(sid, data):
    eio.send(sid, data)


engineio_app = engineio.WSGIApp(eio, engineio_path="engine.io")

sio = socketio.Server(async_mode="gevent", always_connect=True, namespaces=["/", "/custom"],
                      max_http_buffer_size=1_000_000, **HEARTBEAT)  # fmt: skip


def _register(namespace: str) -> None:
    @sio.on("connect", namespace=namespace)
    def connect(sid, environ, auth=None):
        sio.emit("auth", auth or {}, to=sid, namespace=namespace)

    @sio.on("message", namespace=namespace)
    def message(sid, *args):
        sio.emit("message-back", args if len(args) != 1 else args[0], to=sid, namespace=namespace)

    @sio.on("message-with-ack", namespace=namespace)
    def message_with_ack(sid, *args):
        return args


for _namespace in ("/", "/custom"):
    _register(_namespace)

socketio_app = socketio.WSGIApp(sio)

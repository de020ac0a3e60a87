"""Doors below the /chat handlers: reserved event names, and Engine.IO connections that
never authenticate.

python-socketio dispatches an event by name, so a client that emits `disconnect`
(`42/chat,["disconnect"]`) ran the disconnect handler while its socket stayed
connected and subscribed to its rooms: state and presence gone, channels kept, caps
escaped. And an Engine.IO connection that never joins /chat (or joins `/`) was
kept alive by pings forever, counted by no cap.
"""

import contextlib
import logging
import socket
import time

import socketio as socketio_pkg

log = logging.getLogger("chat.security")
HANG_UP_AFTER = 2.0  # seconds a client gets to answer our close frame
# Socket.IO's own names (the Node server reserves the same): never a client's event.
RESERVED = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)


class GuardedServer(socketio_pkg.Server):
    """python-socketio's server, refusing reserved event names and timing out
    connections that have not joined a namespace. Installed by `guard()`."""

    auth_timeout: float
    pending: dict  # eio sid -> monotonic deadline to have joined a namespace
    on_first_connection = None  # called once, for the first Engine.IO connection
    in_flight = 0  # event handlers running now
    draining = False  # shutting down: no new connections

    def _handle_eio_connect(self, eio_sid, environ):
        if self.draining:
            return False
        super()._handle_eio_connect(eio_sid, environ)
        self.pending[eio_sid] = time.monotonic() + self.auth_timeout
        if self.on_first_connection is not None:
            starter, self.on_first_connection = self.on_first_connection, None
            starter()

    def _handle_eio_disconnect(self, eio_sid, reason):
        self.pending.pop(eio_sid, None)
        super()._handle_eio_disconnect(eio_sid, reason)

    def _handle_event(self, eio_sid, namespace, id, data):
        name = data[0] if isinstance(data, list) and data else None
        if not isinstance(name, str) or name in RESERVED:
            log.warning(
                "socket closed: reserved or invalid event name",
                extra={"event": "reserved_event", "remote": self._remote(eio_sid)},
            )
            self.close_now(eio_sid)
            return
        super()._handle_event(eio_sid, namespace, id, data)

    def _handle_event_internal(self, server, sid, eio_sid, data, namespace, id):
        self.in_flight += 1
        try:
            super()._handle_event_internal(server, sid, eio_sid, data, namespace, id)
        finally:
            self.in_flight -= 1

    def drain(self, wait: float) -> int:
        """Shutting down: refuse new connections, give the handlers running now up to
        `wait` seconds to finish (their acks go out), then close every transport.
        Clients take that as a lost connection and reconnect, through the load
        balancer, to a process that is still up: neither a Socket.IO disconnect nor
        Engine.IO's close packet is sent, as either tells python-socketio's client
        not to reconnect. Returns how many were closed."""
        self.draining = True
        deadline = time.monotonic() + wait
        while self.in_flight and time.monotonic() < deadline:
            self.sleep(0.05)
        sids = list(self.eio.sockets)
        for eio_sid in sids:
            self.close_now(eio_sid, abort=True)  # what is queued (acks) still goes out
        return len(sids)

    def close_now(self, eio_sid: str, abort: bool = False) -> None:
        """Close an Engine.IO connection without waiting for its queue to drain.

        `eio.disconnect()` waits until the client has read everything queued: forever
        for a client that stopped reading or a long-polling client that never polls
        again, which stalled the upkeep loop that called it. `abort` drops what is
        queued (a slow consumer) instead of sending it first.
        """
        environ = self.environ.get(eio_sid)
        sock = self.eio.sockets.pop(eio_sid, None)
        if sock is None:
            return
        sock.close(wait=False, abort=abort, reason=self.eio.reason.SERVER_DISCONNECT)
        if sock.upgraded and environ is not None:
            self.start_background_task(_hang_up, environ)

    def _remote(self, eio_sid) -> str | None:
        return (self.environ.get(eio_sid) or {}).get("REMOTE_ADDR")

    def close_unauthenticated(self, namespace: str, now: float | None = None) -> int:
        """Close connections past their deadline that have not joined `namespace`."""
        now = time.monotonic() if now is None else now
        closed = 0
        for eio_sid, deadline in list(self.pending.items()):
            if deadline > now:
                continue
            self.pending.pop(eio_sid, None)
            if self.manager.sid_from_eio_sid(eio_sid, namespace) is None:
                self.close_now(eio_sid)
                closed += 1
        if closed:
            log.info("closed %d unauthenticated sockets", closed, extra={"event": "anon_closed"})
        return closed


def _hang_up(environ: dict, grace: float = HANG_UP_AFTER) -> None:
    """End the TCP connection of a websocket the server closed. The close frame asks
    the client to close; one that ignores it would keep the server's reader waiting,
    and its slot of gunicorn's worker_connections taken, for as long as it likes."""
    time.sleep(grace)  # green under gevent: the client's own close comes first
    raw = _raw_socket(environ)
    if raw is not None:
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)


def _raw_socket(environ: dict):
    """The client socket in a WSGI environ (where simple-websocket finds it)."""
    for key in ("werkzeug.socket", "gunicorn.socket"):
        if key in environ:
            return environ[key]
    if "eventlet.input" in environ:
        return environ["eventlet.input"].get_socket()
    raw = getattr(environ.get("wsgi.input"), "raw", None)
    return getattr(raw, "_sock", None)


def guard(server: socketio_pkg.Server, auth_timeout: float, on_first_connection) -> None:
    """Turn the Flask-SocketIO-made server into a GuardedServer (same state, more checks)."""
    server.__class__ = GuardedServer
    server.auth_timeout = auth_timeout
    server.pending = {}
    server.on_first_connection = on_first_connection
    # Engine.IO holds the handlers bound when the server was built: bind them again.
    server.eio.on("connect", server._handle_eio_connect)
    server.eio.on("disconnect", server._handle_eio_disconnect)

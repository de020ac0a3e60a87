"""Doors below the /chat handlers: reserved event names, Engine.IO connections that
never authenticate, and one heartbeat for every socket.

python-socketio dispatches an event by name, so a client that emits `disconnect`
(`42/chat,["disconnect"]`) ran the disconnect handler while its socket stayed
connected and subscribed to its rooms: state and presence gone, channels kept, caps
escaped. And an Engine.IO connection that never joins /chat (or joins `/`) was
kept alive by pings forever, counted by no cap.
"""

import contextlib
import logging
import math
import socket
import time
from collections import defaultdict

import engineio.packet
import socketio as socketio_pkg

from chat.sockets.transport import InlineSocket

log = logging.getLogger("chat.security")
HANG_UP_AFTER = 2.0  # seconds a client gets to answer our close frame
BEAT = 0.1  # seconds between the heartbeat's rounds (10,000 sockets: 40 pings a round)
# Socket.IO's own names (the Node server reserves the same): never a client's event.
RESERVED = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)


class GuardedSocket(InlineSocket):
    """An Engine.IO socket whose websocket frames are checked before Engine.IO decodes
    them. Upstream (python-engineio 4.x, `Socket._websocket_handler`) decodes each frame
    outside its try: an undecodable one (`abc`, an empty frame) escapes as an exception,
    and the WSGI server writes an HTTP 500 onto the upgraded websocket with a long
    traceback in the log. Here the connection closes with one log line instead.

    Its heartbeat is the server's (HeartbeatEngine): upstream starts a green thread
    per socket for each ping, which sleeps pingInterval and sends it (10,000 idle
    sockets: 400 threads started a second). Here the socket is put in the beat at which
    its next ping is due. And a send that takes its queue past SOCKET_MAX_QUEUE marks
    it for the upkeep loop to cut off (no walk over every socket to find it)."""

    server: "HeartbeatEngine"

    def _websocket_handler(self, ws):
        return super()._websocket_handler(_CheckedFrames(ws, self))

    def schedule_ping(self):
        if self.last_ping:  # the previous ping was answered (or this is the first)
            self.last_ping = None
            self.server.after(self.server.ping_interval, self.server.due_pings, self)

    def send(self, pkt):
        super().send(pkt)
        if self.queue.qsize() > self.server.max_queue:
            self.server.overflowing.add(self.sid)


class HeartbeatEngine(engineio.Server):
    """python-engineio's server with one task for every socket's heartbeat. Time is cut
    into beats of BEAT seconds (a quarter of a shorter heartbeat); a socket waits in the
    beat its next ping is due in, and once pinged, in the beat its answer is due by.
    Each beat the task pings the sockets due and closes those whose answer did not
    come, touching no other socket. Upstream's service task visits one socket every
    pingTimeout / sockets seconds (10,000 sockets: 500 wake-ups a second) beside the
    per-socket ping threads. The protocol is unchanged: each socket is pinged
    pingInterval after its last answer, and closed pingTimeout after an unanswered
    ping (both within a beat). Beats are short, so that many sockets' pings go out,
    and their answers come back, in small rounds: with 1 s beats, 10,000 sockets'
    400 pings a second went out (and 400 pongs came back) in one burst of tens of
    milliseconds that every send behind it waited out."""

    every: float  # seconds per beat
    due_pings: dict  # beat -> sockets to ping then
    due_pongs: dict  # beat -> sockets whose answer is due by then
    max_queue: int  # packets queued for a socket before it is a slow consumer
    overflowing: set  # sids of sockets whose queue passed max_queue

    def adopt(self, max_queue: int) -> None:
        """Become a HeartbeatEngine (installed by `guard()` before the first socket)."""
        self.__class__ = HeartbeatEngine
        self.every = min(BEAT, self.ping_interval / 4, self.ping_timeout / 4)
        self.due_pings, self.due_pongs = defaultdict(list), defaultdict(list)
        self.max_queue, self.overflowing = max_queue, set()
        self.beaten = math.floor(time.time() / self.every)

    def after(self, seconds: float, beats: dict, entry) -> None:
        beats[math.ceil((time.time() + seconds) / self.every)].append(entry)

    def _service_task(self):
        self.service_task_event = self.create_event()
        self.beaten = max(self.beaten, math.floor(time.time() / self.every) - 1)
        while not self.service_task_event.wait(timeout=self.every):
            try:
                self.beat(time.time())
            except Exception:  # the heartbeat outlives any one socket's trouble
                log.exception("heartbeat failed")

    def beat(self, now: float) -> None:
        ping = engineio.packet.Packet(engineio.packet.PING)
        current = math.floor(now / self.every)
        while self.beaten < current:
            self.beaten += 1
            for sock in self.due_pings.pop(self.beaten, ()):
                if sock.closed:
                    self.sockets.pop(sock.sid, None)
                elif not sock.closing:
                    sock.last_ping = now
                    sock.send(ping)
                    self.after(self.ping_timeout, self.due_pongs, (sock, now))
            for sock, pinged in self.due_pongs.pop(self.beaten, ()):
                if sock.closed:
                    self.sockets.pop(sock.sid, None)
                elif sock.last_ping != pinged or sock.closing:
                    continue  # answered (maybe pinged again since): not this ping's turn
                elif sock.check_ping_timeout():  # (closes it when the answer is late)
                    self.after(self.every, self.due_pongs, (sock, pinged))  # not quite yet


class _CheckedFrames:
    """A websocket whose `wait()` ends the connection (None: "closed by the client")
    on a frame that is not an Engine.IO packet."""

    def __init__(self, ws, sock: GuardedSocket):
        self._ws, self._sock = ws, sock

    def wait(self):
        data = self._ws.wait()
        if data is None or isinstance(data, bytes) or _decodes(data):
            return data
        _bad_frame(self._sock.server, self._sock.sid, "engine.io")
        return None

    def __getattr__(self, name):
        return getattr(self._ws, name)


def _decodes(data: str) -> bool:
    try:
        engineio.packet.Packet(encoded_packet=data)
    except Exception:  # whatever the decoder raises is an undecodable frame
        return False
    return True


def _bad_frame(server, eio_sid: str, level: str) -> None:
    environ = getattr(server, "environ", {}).get(eio_sid) or {}
    log.warning(
        "socket closed: undecodable %s frame",
        level,
        extra={"event": "bad_frame", "remote": environ.get("REMOTE_ADDR")},
    )


class GuardedServer(socketio_pkg.Server):
    """python-socketio's server, refusing reserved event names and undecodable packets,
    closing the transport of a connection that is in no namespace (at once when the
    server ends its namespace; after `auth_timeout` otherwise). Installed by `guard()`."""

    auth_timeout: float
    pending: dict  # eio sid -> monotonic deadline to have joined a namespace
    on_first_connection = None  # called once, for the first Engine.IO connection
    in_flight = 0  # event handlers running now
    draining = False  # shutting down: no new connections

    def _handle_eio_connect(self, eio_sid, environ):
        if self.draining:
            return False
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None:
            sock.__class__ = GuardedSocket  # before its first frame is read
        super()._handle_eio_connect(eio_sid, environ)
        self.pending[eio_sid] = time.monotonic() + self.auth_timeout
        if self.on_first_connection is not None:
            starter, self.on_first_connection = self.on_first_connection, None
            starter()

    def _handle_eio_disconnect(self, eio_sid, reason):
        super()._handle_eio_disconnect(eio_sid, reason)
        self.pending.pop(eio_sid, None)

    def _handle_eio_message(self, eio_sid, data):
        """Upstream raises on an undecodable Socket.IO packet (`4abc`, `42abc[`): with
        async handlers it is logged with a traceback and the connection stays. Here it
        closes the connection, with one log line."""
        try:
            super()._handle_eio_message(eio_sid, data)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            _bad_frame(self, eio_sid, "socket.io")
            self.close_now(eio_sid)

    def disconnect(self, sid, namespace=None, ignore_queue=False):
        """The server ends a socket's namespace (abuse, token expiry, a revoked session
        or token, a kick from every room...): upstream sends the DISCONNECT packet and
        leaves the Engine.IO connection open, where the client could keep answering
        pings, stay counted by no cap, and join again. Its transport closes too (on
        whichever process holds it: the message queue brings the call there)."""
        eio_sid = self.manager.eio_sid_from_sid(sid, namespace or "/")
        super().disconnect(sid, namespace, ignore_queue)
        if eio_sid is not None and not self._in_a_namespace(eio_sid):
            self.close_now(eio_sid)

    def _handle_disconnect(self, eio_sid, namespace, reason=None):
        """A client that leaves its last namespace (`41/chat,`) gets `auth_timeout`
        seconds to join one again before its connection closes."""
        super()._handle_disconnect(eio_sid, namespace, reason)
        if eio_sid in self.eio.sockets and not self._in_a_namespace(eio_sid):
            self.pending[eio_sid] = time.monotonic() + self.auth_timeout

    def _in_a_namespace(self, eio_sid: str) -> bool:
        namespaces = list(self.manager.get_namespaces())
        return any(self.manager.sid_from_eio_sid(eio_sid, n) for n in namespaces)

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


def guard(
    server: socketio_pkg.Server, auth_timeout: float, on_first_connection, max_queue: int
) -> None:
    """Turn the Flask-SocketIO-made server into a GuardedServer (same state, more checks)
    over a HeartbeatEngine."""
    server.__class__ = GuardedServer
    HeartbeatEngine.adopt(server.eio, max_queue)
    server.auth_timeout = auth_timeout
    server.pending = {}
    server.on_first_connection = on_first_connection
    # Engine.IO holds the handlers bound when the server was built: bind them again.
    server.eio.on("connect", server._handle_eio_connect)
    server.eio.on("disconnect", server._handle_eio_disconnect)
    server.eio.on("message", server._handle_eio_message)

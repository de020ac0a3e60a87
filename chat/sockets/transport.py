"""The websocket under Engine.IO, read in the request's own green thread and written
in the sender's.

python-engineio's gevent driver wraps simple-websocket, which starts a reader thread
per connection (a greenlet receiving and parsing frames, handing each message to the
request's greenlet through an event) while the request's greenlet waits for it; and
Engine.IO starts a writer thread per websocket waiting on the socket's queue. Here the
request's greenlet reads and parses the frames itself, and a packet is written by
whoever sends it (InlineSocket): two greenlets fewer per socket (their memory, and the
switches per message), the same frames on the wire. Installed for the gevent async
mode only (`install`).
"""

import contextlib
import ssl
from typing import Any

import engineio
import engineio.exceptions
import engineio.packet
import engineio.socket
import flask_socketio
import simple_websocket
import socketio
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
from engineio.packet import NOOP, PING, PONG, UPGRADE
from wsproto.utilities import LocalProtocolError


class _NotStarted:
    """simple-websocket's reader thread, which is never started: `receive` reads."""

    def __init__(self, target):
        self.name = "inline"

    def start(self) -> None:
        pass


class InlineServer(simple_websocket.Server):
    """simple-websocket's server whose `receive` reads from the socket in the caller's
    greenlet (what its reader thread's loop did, without a ping of its own: Engine.IO
    has its heartbeat). The socket is closed when the connection ends, as there.

    Every Socket.IO packet is one whole text or binary frame: those are framed and
    parsed here (RFC 6455 5.2, a few lines) instead of by wsproto's general machine,
    a tenth of a send's CPU and most of an idle socket's. The first frame of any other
    kind (a control frame, a fragment, reserved bits, text that is not UTF-8, more
    than `max_message_size`) and everything after it go to wsproto, as upstream."""

    parsing = True  # frames are parsed here, until one is not ours to parse
    partial = b""  # the start of a frame not received whole yet

    def handshake(self):
        super().handshake()
        if self.ws.connection is not None:  # accepted: keep the websocket's own machine,
            self.ws = self.ws.connection  # not the handshake's HTTP parser (its memory)

    def receive(self, timeout=None):
        while self.connected and not self.input_buffer:
            try:
                data = self.sock.recv(self.receive_bytes)
                if not data:
                    raise OSError("closed by the client")
                if self.parsing:
                    data = self._parse(self.partial + data)
                if data:
                    self.ws.receive_data(data)
                    self.connected = self._handle_events()
            except (OSError, LocalProtocolError):
                self.connected = False
        if self.input_buffer:
            return self.input_buffer.pop(0)
        self.sock.close()
        raise simple_websocket.ConnectionClosed(self.close_reason, self.close_message)

    def _parse(self, data: bytes) -> bytes:
        """Take the whole final masked data frames at the start of `data` into the input
        buffer, keep an incomplete one; return what wsproto must parse."""
        at, size = 0, len(data)
        while size - at >= 2:
            first, second = data[at], data[at + 1]
            opcode, length, head = first & 0x0F, second & 0x7F, at + 2
            if first & 0xF0 != 0x80 or opcode not in (1, 2) or not second & 0x80:
                return self._hand_over(data[at:])  # not final, RSV set, control, unmasked
            if length >= 126:
                head += 2 if length == 126 else 8
                if size < head:
                    break
                length = int.from_bytes(data[at + 2 : head], "big")
            if self.max_message_size and length > self.max_message_size:
                return self._hand_over(data[at:])  # wsproto closes it (1009)
            end = head + 4 + length
            if size < end:
                break
            payload = _unmask(data[head + 4 : end], data[head : head + 4])
            if opcode == 1:
                try:
                    self.input_buffer.append(payload.decode())
                except UnicodeDecodeError:
                    return self._hand_over(data[at:])  # wsproto closes it (1007)
            else:
                self.input_buffer.append(payload)
            at = end
        self.partial = data[at:]
        return b""

    def _hand_over(self, rest: bytes) -> bytes:
        self.parsing, self.partial = False, b""
        return rest

    def send(self, data):
        """Write a whole frame, waiting as long as the socket needs (upstream writes it
        with one `send`, which may take only part of a big frame)."""
        self.sock.sendall(self._frame(data))

    def send_at_once(self, data) -> bytes:
        """Write a frame as far as the socket takes it without waiting: the rest."""
        frame = self._frame(data)
        if isinstance(self.sock, ssl.SSLSocket):  # TLS must retry with the same buffer
            return frame
        try:
            sent = self.sock.send(frame, 0, 0.0)  # gevent's socket, with no wait
        except BlockingIOError:
            sent = 0
        return frame[sent:]

    def _frame(self, data) -> bytes:
        """One final unmasked frame (a server's), as wsproto would write it."""
        if not self.connected:
            raise simple_websocket.ConnectionClosed(self.close_reason, self.close_message)
        opcode = 0x82 if isinstance(data, bytes) else 0x81
        payload = data if isinstance(data, bytes) else str(data).encode()
        size = len(payload)
        if size < 126:
            return bytes((opcode, size)) + payload
        if size < 1 << 16:
            return bytes((opcode, 126)) + size.to_bytes(2, "big") + payload
        return bytes((opcode, 127)) + size.to_bytes(8, "big") + payload


def _unmask(payload: bytes, mask: bytes) -> bytes:
    """A client frame's payload, its 4-byte mask undone (XOR as one big integer)."""
    size = len(payload)
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


class InlineWebSocketWSGI(SimpleWebSocketWSGI):
    """Engine.IO's websocket driver over InlineServer."""

    def __init__(self, handler, server):
        import gevent.event  # (the eventlet virtualenv has no gevent; install() skips it)
        import gevent.selectors

        self.server = server
        super().__init__(
            handler,
            server,
            thread_class=_NotStarted,
            event_class=gevent.event.Event,
            selector_class=gevent.selectors.DefaultSelector,
        )

    def __call__(self, environ, start_response):
        if HIDDEN in environ:
            environ["gunicorn.socket"] = environ.pop(HIDDEN)
        limit = self.server.max_http_buffer_size  # no message past it is buffered
        self.ws = InlineServer(environ, max_message_size=limit, **self.server_args)
        ret = self.app(self)
        if self.ws.mode == "gunicorn":  # as upstream: the worker must not answer again
            raise StopIteration()
        return ret

    def send_at_once(self, message) -> bytes:
        try:
            return self.ws.send_at_once(message)
        except simple_websocket.ConnectionClosed:
            raise OSError() from None

    def send_rest(self, rest: bytes) -> None:
        self.ws.sock.sendall(rest)


HIDDEN = "chat.gunicorn_socket"


def install(engine: engineio.Server, wsgi_app):
    """Use InlineWebSocketWSGI for this server's websockets (gevent only); returns
    `wsgi_app` (Flask-SocketIO's middleware) with gunicorn's socket kept under another
    key until the websocket takes it: Engine.IO's middleware makes a class per request
    to hand it to eventlet's websocket (kilobytes held for as long as the websocket
    lasts), which gevent's does not need."""
    if engine.async_mode != "gevent":
        return wsgi_app
    engine._async = {**engine._async, "websocket": InlineWebSocketWSGI}
    call = wsgi_app
    if isinstance(wsgi_app, flask_socketio._SocketIOMiddleware):  # its copy of each
        flask_app = wsgi_app.flask_app  # environ (another ~1 KB a websocket) is skipped:

        def call(environ, start_response):  # gunicorn makes one per request, unshared
            environ["flask.app"] = flask_app
            return socketio.WSGIApp.__call__(wsgi_app, environ, start_response)

    def app(environ, start_response):
        if "gunicorn.socket" in environ:
            environ[HIDDEN] = environ.pop("gunicorn.socket")
        return call(environ, start_response)

    return app


class InlineSocket(engineio.socket.Socket):
    """An Engine.IO socket whose websocket is written in the sender's green thread.

    Upstream (python-engineio 4.x, `Socket._websocket_handler`) starts a writer thread
    per websocket that waits on the socket's queue for as long as the connection lasts
    (its memory, and two switches per packet sent). Here a packet sent while nothing is
    queued is written at once, as far as the socket takes it without waiting; only
    when the socket is backed up (a slow client, a big frame) does a writer thread
    start, drain the queue in order, and end. The queue, its order, and `close`'s wait
    for it are upstream's. Other transports (long-polling, eventlet's websocket) keep
    upstream's handler."""

    inline_ws: Any = None  # the websocket (InlineWebSocketWSGI), once written inline
    writing = False  # a writer thread is draining the queue
    drained: Any = None  # an event, set when that writer ends

    def _websocket_handler(self, ws):
        if not hasattr(ws, "send_at_once"):
            return super()._websocket_handler(ws)
        if self.connected:  # an upgrade from long-polling: upstream's probe and upgrade
            self.upgrading = True  # sends are queued meanwhile
            ok = self._upgrade_with(ws)
            self.upgraded, self.upgrading = ok, False
            if not ok:
                return []
        else:
            self.connected = self.upgraded = True
        self.inline_ws = ws
        if not self.queue.empty():
            self._start_writer(b"")
        while True:
            try:
                data = ws.wait()
            except Exception:
                break
            if data is None or len(data) > self.server.max_http_buffer_size:
                break
            try:
                self.receive(engineio.packet.Packet(encoded_packet=data))
            except engineio.exceptions.UnknownPacketError:
                pass
            except Exception:  # upstream: logged, and the connection ends
                self.server.logger.exception("%s: receive error", self.sid)
                break
            data = None  # (not held while the next one is awaited: a token, say)
        self.queue.put(None)  # the writer closes the websocket after what is queued
        if not self.writing:
            self._start_writer(b"")
        self.drained.wait()
        self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
        return []

    def _upgrade_with(self, ws) -> bool:
        probe = _packet(ws.wait())
        if probe is None or probe.packet_type != PING or probe.data != "probe":
            return False
        ws.send(engineio.packet.Packet(PONG, data="probe").encode())
        self.queue.put(engineio.packet.Packet(NOOP))  # ends the poll waiting
        upgrade = _packet(ws.wait())
        return upgrade is not None and upgrade.packet_type == UPGRADE

    def send(self, pkt):
        ws = self.inline_ws
        if ws is None or self.writing or not self.queue.empty():
            super().send(pkt)
            if ws is not None and not self.writing:
                self._start_writer(b"")
        elif self.check_ping_timeout():
            try:
                rest = ws.send_at_once(pkt.encode())
            except OSError:
                return  # the connection is gone: its reader ends the socket
            if rest:
                self._start_writer(rest)

    def close(self, wait=True, abort=False, reason=None):
        """Upstream's, with a writer started for what the close queued (its wait is
        for the queue to be written)."""
        if self.inline_ws is None or self.closed or self.closing:
            return super().close(wait, abort, reason)
        super().close(False, abort, reason)
        if not self.writing:
            self._start_writer(b"")
        if wait:
            self.queue.join()

    def _start_writer(self, rest: bytes) -> None:
        self.writing = True
        self.drained = self.server.create_event()
        self.server.start_background_task(self._write, rest)

    def _write(self, rest: bytes) -> None:
        """Write `rest` (the tail of a frame), then the queue, in order. Ends when the
        queue is empty, or closes the websocket at the end of the connection (None) or
        on an error; what is still queued then is dropped, so `close` never waits for
        it, and the socket stays `writing` so that nothing is written after its close."""
        try:
            with contextlib.suppress(Exception):  # (upstream's writer ends on any error)
                if self._drain(rest):
                    self.writing = False  # the next send writes at once again
                    return
        finally:
            self.drained.set()
        with contextlib.suppress(OSError):
            self.inline_ws.close()
        while not self.queue.empty():
            self.queue.get(block=False)
            self.queue.task_done()

    def _drain(self, rest: bytes) -> bool:
        """Write until the queue is empty (True) or says the connection ends (False)."""
        ws, empty = self.inline_ws, self.server.get_queue_empty_exception()
        if rest:
            ws.send_rest(rest)
        while True:
            try:
                pkt = self.queue.get(block=False)
            except empty:
                return True
            self.queue.task_done()
            if pkt is None:
                return False
            ws.send(pkt.encode())


def _packet(data):
    try:
        return engineio.packet.Packet(encoded_packet=data)
    except Exception:
        return None

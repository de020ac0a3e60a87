"""The websocket under Engine.IO, read in the request's own green thread.

python-engineio's gevent driver wraps simple-websocket, which starts a reader thread
per connection (a greenlet receiving and parsing frames, handing each message to the
request's greenlet through an event) while the request's greenlet waits for it. Here
the request's greenlet reads and parses the frames itself: one greenlet fewer per
socket (its memory, and two switches per message received), the same frames on the
wire. Installed for the gevent async mode only (`install`).
"""

import engineio
import simple_websocket
from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI
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
    has its heartbeat). The socket is closed when the connection ends, as there."""

    def receive(self, timeout=None):
        while self.connected and not self.input_buffer:
            try:
                data = self.sock.recv(self.receive_bytes)
                if not data:
                    raise OSError("closed by the client")
                self.ws.receive_data(data)
                self.connected = self._handle_events()
            except (OSError, LocalProtocolError):
                self.connected = False
        if self.input_buffer:
            return self.input_buffer.pop(0)
        self.sock.close()
        raise simple_websocket.ConnectionClosed(self.close_reason, self.close_message)


class InlineWebSocketWSGI(SimpleWebSocketWSGI):
    """Engine.IO's websocket driver over InlineServer."""

    def __init__(self, handler, server):
        import gevent.event  # (the eventlet virtualenv has no gevent; install() skips it)
        import gevent.selectors

        super().__init__(
            handler,
            server,
            thread_class=_NotStarted,
            event_class=gevent.event.Event,
            selector_class=gevent.selectors.DefaultSelector,
        )

    def __call__(self, environ, start_response):
        self.ws = InlineServer(environ, **self.server_args)
        ret = self.app(self)
        if self.ws.mode == "gunicorn":  # as upstream: the worker must not answer again
            raise StopIteration()
        return ret


def install(engine: engineio.Server) -> None:
    """Use InlineWebSocketWSGI for this server's websockets (gevent only)."""
    if engine.async_mode == "gevent":
        engine._async = {**engine._async, "websocket": InlineWebSocketWSGI}

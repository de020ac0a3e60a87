"""The /chat Socket.IO namespace: connection auth, event handlers, background upkeep."""

import logging
from collections.abc import Callable

from flask import Flask, abort
from flask.sessions import SessionInterface

from chat import asyncmode
from chat.extensions import socketio
from chat.live import sockets as live_sockets
from chat.live import upkeep
from chat.live.publish import NAMESPACE
from chat.services import blocks, presence, subscriptions, sync, tokens
from chat.services import retention as retention_job
from chat.sockets import transport
from chat.sockets.guard import guard
from chat.sockets.manager import KombuManager, Manager, RedisManager
from chat.store import changelog

log = logging.getLogger(__name__)


def _manager(app: Flask):
    """The message queue that links processes, when configured (Redis, or RabbitMQ by
    an amqp:// URL); else in memory."""
    url = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    if not url:
        return Manager()
    if url.startswith(("amqp://", "amqps://")):
        return KombuManager(url, channel=app.config["SOCKETIO_CHANNEL"])
    return RedisManager(
        url,
        channel=app.config["SOCKETIO_CHANNEL"],
        redis_options={"socket_connect_timeout": 2, "socket_keepalive": True},
    )


def origin_checker(origins: list[str]):
    """Accept the app's own origin (its web client) and the SOCKET_CORS_ORIGIN list."""
    allowed = set(origins)

    def check(origin: str | None, environ: dict) -> bool:
        scheme = environ.get("HTTP_X_FORWARDED_PROTO", environ.get("wsgi.url_scheme", "http"))
        own = f"{scheme.split(',')[0].strip()}://{environ.get('HTTP_HOST', '')}"
        return origin in allowed or origin == own

    return check


def _active_rooms() -> int:
    """Rooms with at least one socket on this process."""
    rooms = socketio.server.manager.rooms.get(NAMESPACE, {})
    return sum(
        1 for name, members in list(rooms.items()) if name and name.startswith("room:") and members
    )


def _without_deflate(wsgi_app):
    """Per-message deflate off: simple-websocket accepts any offered permessage-deflate,
    and a zlib compressor per socket costs ~100 KB (half our memory per connection)
    plus CPU on every frame. Chat frames are small; dropping the client's offer keeps
    frames uncompressed, as the Node peer does."""

    def app(environ, start_response):
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return wsgi_app(environ, start_response)

    return app


class _NoSessions(SessionInterface):
    """The API is stateless (JWT): no cookie session. Flask-SocketIO reads `session`
    on every event (manage_session=False); a null session costs nothing to open."""

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response):
        return None


def _cheap_event_contexts(app: Flask) -> None:
    """Flask-SocketIO pushes a request context for every event. Its path had no URL
    rule, so each push raised and kept a NotFound, and each opened the cookie session:
    ~48 us per event, now ~19 us. The Socket.IO middleware answers this path before
    Flask does, so the rule's view never runs."""
    app.add_url_rule("/socket.io/", "socket_io", lambda: abort(404), strict_slashes=False)
    app.session_interface = _NoSessions()


def start_upkeep(app: Flask) -> None:
    """Start the upkeep loop once: gunicorn starts it with the worker (outgoing webhooks
    and retention run with no socket connected), and the first connection otherwise (it
    times out connections that never authenticate, so it cannot wait for a login).
    The message queue's listener starts with it: python-socketio starts it on the first
    connection, and a process nobody has connected to yet would not be ready."""
    server = socketio.server
    if not server.manager_initialized:
        server.manager_initialized = True
        server.manager.initialize()
    with app.app_context():
        upkeep.ensure_running(app)


def drain_when(stopping: Callable[[], bool], wait: float) -> None:
    """Once `stopping()` (gunicorn's worker got SIGTERM and stops accepting): finish the
    events being handled, for up to `wait` seconds, then close every connection so that
    clients reconnect to another process (GuardedServer.drain)."""

    def watch() -> None:
        while not stopping():
            socketio.sleep(0.2)
        closed = socketio.server.drain(wait)
        log.info("shutting down: %d connections closed", closed, extra={"event": "drained"})

    socketio.start_background_task(watch)


def init_app(app: Flask) -> None:
    socketio.init_app(
        app,
        async_mode=asyncmode.current(),
        client_manager=_manager(app),
        cors_allowed_origins=origin_checker(app.config["SOCKET_CORS_ORIGIN"]),
        ping_interval=app.config["SOCKET_PING_INTERVAL"],
        ping_timeout=app.config["SOCKET_PING_TIMEOUT"],
        max_http_buffer_size=app.config["SOCKET_MAX_FRAME"],
        always_connect=False,
        namespaces=[NAMESPACE],  # `/` and any other namespace: connect_error
        manage_session=False,
        http_compression=False,
        logger=False,
        engineio_logger=False,
    )
    start = lambda: start_upkeep(app)  # noqa: E731
    guard(socketio.server, app.config["SOCKET_AUTH_TIMEOUT"], start, app.config["SOCKET_MAX_QUEUE"])
    app.wsgi_app = transport.install(socketio.server.eio, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = _without_deflate(app.wsgi_app)  # type: ignore[method-assign]
    _cheap_event_contexts(app)
    from chat.sockets import connection, messages, rooms  # noqa: F401  (registers handlers)

    live_sockets.init_app(app)
    retention = app.config["SYNC_RETENTION_DAYS"]
    jobs: dict[int, Callable[[], object]] = {
        2: changelog.archive_due,  # the rooms' change logs stay short
        600: lambda: sync.purge(retention),
        300: retention_job.run,  # old message bodies (one process at a time)
        1: lambda: subscriptions.dispatch(socketio.start_background_task),  # webhooks due
    }
    upkeep.init_app(app, rooms_of=presence.user_room_ids, jobs=jobs)
    app.extensions["blockers_of"] = blocks.blockers_of
    app.extensions["sessions_outside"] = tokens.sessions_outside
    app.extensions["metrics"].active_rooms.set_function(_active_rooms)

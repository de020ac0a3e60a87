"""Unbound extension singletons, attached to an app by `create_app`."""

from urllib.parse import urlparse

import mongoengine
import redis
from flask import Flask, current_app
from flask_jwt_extended import JWTManager
from flask_socketio import SocketIO


class ChatSocketIO(SocketIO):
    """Flask-SocketIO, with a lean path for the /chat events (`sockets.handler.event`):
    their handlers get the socket id and run in an app context, without the request
    context (a werkzeug Request and a session) Flask-SocketIO builds for each event;
    those were ~3% of a send's CPU. connect and disconnect keep the request context
    (the handshake's headers and query)."""

    def _handle_event(self, handler, message, namespace, sid, *args):
        if not getattr(handler, "lean", False):
            return super()._handle_event(handler, message, namespace, sid, *args)
        environ = self.server.get_environ(sid, namespace=namespace)
        if not environ:
            return "", 400
        with environ["flask.app"].app_context():
            try:
                return handler(sid, *args)
            except Exception as exc:
                on_error = self.exception_handlers.get(namespace, self.default_exception_handler)
                if on_error is None:
                    raise
                return on_error(exc)


jwt = JWTManager()
socketio = ChatSocketIO()


WRITER = "writer"  # the group commit's own small pool (chat.store.commit)


def init_mongo(app: Flask) -> None:
    """Connect MongoEngine's default alias to MONGODB_URI (lazily, tz-aware), and the
    WRITER alias: the batch of sends in flight never queues behind the reads.

    The pool is small (MONGODB_MAX_POOL_SIZE): hot reads and writes are combined
    (store.combine.Combiner), and a database serves a few busy connections better
    than a hundred (SecantusDB's throughput falls sharply as clients are added).
    """
    uri = app.config["MONGODB_URI"]
    name = urlparse(uri).path.lstrip("/") or "chat"
    timeout = app.config.get("MONGODB_TIMEOUT_MS", 5000)
    options = {
        "db": name,
        "host": uri,
        "uuidRepresentation": "standard",
        "tz_aware": True,
        "connect": False,
        "serverSelectionTimeoutMS": timeout,
        "waitQueueTimeoutMS": timeout,
    }
    mongoengine.disconnect()
    mongoengine.disconnect(WRITER)
    mongoengine.connect(maxPoolSize=app.config.get("MONGODB_MAX_POOL_SIZE", 10), **options)
    mongoengine.connect(alias=WRITER, maxPoolSize=2, **options)
    app.extensions["mongo_db_name"] = name


def mongo_db():
    """The pymongo Database behind MongoEngine's default connection."""
    return mongoengine.get_db()


def init_redis(app: Flask) -> None:
    """Create the Redis client when REDIS_URL is configured (short timeouts, lazy).

    The pool makes callers wait (up to 2 s) for a free connection: redis-py's default
    pool raises at 100 connections, which a burst of thousands of socket connects on
    green threads reaches at once.
    """
    url = app.config.get("REDIS_URL")
    if not url:
        app.extensions["redis"] = None
        return
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=app.config["REDIS_MAX_CONNECTIONS"],
        timeout=2,
        socket_timeout=1,
        socket_connect_timeout=1,
    )
    app.extensions["redis"] = redis.Redis(connection_pool=pool)


def redis_client() -> redis.Redis | None:
    """The app's Redis client, or None when Redis is not configured."""
    return current_app.extensions.get("redis")

"""gunicorn settings: the one server configuration of the Procfile, `make run`, the
tests, the soak and the benchmark
(`gunicorn --config python:chat.gunicorn_conf wsgi:app`).

Sized from the app's own settings, so raising SOCKET_MAX_CONNECTIONS is all an
operator does: gunicorn's gevent worker otherwise stops accepting at 1,000
connections (its `worker_connections` default), and the 1,001st socket, REST call
or health check hangs instead of being refused.
"""

import resource
import time

from chat import logs
from chat.settings import read

# One worker per process: Socket.IO keeps per-connection state in memory. Scale out
# with more processes behind a sticky load balancer and REDIS_URL (see the README).
workers = 1
_mode = read("CHAT_ASYNC_MODE").lower()
worker_class = {"threading": "gthread"}.get(_mode, _mode)  # gevent, eventlet: same name
threads = 100 if worker_class == "gthread" else 1

bind = f"{read('HOST')}:{read('PORT')}"
_sockets = read("SOCKET_MAX_CONNECTIONS")
# Past the socket cap the app refuses sockets itself (`server_busy`); the headroom keeps
# REST calls and /healthz answered while the sockets are all taken.
worker_connections = _sockets + 1000
backlog = 4096  # a reconnect storm of thousands arrives within a second
graceful_timeout = 5  # SIGTERM: handlers finish, sockets close, clients reconnect elsewhere
timeout = 30
# Every log line, gunicorn's error and access logs too, is JSON (chat/logs.py).
logconfig_dict = logs.config(read("LOG_LEVEL").upper(), read("ACCESS_LOG"))
# gunicorn's control socket has one path per user: several servers on a host would
# fight over it, and nothing here uses it.
control_socket_disable = True


def on_starting(server):
    """Allow the file descriptors the connections need (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = worker_connections + 100
    if soft < want:
        limit = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
        if limit < want:
            server.log.warning("open files limited to %d: fewer sockets than configured", limit)


def post_worker_init(worker):
    """The upkeep loop runs from the start: deliveries due after a restart go out
    before any socket connects. On SIGTERM the worker stops accepting and waits up to
    graceful_timeout for its connections to end: the sockets are closed once the
    events in hand are answered (well within it), and the worker exits."""
    from chat.extensions import socketio
    from chat.sockets import drain_when, start_upkeep

    if socketio.server is None:  # an app that is not chat's (the benchmark's floor peer)
        return
    start_upkeep(worker.wsgi)
    drain_when(_stopped_accepting(worker), wait=graceful_timeout - 2)


def _stopped_accepting(worker):
    """A test that turns true once SIGTERM came and the worker closed its listeners
    (gunicorn does within a second): a client told to reconnect before then could reach
    this process again. A worker class that keeps them open counts as closed after 1.5 s."""
    since: list[float] = []

    def stopped() -> bool:
        if worker.alive:
            return False
        since[:] = since or [time.monotonic()]
        closed = all(getattr(listener, "sock", None) is None for listener in worker.sockets)
        return closed or time.monotonic() - since[0] > 1.5

    return stopped

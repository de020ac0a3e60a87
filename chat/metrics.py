"""Prometheus metrics, one registry per app, served as text at /metrics.

Outcomes are labelled by the contract's error code (`ok`, `validation_error`,
`rate_limited`, ...; `error` for an unexpected failure), never by free text, so the
label sets stay small.
"""

import gc
import hmac
import time
from collections import deque
from contextlib import contextmanager

from flask import Blueprint, Flask, Response, current_app, g, has_app_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from chat.errors import ChatError, NotFound, Unauthorized

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 200)
bp = Blueprint("metrics", __name__)


class RateMeter:
    """Events per second over a sliding window (for the messages/s gauge)."""

    def __init__(self, window: float = 10.0):
        self.window = window
        self.stamps: deque[float] = deque()

    def mark(self) -> None:
        self.stamps.append(time.monotonic())

    def rate(self) -> float:
        horizon = time.monotonic() - self.window
        while self.stamps and self.stamps[0] < horizon:
            self.stamps.popleft()
        return len(self.stamps) / self.window


class Metrics:
    def __init__(self):
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)  # process_cpu_seconds_total, resident memory, fds
        GCCollector(registry=r)  # python_gc_collections_total and friends
        self.requests = Counter(
            "chat_http_requests",
            "REST requests by route and outcome",
            ["method", "route", "outcome"],
            registry=r,
        )
        self.refused = Counter(
            "chat_connections_refused",
            "Sockets refused or closed before joining, by reason",
            ["reason"],
            registry=r,
        )
        self.rate_limited = Counter(
            "chat_rate_limited",
            "Requests and events refused by a rate limit",
            ["transport"],
            registry=r,
        )
        self.slow_consumer_cuts = Counter(
            "chat_slow_consumer_cuts", "Sockets cut off for not reading their queue", registry=r
        )
        self.commit_batch = Histogram(
            "chat_commit_batch_size",
            "Messages stored per group commit",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.seq_clashes = Counter(
            "chat_seq_clashes",
            "Group-commit inserts that met a seq another writer took",
            registry=r,
        )
        self.connected = Gauge("chat_connected_clients", "Sockets on this process", registry=r)
        self.active_rooms = Gauge(
            "chat_active_rooms", "Rooms with a socket on this process", registry=r
        )
        self.messages = Counter("chat_messages", "Messages stored by this process", registry=r)
        self.message_rate = RateMeter()
        Gauge(
            "chat_messages_per_second", "Messages stored per second (10 s window)", registry=r
        ).set_function(self.message_rate.rate)
        self.events = Counter(
            "chat_socket_events",
            "Socket events by name and outcome",
            ["event", "outcome"],
            registry=r,
        )
        self.handler_latency = Histogram(
            "chat_handler_latency_seconds",
            "Socket handler time",
            ["event"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.delivery_latency = Histogram(
            "chat_delivery_latency_seconds",
            "From a send arriving to its broadcast being handed to every local socket "
            "and the message queue",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.hook_calls = Counter(
            "chat_plugin_hook_calls", "Plugin hook calls", ["hook", "outcome"], registry=r
        )
        self.hook_latency = Histogram(
            "chat_plugin_hook_seconds",
            "Plugin hook duration",
            ["hook"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

        self.gc_pauses = Histogram(
            "chat_gc_pause_seconds",
            "Garbage collection pauses (the whole process waits), by generation",
            ["generation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def message_stored(self) -> None:
        self.messages.inc()
        self.message_rate.mark()

    @contextmanager
    def handling(self, event: str):
        """Time a socket handler and count its outcome (`ok`, or the error's code)."""
        start = time.perf_counter()
        outcome = "error"
        try:
            yield
            outcome = "ok"
        except ChatError as exc:
            outcome = exc.code
            raise
        finally:
            self.handler_latency.labels(event).observe(time.perf_counter() - start)
            self.events.labels(event, outcome).inc()


def metrics() -> Metrics:
    return current_app.extensions["metrics"]


def count(name: str, value: float = 1) -> None:
    """Add to one of the app's unlabelled counters or histograms; outside an app
    context (a CLI or a test calling a service directly) nothing is counted."""
    if has_app_context():
        meter = getattr(metrics(), name)
        meter.observe(value) if isinstance(meter, Histogram) else meter.inc(value)


@bp.get("/metrics")
def scrape():
    """Prometheus text exposition of this process's metrics.

    With METRICS_TOKEN set, only `Authorization: Bearer <METRICS_TOKEN>` gets them;
    production without one serves none (404): they tell the world who is online.
    """
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized("A metrics token is required.")
    elif current_app.config["ENV_NAME"] == "production":
        raise NotFound("Not found.")
    return Response(generate_latest(metrics().registry), mimetype=CONTENT_TYPE_LATEST)


def _count_request(response: Response) -> Response:
    rule = request.url_rule.rule if request.url_rule else "unmatched"
    outcome = g.get("error_code") or ("ok" if response.status_code < 400 else "error")
    metrics().requests.labels(request.method, rule, outcome).inc()
    return response


def init_app(app: Flask) -> None:
    app.extensions["metrics"] = Metrics()
    app.register_blueprint(bp)
    app.after_request(_count_request)
    _gc_timing[0] = app.extensions["metrics"]
    if _time_gc not in gc.callbacks:
        gc.callbacks.append(_time_gc)


_gc_timing: list = [None, 0.0]  # the app's Metrics (one app per process), a start time


def _time_gc(phase: str, info: dict) -> None:
    """Time each collection: a full one over many sockets is a pause every user sees."""
    if phase == "start":
        _gc_timing[1] = time.perf_counter()
    elif _gc_timing[0] is not None:
        pause = time.perf_counter() - _gc_timing[1]
        _gc_timing[0].gc_pauses.labels(str(info["generation"])).observe(pause)

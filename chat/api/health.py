"""Liveness and readiness probes."""

from flask import Blueprint, jsonify

from chat.extensions import mongo_db, redis_client, socketio

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


def _check(probe) -> str:
    try:
        probe()
    except Exception:  # any failure means "not ready"; the cause is for logs, not callers
        return "unavailable"
    return "ok"


@bp.get("/readyz")
def readyz():
    """The database (and Redis, and a RabbitMQ message queue, when configured) answer."""
    checks = {"database": _check(lambda: mongo_db().command("ping"))}
    client = redis_client()
    if client is not None:
        checks["redis"] = _check(client.ping)
    listening = getattr(socketio.server and socketio.server.manager, "listening", None)
    if listening is not None:  # RabbitMQ: is this process consuming from the broker now
        checks["queue"] = "ok" if listening else "unavailable"
    ready = all(value == "ok" for value in checks.values())
    response = jsonify({"status": "ready" if ready else "degraded", "checks": checks})
    response.status_code = 200 if ready else 503
    return response

"""Liveness and readiness probes."""

from flask import Blueprint, jsonify

from chat.extensions import mongo_db, redis_client

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
    """The database (and Redis when configured) answer."""
    checks = {"database": _check(lambda: mongo_db().command("ping"))}
    client = redis_client()
    if client is not None:
        checks["redis"] = _check(client.ping)
    ready = all(value == "ok" for value in checks.values())
    response = jsonify({"status": "ready" if ready else "degraded", "checks": checks})
    response.status_code = 200 if ready else 503
    return response

"""Security headers on every response, REST rate limits, and the security log.

The security log (`chat.security`) records auth failures, refusals and
rate-limit hits as structured fields; it never receives message bodies or tokens
(chat/logs.py writes only its known fields).
"""

import logging

from flask import Flask, current_app, request
from flask_cors import CORS
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from chat.metrics import metrics

security_log = logging.getLogger("chat.security")


API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI's files are served from here (no CDN); its page starts them inline.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)
EXPOSED_HEADERS = [
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
]
UNLIMITED_PATHS = ("/healthz", "/readyz", "/static/")
VERIFIED = "chat.access_token_verified"  # in the request's environ (`g` may outlive it)


def verify_access_token(optional: bool = False) -> None:
    """flask-jwt-extended's verify_jwt_in_request, once per request: each verification
    reads the session and the user, and the rate limiter (for every limit it checks)
    and the view both need the caller. A failed or absent token is verified again,
    so that the view raises its own error."""
    if request.environ.get(VERIFIED):
        return
    verify_jwt_in_request(optional=optional)
    request.environ[VERIFIED] = get_jwt_identity() is not None


def rate_limit_key() -> str:
    """The caller's user id when the request carries a valid access token or API token
    (all of a person's credentials share one budget), else its address."""
    try:
        identity = current_app.extensions.get("api_token_user", _none)()  # the API layer's
        if identity is None:
            verify_access_token(optional=True)
            identity = get_jwt_identity()
    except Exception:  # an invalid token is refused by the view; count it by address
        identity = None
    return f"user:{identity}" if identity else f"ip:{get_remote_address()}"


def _none() -> None:
    return None


def _exempt() -> bool:
    return request.path.startswith(UNLIMITED_PATHS) or request.path == "/"


def add_headers(response):
    """nosniff, no framing, no referrer, and a CSP on everything (HTML sets its own)."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    csp = DOCS_CSP if request.path.startswith("/api/docs") else API_CSP
    headers.setdefault("Content-Security-Policy", csp)
    if response.status_code == 429:
        metrics().rate_limited.labels("rest").inc()
        security_log.info(
            "rate limited",
            extra={"event": "rate_limited", "path": request.path, "key": rate_limit_key()},
        )
    return response


def _keep_retry_after(response):
    """Flask-Limiter rewrites Retry-After from its own window, truncating a domain
    error's wait (a login delay of 1 s became 0): the longer of the two stands."""
    ours = response.headers.get("X-Chat-Retry-After")
    if ours is not None:
        del response.headers["X-Chat-Retry-After"]
        theirs = response.headers.get("Retry-After", "0")
        response.headers["Retry-After"] = str(
            max(int(ours), int(theirs) if theirs.isdigit() else 0)
        )
    return response


def init_app(app: Flask, strict: tuple = ()) -> None:
    """Headers on every response; per-user and per-address limits shared through Redis,
    falling back to per-process counting when Redis is unreachable. The `strict`
    blueprints (sign-in) are also held to RATELIMIT_AUTH per address.
    """
    redis_url = app.config.get("REDIS_URL")
    limiter = Limiter(
        key_func=rate_limit_key,
        application_limits=[app.config["RATELIMIT_DEFAULT"]],
        storage_uri=redis_url or "memory://",
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1},
        strategy="moving-window",
        headers_enabled=True,
        in_memory_fallback_enabled=True,
        key_prefix=app.config["REDIS_PREFIX"],
    )
    limiter.request_filter(_exempt)
    for bp in strict:
        limiter.limit(app.config["RATELIMIT_AUTH"], key_func=get_remote_address)(bp)
    app.after_request(_keep_retry_after)  # runs after the limiter's own (reverse order)
    limiter.init_app(app)
    CORS(
        app,
        resources={r"/api/*": {"origins": app.config["SOCKET_CORS_ORIGIN"]}},
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
    app.after_request(add_headers)

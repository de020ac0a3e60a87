"""REST rate limits (shared through Redis, per-process when Redis is down) and headers."""

import uuid

import pytest

from chat import create_app
from devtools.servers import free_port
from tests.conftest import AuthActions, assert_error


def _app(base_settings, **settings):
    prefix = f"limits-{uuid.uuid4().hex[:8]}"
    return create_app("testing", **{**base_settings, "REDIS_PREFIX": prefix, **settings})


@pytest.fixture
def token(app, auth):
    return auth.register("alice")["accessToken"]


def test_per_user_limit_with_headers(app, base_settings, token):
    limited = _app(base_settings, RATELIMIT_DEFAULT="5 per minute").test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for i in range(5):
        response = limited.get("/api/users/me", headers=headers)
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "5"
        assert response.headers["X-RateLimit-Remaining"] == str(4 - i)
    refused = limited.get("/api/rooms", headers=headers)  # the limit spans every route
    assert_error(refused, 429, "rate_limited")
    assert int(refused.headers["Retry-After"]) >= 1
    assert limited.get("/healthz").status_code == 200  # probes are never limited


def test_the_limit_is_shared_by_processes_through_redis(app, base_settings, token):
    settings = {"RATELIMIT_DEFAULT": "6 per minute", "REDIS_PREFIX": f"shared-{uuid.uuid4().hex}"}
    first = create_app("testing", **{**base_settings, **settings}).test_client()
    second = create_app("testing", **{**base_settings, **settings}).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    codes = [c.get("/api/users/me", headers=headers).status_code for c in [first, second] * 4]
    assert codes == [200] * 6 + [429, 429]


def test_login_is_limited_per_address(app, base_settings):
    client = _app(base_settings, RATELIMIT_AUTH="3 per minute").test_client()
    body = {"username": "nobody", "password": "wrong password"}
    codes = [client.post("/api/auth/login", json=body).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_limits_fall_back_to_the_process_when_redis_is_down(app, base_settings, token):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    client = _app(base_settings, REDIS_URL=dead, RATELIMIT_DEFAULT="4 per minute").test_client()
    headers = {"Authorization": f"Bearer {token}"}
    codes = [client.get("/api/users/me", headers=headers).status_code for _ in range(6)]
    assert codes == [200] * 4 + [429, 429]


def test_security_headers_on_every_response(client, auth):
    session = auth.register("bob")
    responses = [
        client.get("/api/users/me", headers=AuthActions(client).headers(session)),
        client.get("/api/users/me"),
        client.get("/api/nothing"),
        client.post("/api/auth/login", data="{bad", content_type="application/json"),
        client.get("/healthz"),
    ]
    for response in responses:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "Traceback" not in response.get_data(as_text=True)


def test_cors_allows_only_the_configured_origins(client):
    allowed = "http://localhost:5000"  # in the development/testing allowlist
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    }
    ok = client.options("/api/rooms", headers={"Origin": allowed, **preflight})
    assert ok.headers["Access-Control-Allow-Origin"] == allowed
    assert (
        "Retry-After"
        in client.get("/api/rooms", headers={"Origin": allowed}).headers[
            "Access-Control-Expose-Headers"
        ]
    )
    foreign = client.options("/api/rooms", headers={"Origin": "https://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in foreign.headers

"""REST base: OpenAPI document and docs UI, error envelope for routing, health probes."""

import re

from tests.conftest import assert_error


def test_openapi_document_describes_every_endpoint(client, app):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, ops in spec["paths"].items()
        for method in ops
        if method in {"get", "post", "put", "patch", "delete"}
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule.startswith(("/api/docs", "/api/openapi")):
            continue
        path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)  # <conv(args):x>
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)
            operation = spec["paths"][path][method.lower()]
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success, (path, method)
            for code in success:
                if code != "204":
                    assert "content" in operation["responses"][code], (path, method, code)
            if method in {"POST", "PUT", "PATCH"} and "requestBody" not in operation:
                assert not any(p["in"] == "query" for p in operation.get("parameters", [])), path


def test_docs_ui_is_served(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"swagger" in response.data.lower()


def test_unknown_route_and_method_use_the_envelope(client):
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.get("/api/auth/login"), 405, "method_not_allowed")


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


def test_readyz_reports_a_dead_redis(base_settings):
    from chat import create_app
    from devtools.servers import free_port

    app = create_app(
        "testing", **{**base_settings, "REDIS_URL": f"redis://127.0.0.1:{free_port()}"}
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "redis": "unavailable"}


def test_web_client_is_served_with_a_strict_csp(client):
    with client.get("/") as page:
        assert page.status_code == 200 and b'<script src="/static/app.js"' in page.data
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert b"<script>" not in page.data  # no inline scripts: the CSP forbids them
    for asset in ("/static/app.js", "/static/style.css", "/static/vendor/socket.io.min.js"):
        with client.get(asset) as response:
            assert response.status_code == 200, asset


def test_vendored_socketio_client_is_the_npm_package():
    from devtools.servers import ROOT

    vendored = ROOT / "chat/web/static/vendor/socket.io.min.js"
    packaged = ROOT / "node_modules/socket.io-client/dist/socket.io.min.js"
    assert packaged.exists(), "run `npm ci` (make test does)"
    assert vendored.read_bytes() == packaged.read_bytes(), "run `make web-vendor`"


def test_api_docs_load_nothing_from_other_origins(client):
    """Swagger UI's files are served from here, pinned by npm (no floating CDN copy)."""
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) == 3 and all(a.startswith("/static/vendor/swagger-ui/") for a in assets)
    for asset in assets:
        with client.get(asset) as response:  # (a file response: closed here)
            assert response.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "http" not in csp  # no other origin may serve scripts, styles or images

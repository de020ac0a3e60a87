"""Logs: JSON lines from every logger of the shipped server, gunicorn's included; security
events as structured records without tokens or message bodies."""

import json
import logging
import time

import requests

from chat.logs import formatter
from tests.conftest import PASSWORD
from tests.processes import server


def test_security_events_are_logged_without_secrets(client, auth, alice, caplog):
    caplog.set_level(logging.INFO, logger="chat.security")
    room = alice.create_room()["id"]
    secret_text = "my very private message body"
    alice.send(room, secret_text)
    client.post("/api/auth/login", json={"username": "alice", "password": "wrong password"})
    client.get("/api/users/me", headers={"Authorization": "Bearer not.a.valid-token"})
    client.get(
        "/api/users/me", headers={"Authorization": "Bearer " + alice.session["refreshToken"]}
    )
    records = [r for r in caplog.records if r.name == "chat.security"]
    events = [getattr(r, "event", None) for r in records]
    assert events.count("login_failed") == 1 and events.count("auth_refused") == 2
    lines = [formatter().format(r) for r in records]
    for line in lines:
        entry = json.loads(line)
        assert entry["event"] in {"login_failed", "auth_refused"}
        for secret in (
            secret_text,
            alice.session["accessToken"],
            alice.session["refreshToken"],
            "not.a.valid-token",
            PASSWORD,
            "wrong password",
        ):
            assert secret not in line


def test_the_security_log_writes_only_its_fields():
    record = logging.LogRecord("chat.security", logging.WARNING, __file__, 1, "refused", None, None)
    record.__dict__.update(event="auth_refused", reason="expired", body="a secret body")
    entry = json.loads(formatter().format(record))
    assert entry["event"] == "auth_refused" and entry["reason"] == "expired"
    assert "body" not in entry and "a secret body" not in json.dumps(entry)


def test_the_shipped_server_logs_json_lines_without_secrets(live_settings):
    """Started as the Procfile says: gunicorn's own lines, the access log and the app's
    security log are all JSON objects; no token or query string is written."""
    secret = "not.a.real-token-but-secret"
    with server(live_settings) as (base, proc):
        assert requests.get(f"{base}/healthz?token={secret}", timeout=5).status_code == 200
        denied = requests.get(
            f"{base}/api/users/me", headers={"Authorization": f"Bearer {secret}"}, timeout=5
        )
        assert denied.status_code == 401
        text = ""
        for _ in range(50):  # the access line is written once the response is sent
            proc.log.seek(0)
            text = proc.log.read().decode()
            if '"/api/users/me"' in text:
                break
            time.sleep(0.1)
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert entries and all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    loggers = {e["logger"] for e in entries}
    assert {"gunicorn.error", "gunicorn.access", "chat.security"} <= loggers, loggers
    health = [e for e in entries if e["logger"] == "gunicorn.access" and e["path"] == "/healthz"]
    assert health and health[0]["method"] == "GET" and str(health[0]["status"]) == "200"
    assert secret not in text and "token=" not in text

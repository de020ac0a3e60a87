"""Security events are logged as structured records without tokens or message bodies."""

import json
import logging

from chat.security import JsonFormatter
from tests.conftest import PASSWORD


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
    lines = [JsonFormatter().format(r) for r in records]
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

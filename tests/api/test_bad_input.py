"""Every account endpoint refuses bad input with a 4xx envelope and changes nothing."""

import pytest

from tests.badinput import assert_refused, bad_bodies, send_raw_cases
from tests.conftest import PASSWORD, snapshot

REGISTER = {"username": "carol", "email": "carol@example.com", "password": PASSWORD}
LOGIN = {"username": "alice", "password": PASSWORD}


def _snapshot(db) -> dict:
    return snapshot(db, "users", "revoked_sessions")


@pytest.mark.parametrize(
    ("path", "valid", "required"),
    [
        ("/api/auth/register", REGISTER, ["username", "email", "password"]),
        ("/api/auth/login", LOGIN, ["password"]),
    ],
)
def test_bad_bodies_are_refused_and_change_nothing(client, auth, db, path, valid, required):
    auth.register("alice")
    before = _snapshot(db)
    for label, body in bad_bodies(valid, required):
        response = client.post(path, json=body)
        assert_refused(response, label)
        assert response.status_code != 401, f"{label}: reached the credential check"
    for label, response in send_raw_cases(client, "post", path, {}, valid):
        assert_refused(response, label)
    assert _snapshot(db) == before


def test_oversized_body_is_413(client):
    response = client.post("/api/auth/register", json={**REGISTER, "x": "y" * 2_000_000})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_operator_objects_never_log_anyone_in(client, auth):
    auth.register("alice")
    for bad in ({"$ne": None}, {"$gt": ""}, {"$regex": ".*"}):
        for body in ({"username": bad, "password": bad}, {"email": bad, "password": PASSWORD}):
            response = client.post("/api/auth/login", json=body)
            assert response.status_code == 422
            assert "accessToken" not in response.get_data(as_text=True)

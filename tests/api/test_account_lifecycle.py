"""The account lifecycle: refresh-token rotation with reuse detection, sessions (list,
revoke), password change, password reset by email (a real SMTP server) and
deactivation. Each ends sessions: their tokens are refused and (tests/sockets) their
sockets closed on every process."""

import re
import time

import pytest

from chat.models import LoginThrottle, PasswordReset, Session
from chat.models.base import utcnow
from tests.conftest import PASSWORD, assert_error, eventually, snapshot, verify_email

NEW = "a brand new passphrase"


def _login(client, username="alice", password=PASSWORD, agent="test-agent/1"):
    body = {"username": username, "password": password}
    return client.post("/api/auth/login", json=body, headers={"User-Agent": agent})


def _me(client, auth, token) -> int:
    return client.get("/api/users/me", headers=auth.headers(token)).status_code


def _refresh(client, auth, token):
    return client.post("/api/auth/refresh", headers=auth.headers(token))


def test_refresh_rotates_and_a_reused_token_ends_the_session(client, auth):
    session = auth.register("alice")
    first = _refresh(client, auth, session["refreshToken"])
    assert first.status_code == 200
    rotated = first.get_json()
    assert rotated["refreshToken"] != session["refreshToken"]
    assert _me(client, auth, rotated["accessToken"]) == 200
    second = _refresh(client, auth, rotated["refreshToken"]).get_json()  # the new one works
    # the spent token again (a thief's copy): the whole session ends
    assert_error(_refresh(client, auth, session["refreshToken"]), 401, "unauthorized")
    for token in (second["accessToken"], session["accessToken"]):
        assert _me(client, auth, token) == 401
    assert_error(_refresh(client, auth, second["refreshToken"]), 401, "unauthorized")


def test_sessions_are_listed_and_revoked_one_by_one(client, auth, make_user):
    alice = auth.register("alice")
    phone = _login(client, agent="phone/2").get_json()
    listed = client.get("/api/auth/sessions", headers=auth.headers(phone)).get_json()["sessions"]
    assert [(s["device"][:8], s["current"]) for s in listed] == [
        ("phone/2", True),
        ("Werkzeug", False),
    ]
    assert all(s["createdAt"].endswith("Z") and s["lastUsedAt"] for s in listed)
    other = listed[1]["id"]
    revoked = client.delete(f"/api/auth/sessions/{other}", headers=auth.headers(phone))
    assert revoked.status_code == 204
    assert _me(client, auth, alice) == 401 and _me(client, auth, phone) == 200
    assert_error(_refresh(client, auth, alice["refreshToken"]), 401, "unauthorized")
    # another user's session, or one that is gone: not found, and nothing ends
    bob = make_user("bob")
    mine = client.get("/api/auth/sessions", headers=auth.headers(phone)).get_json()["sessions"]
    theirs = bob.ok("get", "/api/auth/sessions")["sessions"][0]["id"]
    for sid in (theirs, other, "x" * 300):
        response = client.delete(f"/api/auth/sessions/{sid}", headers=auth.headers(phone))
        assert_error(response, 404, "not_found")
    assert bob.ok("get", "/api/users/me")["id"] == bob.id
    assert len(mine) == 1


def test_changing_the_password_ends_every_other_session(client, auth, db):
    alice = auth.register("alice")
    laptop = _login(client).get_json()
    before = snapshot(db, "users", "sessions")
    wrong = {"currentPassword": "not it at all", "newPassword": NEW}
    response = client.post("/api/auth/password", json=wrong, headers=auth.headers(alice))
    assert "currentPassword" in assert_error(response, 422, "validation_error")["fields"]
    short = {"currentPassword": PASSWORD, "newPassword": "short"}
    response = client.post("/api/auth/password", json=short, headers=auth.headers(alice))
    assert "newPassword" in assert_error(response, 422, "validation_error")["fields"]
    assert snapshot(db, "users", "sessions") == before
    body = {"currentPassword": PASSWORD, "newPassword": NEW}
    assert (
        client.post("/api/auth/password", json=body, headers=auth.headers(alice)).status_code == 204
    )
    assert _me(client, auth, alice) == 200  # the session that changed it goes on
    assert _me(client, auth, laptop) == 401
    assert_error(_refresh(client, auth, laptop["refreshToken"]), 401, "unauthorized")
    assert _login(client).status_code == 401
    assert _login(client, password=NEW).status_code == 200


def _reset_token(inbox) -> str:
    (envelope,) = inbox.messages
    return re.search(r"Your reset token: (\S+)", envelope.content.decode()).group(1)


@pytest.fixture
def mailing_app(app, base_settings, smtp):
    from chat import create_app

    port, _inbox = smtp
    settings = {**base_settings, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port}
    return create_app("testing", **settings, MAIL_FROM="chat@example.com")


def test_password_reset_by_email(mailing_app, smtp):
    _port, inbox = smtp
    client = mailing_app.test_client()
    alice = client.post(
        "/api/auth/register",
        json={"username": "alice", "email": "alice@example.com", "password": PASSWORD},
    ).get_json()
    verify_email(client, {"Authorization": f"Bearer {alice['accessToken']}"}, inbox)
    answers = set()
    for email in ("alice@example.com", "nobody@example.com", "ALICE@example.com "):
        response = client.post("/api/auth/password-reset", json={"email": email})
        assert response.status_code == 202
        answers.add(response.get_data())
    assert len(answers) == 1  # the same answer, whether or not the account exists
    assert eventually(lambda: inbox.messages)
    assert len(inbox.messages) == 1  # one to the account, at most one a minute
    assert inbox.messages[0].rcpt_tos == ["alice@example.com"]
    token = _reset_token(inbox)
    assert PasswordReset.objects.count() == 1 and PasswordReset.objects.first().digest != token
    bad = client.post(
        "/api/auth/password-reset/confirm", json={"token": "nope", "newPassword": NEW}
    )
    assert "token" in assert_error(bad, 422, "validation_error")["fields"]
    body = {"token": token, "newPassword": NEW}
    assert client.post("/api/auth/password-reset/confirm", json=body).status_code == 204
    headers = {"Authorization": f"Bearer {alice['accessToken']}"}
    assert client.get("/api/users/me", headers=headers).status_code == 401  # every session
    again = client.post("/api/auth/password-reset/confirm", json=body)  # single use
    assert_error(again, 422, "validation_error")
    assert _login(client, password=NEW).status_code == 200


def test_reset_tokens_expire(mailing_app, smtp):
    from datetime import timedelta

    _port, inbox = smtp
    client = mailing_app.test_client()
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    alice = client.post("/api/auth/register", json=body).get_json()
    verify_email(client, {"Authorization": f"Bearer {alice['accessToken']}"}, inbox)
    client.post("/api/auth/password-reset", json={"email": "alice@example.com"})
    assert eventually(lambda: inbox.messages)
    reset = PasswordReset.objects.first()
    reset.update(set__expires_at=reset.created_at - timedelta(seconds=1))
    confirm = {"token": _reset_token(inbox), "newPassword": NEW}
    response = client.post("/api/auth/password-reset/confirm", json=confirm)
    assert_error(response, 422, "validation_error")
    assert _login(client).status_code == 200  # the old password still works


def test_reset_without_email_configured_sends_nothing(client, auth, db, caplog):
    auth.register("alice")
    response = client.post("/api/auth/password-reset", json={"email": "alice@example.com"})
    assert response.status_code == 202  # the same answer: the operator reads the log
    assert eventually(lambda: any("SMTP_HOST is unset" in r.getMessage() for r in caplog.records))
    assert snapshot(db, "password_resets") == {"password_resets": []}


def test_deactivating_an_account(client, auth, make_user):
    alice = make_user("alice")
    bob = make_user("bob")
    room = alice.create_room()["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    sent = alice.send(room, "goodbye")
    response = alice.call("delete", "/api/users/me", json={"password": "wrong password"})
    assert "password" in assert_error(response, 422, "validation_error")["fields"]
    alice.ok("delete", "/api/users/me", 204, json={"password": PASSWORD})
    assert_error(alice.call("get", "/api/users/me"), 401, "unauthorized")
    assert Session.objects(user=alice.id).count() == 0
    assert_error(_login(client), 403, "forbidden")
    assert bob.ok("get", f"/api/users/{alice.id}")["deactivated"] is True
    assert [m["id"] for m in bob.history(room)["messages"]] == [sent["id"]]  # messages stay
    assert bob.ok("get", "/api/users/search", query_string={"q": "ali"})["users"] == []


def test_an_address_is_verified_by_the_token_sent_to_it(mailing_app, smtp, db):
    from datetime import timedelta

    from chat.models import EmailCheck, User

    _port, inbox = smtp
    client = mailing_app.test_client()
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    alice = client.post("/api/auth/register", json=body).get_json()
    headers = {"Authorization": f"Bearer {alice['accessToken']}"}
    assert alice["user"]["emailVerified"] is False
    client.post("/api/auth/password-reset", json={"email": "alice@example.com"})
    time.sleep(0.5)
    assert inbox.messages == []  # an unproven address gets no reset
    assert client.post("/api/auth/verify-email", headers=headers).status_code == 202
    assert eventually(lambda: inbox.messages)
    (sent,) = inbox.messages
    assert sent.rcpt_tos == ["alice@example.com"]
    token = re.search(r"Your token: (\S+)", sent.content.decode()).group(1)
    assert EmailCheck.objects.get().digest != token  # stored hashed
    check = EmailCheck.objects.get()
    check.update(set__expires_at=utcnow() - timedelta(seconds=1))
    expired = client.post("/api/auth/verify-email/confirm", json={"token": token})
    assert "token" in assert_error(expired, 422, "validation_error")["fields"]
    assert User.objects.get(username="alice").email_verified is False
    EmailCheck.objects.delete()
    inbox.messages.clear()
    LoginThrottle.objects(key=f"verify:{alice['user']['id']}").delete()  # the minute passed
    verify_email(client, headers, inbox)
    me = client.get("/api/users/me", headers=headers).get_json()
    assert me["emailVerified"] is True and EmailCheck.objects.count() == 0
    assert client.post("/api/auth/verify-email", headers=headers).status_code == 202
    time.sleep(0.3)
    assert inbox.messages == []  # verified: nothing more is sent
    bob = client.post("/api/auth/register", json={**body, "username": "bob"}).get_json()
    bob_headers = {"Authorization": f"Bearer {bob['accessToken']}"}
    assert client.post("/api/auth/verify-email", headers=bob_headers).status_code == 202
    time.sleep(0.3)
    assert inbox.messages == []  # bob's address was alice's: never mailed


def test_verifying_without_email_configured_sends_nothing(client, auth, caplog):
    session = auth.register("alice")
    response = client.post("/api/auth/verify-email", headers=auth.headers(session))
    assert response.status_code == 202
    assert "SMTP_HOST is unset" in caplog.text
    bad = client.post("/api/auth/verify-email/confirm", json={"token": "nope"})
    assert_error(bad, 422, "validation_error")

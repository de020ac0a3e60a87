"""Accounts over REST: register, login, refresh, logout, throttling, token refusals."""

import statistics
import time
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token

from chat.models import User
from tests.conftest import PASSWORD, assert_error


def test_register_returns_user_and_tokens_without_secrets(client, auth):
    session = auth.register("alice")
    assert set(session) == {"user", "accessToken", "refreshToken", "deviceToken"}
    assert session["user"]["username"] == "alice"
    assert session["user"]["email"] == "alice@example.com"
    assert session["user"]["createdAt"].endswith("Z")
    assert "password" not in str(session["user"]).lower()
    stored = User.objects.get(username_lower="alice")
    assert stored.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_usernames_are_unique_case_insensitively(client, auth):
    auth.register("alice")
    response = client.post(
        "/api/auth/register",
        json={"username": "ALICE", "email": "other@example.com", "password": PASSWORD},
    )
    error = assert_error(response, 409, "conflict")
    assert "username" in error["fields"]
    assert User.objects.count() == 1


def test_emails_are_normalized_and_unique(client, auth):
    auth.register("alice", email="Alice@Example.COM")
    assert User.objects.get().email == "alice@example.com"
    taken = auth.register("bob", email=" ALICE@example.com ")
    fresh = auth.register("carol", email="carol@example.com")
    # Registering never tells whether an email is known: same status, same shape...
    assert set(taken) == set(fresh) and set(taken["user"]) == set(fresh["user"])
    me = client.get("/api/users/me", headers=auth.headers(taken)).get_json()
    assert me["email"] == "alice@example.com"  # ...even on the new account's own profile
    # ...but the address stays alice's: bob cannot sign in with it
    login = {"email": "alice@example.com", "password": PASSWORD}
    assert client.post("/api/auth/login", json=login).get_json()["user"]["username"] == "alice"
    assert User.objects.get(username="alice").email == "alice@example.com"
    assert User.objects.get(username="bob").email is None


@pytest.mark.parametrize("password", ["short", "x" * 129])
def test_password_length_is_bounded(client, password):
    body = {"username": "alice", "email": "a@example.com", "password": password}
    response = client.post("/api/auth/register", json=body)
    assert "password" in assert_error(response, 422, "validation_error")["fields"]


def test_login_by_username_or_email(client, auth):
    auth.register("alice")
    for login in ({"username": "ALICE"}, {"email": "Alice@example.com"}):
        response = client.post("/api/auth/login", json={**login, "password": PASSWORD})
        assert response.status_code == 200
        assert response.get_json()["user"]["username"] == "alice"


def test_login_needs_exactly_one_of_username_and_email(client):
    for body in ({"password": PASSWORD}, {"username": "a", "email": "a@b.c", "password": "x"}):
        assert_error(client.post("/api/auth/login", json=body), 422, "validation_error")


def _login(client, username, password):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def test_unknown_user_and_wrong_password_look_the_same(client, auth):
    auth.register("alice")
    wrong = _login(client, "alice", "not the password")
    unknown = _login(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_unknown_user_costs_a_hash_too(client, auth):
    """Without a dummy hash an unknown user answers ~30x faster; allow noise, not that."""
    auth.register("alice")

    def median(username):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            _login(client, username, "not the password")
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    ratio = median("nobody") / median("alice")
    assert 0.33 < ratio < 3, ratio


def test_repeated_failures_throttle_the_account_then_release(client, auth, app):
    auth.register("alice")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert _login(client, "alice", "wrong password").status_code == 401
    locked = _login(client, "alice", PASSWORD)
    assert_error(locked, 429, "rate_limited")
    assert int(locked.headers["Retry-After"]) >= 1
    time.sleep(app.config["LOGIN_LOCK_SECONDS"] + 0.2)
    assert _login(client, "alice", PASSWORD).status_code == 200
    # success resets the counter: one more failure does not lock again
    assert _login(client, "alice", "wrong password").status_code == 401
    assert _login(client, "alice", PASSWORD).status_code == 200


def test_unknown_accounts_are_throttled_like_real_ones(client, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(client, "ghost", "wrong password")
    assert_error(_login(client, "ghost", "wrong password"), 429, "rate_limited")


def test_refresh_gives_a_working_access_token(client, auth):
    session = auth.register("alice")
    response = client.post("/api/auth/refresh", headers=auth.headers(session["refreshToken"]))
    assert response.status_code == 200
    token = response.get_json()["accessToken"]
    assert client.get("/api/users/me", headers=auth.headers(token)).status_code == 200


def test_tokens_only_work_for_their_purpose(client, auth):
    session = auth.register("alice")
    me = client.get("/api/users/me", headers=auth.headers(session["refreshToken"]))
    assert_error(me, 401, "unauthorized")
    refresh = client.post("/api/auth/refresh", headers=auth.headers(session["accessToken"]))
    assert_error(refresh, 401, "unauthorized")


def test_logout_revokes_access_and_refresh_tokens(client, auth):
    session = auth.register("alice")
    other = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert client.post("/api/auth/logout", headers=auth.headers(session)).status_code == 204
    assert_error(client.get("/api/users/me", headers=auth.headers(session)), 401, "unauthorized")
    refresh = client.post("/api/auth/refresh", headers=auth.headers(session["refreshToken"]))
    assert_error(refresh, 401, "unauthorized")
    # another login session of the same user is unaffected
    assert client.get("/api/users/me", headers=auth.headers(other.get_json())).status_code == 200


def test_revocation_is_seen_by_another_app_instance(client, auth, app, base_settings):
    from chat import create_app

    session = auth.register("alice")
    client.post("/api/auth/logout", headers=auth.headers(session))
    other = create_app("testing", **base_settings).test_client()
    assert other.get("/api/users/me", headers=auth.headers(session)).status_code == 401


def _forge(app, claims: dict, key: str | None = None, algorithm: str = "HS256") -> str:
    return pyjwt.encode(claims, key or app.config["JWT_SECRET_KEY"], algorithm=algorithm)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_forged_and_broken_tokens_are_refused(client, auth, app):
    session = auth.register("alice")
    user_id = session["user"]["id"]
    now = int(time.time())
    good = {"sub": user_id, "type": "access", "sid": "s", "iat": now, "nbf": now, "jti": "j"}
    header, payload, _ = session["accessToken"].split(".")
    tokens = {
        "garbage": "not-a-token",
        "stripped signature": f"{header}.{payload}.",
        "alg none": pyjwt.encode({**good, "exp": now + 60}, None, algorithm="none"),
        "other key": _forge(app, {**good, "exp": now + 60}, key="k" * 40),
        "HS512 switch": _forge(app, {**good, "exp": now + 60}, algorithm="HS512"),
        "no exp": _forge(app, good),
        "expired": _forge(app, {**good, "exp": now - 10}),
    }
    for name, token in tokens.items():
        response = client.get("/api/users/me", headers=auth.headers(token))
        assert response.status_code == 401, name
        assert response.get_json()["error"]["code"] == "unauthorized", name
    assert_error(client.get("/api/users/me"), 401, "unauthorized")


def test_token_of_a_deleted_user_is_refused(client, auth, app):
    session = auth.register("alice")
    User.objects(username_lower="alice").delete()
    assert_error(client.get("/api/users/me", headers=auth.headers(session)), 401, "unauthorized")


def test_expired_access_token_is_refused(client, auth, app):
    session = auth.register("alice")
    with app.app_context():
        token = create_access_token(
            session["user"]["id"],
            additional_claims={"sid": "x"},
            expires_delta=timedelta(seconds=-1),
        )
    assert_error(client.get("/api/users/me", headers=auth.headers(token)), 401, "unauthorized")

"""API tokens and bots over REST (RELIABILITY row 37): scopes, room lists, revocation,
expiry, bots that post as themselves, and bad input refused with nothing stored."""

from datetime import timedelta

import pytest

from chat.models import ApiToken
from chat.models.base import utcnow
from tests.conftest import PASSWORD, Caller, assert_error


def _token(caller, status: int = 201, **body) -> dict:
    body = {"name": "ci", "scopes": ["messages:read", "messages:write"], **body}
    return caller.ok("post", "/api/tokens", status, json=body)


def _as(caller, token: str) -> Caller:
    """The same user, calling with an API token."""
    me = {"id": caller.id, "username": caller.username}
    return Caller(caller.client, {"user": me, "accessToken": token})


@pytest.fixture
def room(alice, bob):
    room = alice.create_room("deploys")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room


def test_a_token_is_shown_once_stored_hashed_and_works_within_its_scopes(alice, room, db):
    made = _token(alice, scopes=["messages:write", "users:read"])
    token = made["token"]
    assert token.startswith("cht_") and made["scopes"] == ["messages:write", "users:read"]
    assert token.split("_", 2)[2] not in str(db.api_tokens.find_one())  # only its digest
    listed = alice.ok("get", "/api/tokens")["tokens"]
    assert [t["id"] for t in listed] == [made["id"]] and "token" not in listed[0]
    ci = _as(alice, token)
    assert ci.ok("get", "/api/users/me")["id"] == alice.id
    sent = ci.send(room, "build 41 passed")
    assert sent["sender"] == {"id": alice.id, "username": "alice"}
    assert alice.ok("get", "/api/tokens")["tokens"][0]["lastUsedAt"] is not None
    for method, path, body in [
        ("get", f"/api/messages/{room}", None),  # messages:read
        ("get", "/api/rooms", None),  # rooms:read
        ("post", f"/api/rooms/{room}/leave", None),  # rooms:write
        ("patch", "/api/users/me", {"displayName": "x"}),  # people only
        ("post", "/api/tokens", {"name": "more", "scopes": ["users:read"]}),
        ("post", "/api/bots", {"username": "minion"}),
        ("get", "/api/tokens", None),
    ]:
        assert_error(ci.call(method, path, json=body), 403, "insufficient_scope")
    assert alice.history(room)["messages"][-1]["id"] == sent["id"]  # nothing else changed


def test_revoked_expired_and_forged_tokens_are_401(alice, room, db):
    made = _token(alice)
    ci = _as(alice, made["token"])
    ci.ok("get", f"/api/messages/{room}")
    token_id, secret = made["token"][4:].split("_", 1)
    for forged in [
        f"cht_{token_id}_{'x' * len(secret)}",  # the right id, another secret
        f"cht_{'0' * 24}_{secret}",
        "cht_nonsense",
        f"cht_{token_id}_{secret}x",
    ]:
        assert_error(_as(alice, forged).call("get", "/api/users/me"), 401, "unauthorized")
    db.api_tokens.update_one({}, {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}})
    assert_error(ci.call("get", f"/api/messages/{room}"), 401, "unauthorized")
    db.api_tokens.update_one({}, {"$unset": {"expires_at": 1}})
    ci.ok("get", f"/api/messages/{room}")
    alice.ok("delete", f"/api/tokens/{made['id']}", 204)
    assert_error(ci.call("get", f"/api/messages/{room}"), 401, "unauthorized")
    assert alice.ok("get", "/api/tokens")["tokens"] == []


def test_a_token_of_some_rooms_sees_and_writes_only_those(alice, bob, room):
    other = alice.create_room("secrets-of-alice")["id"]
    alice.send(other, "the deploy key is hunter2")
    alice.send(room, "deploy at noon")
    made = _token(alice, roomIds=[room], scopes=[*ALL])
    ci = _as(alice, made["token"])
    assert made["roomIds"] == [room]
    ci.send(room, "deploying")
    for method, path, body in [
        ("post", "/api/messages", {"roomId": other, "content": "hi"}),
        ("get", f"/api/messages/{other}", None),
        ("get", f"/api/rooms/{other}", None),
        ("post", "/api/rooms", {"name": "new"}),
        ("post", "/api/rooms/direct", {"userId": bob.id}),
        ("get", "/api/search/messages?roomId=" + other + "&q=deploy", None),
    ]:
        assert_error(ci.call(method, path, json=body), 403, "insufficient_scope")
    assert [r["id"] for r in ci.ok("get", "/api/rooms")["rooms"]] == [room]
    found = ci.ok("get", "/api/search/messages", query_string={"q": "deploy"})["messages"]
    assert {m["roomId"] for m in found} == {room}
    cursor = ci.ok("get", "/api/sync")["cursor"]
    alice.send(other, "rotate the key")
    alice.send(room, "rotated")
    synced = ci.ok("get", "/api/sync", query_string={"since": cursor})
    assert {c["roomId"] for c in synced["changes"]} == {room}


ALL = ["messages:read", "messages:write", "rooms:read", "rooms:write", "users:read"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": ["admin"]},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": "messages:read"},
        {"name": "", "scopes": ["users:read"]},
        {"name": "x" * 101, "scopes": ["users:read"]},
        {"name": "x", "scopes": ["users:read"], "roomIds": ["nope"]},
        {"name": "x", "scopes": ["users:read"], "roomIds": []},
        {"name": "x", "scopes": ["users:read"], "roomIds": ["0123456789abcdef01234567"]},
        {"name": "x", "scopes": ["users:read"], "expiresIn": 59},
        {"name": "x", "scopes": ["users:read"], "expiresIn": "3600"},
        {"name": "x", "scopes": ["users:read"], "userId": "0123456789abcdef01234567"},
        {"scopes": ["users:read"]},
    ],
)
def test_bad_token_requests_are_422_and_store_nothing(alice, body):
    assert_error(alice.call("post", "/api/tokens", json=body), 422, "validation_error")
    assert ApiToken.objects.count() == 0


def test_someone_elses_token_cannot_be_revoked(alice, bob):
    made = _token(alice)
    assert_error(bob.call("delete", f"/api/tokens/{made['id']}"), 404, "not_found")
    assert_error(bob.call("delete", "/api/tokens/nonsense"), 404, "not_found")
    assert len(alice.ok("get", "/api/tokens")["tokens"]) == 1


def test_a_bot_posts_as_itself_and_its_owner_manages_it(alice, bob, room, client):
    made = alice.ok("post", "/api/bots", 201, json={"username": "ci-bot", "displayName": "CI"})
    assert made["user"]["bot"] is True and made["user"]["displayName"] == "CI"
    bot = Caller(client, {"user": made["user"], "accessToken": made["token"]})
    bot.ok("post", f"/api/rooms/{room}/join")
    sent = bot.send(room, "build 42 failed")
    assert sent["sender"] == {"id": bot.id, "username": "ci-bot", "bot": True}
    assert bob.history(room)["messages"][-1]["sender"]["bot"] is True
    assert bob.ok("get", f"/api/users/{bot.id}")["bot"] is True
    assert [b["id"] for b in alice.ok("get", "/api/bots")["bots"]] == [bot.id]
    assert bob.ok("get", "/api/bots")["bots"] == []
    login = client.post("/api/auth/login", json={"username": "ci-bot", "password": PASSWORD})
    assert_error(login, 401, "unauthorized")  # no password: tokens only
    extra = alice.ok(
        "post", f"/api/bots/{bot.id}/tokens", 201, json={"name": "read", "scopes": ["users:read"]}
    )
    assert extra["userId"] == bot.id
    assert len(alice.ok("get", f"/api/bots/{bot.id}/tokens")["tokens"]) == 2
    for caller in (bob, bot):
        assert_error(caller.call("delete", f"/api/bots/{bot.id}"), *_refusal(caller, bot))
    taken = alice.call("post", "/api/bots", json={"username": "BOB"})
    assert_error(taken, 409, "conflict")
    alice.ok("delete", f"/api/bots/{bot.id}", 204)
    assert_error(bot.call("get", "/api/users/me"), 401, "unauthorized")
    assert bob.history(room)["messages"][-1]["id"] == sent["id"]  # its messages stay


def _refusal(caller, bot) -> tuple[int, str]:
    return (403, "insufficient_scope") if caller is bot else (404, "not_found")


def test_deactivating_an_account_revokes_its_tokens(alice, room):
    ci = _as(alice, _token(alice)["token"])
    ci.ok("get", f"/api/messages/{room}")
    alice.ok("delete", "/api/users/me", 204, json={"password": PASSWORD})
    assert_error(ci.call("get", f"/api/messages/{room}"), 401, "unauthorized")
    assert ApiToken.objects.count() == 0

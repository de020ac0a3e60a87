"""The one policy (services/policy), through the findings of the second outside review:
each test below failed on the main of 2026-12-04, when each call site decided afresh.
The cascades over sockets and two processes are in tests/sockets/test_cascades.py."""

import io
import time
from urllib.parse import urlsplit

import pytest
from chat_notifications.models import Notification

from chat.models import ApiToken, AuditEntry, IncomingWebhook, Subscription, User
from tests.conftest import PASSWORD, Caller, assert_error, eventually


def _as(caller, token: str) -> Caller:
    me = {"id": caller.id, "username": caller.username}
    return Caller(caller.client, {"user": me, "accessToken": token})


def _token(caller, *scopes: str, **body) -> Caller:
    made = caller.ok("post", "/api/tokens", 201, json={"name": "t", "scopes": list(scopes), **body})
    return _as(caller, made["token"])


@pytest.fixture
def private(alice, bob):
    """alice's private room, bob its admin."""
    room = alice.create_room("ops", isPrivate=True)["id"]
    alice.ok("post", f"/api/rooms/{room}/members", json={"userId": bob.id})
    alice.ok("put", f"/api/rooms/{room}/admins/{bob.id}")
    return room


# 1. A room admin's webhook: no bot of theirs, and it ends with their power.


def test_a_webhooks_bot_is_no_ones_and_no_token_is_minted_for_it(alice, bob, private):
    hook = bob.ok("post", f"/api/rooms/{private}/webhooks", 201, json={"name": "CI"})
    listed = alice.ok("get", f"/api/rooms/{private}/webhooks")["webhooks"]
    assert [(h["id"], h["createdBy"]) for h in listed] == [(hook["id"], bob.id)]
    assert bob.ok("get", "/api/bots")["bots"] == []
    body = {"name": "mine", "scopes": ["messages:read"]}
    for caller in (alice, bob):
        minted = caller.call("post", f"/api/bots/{hook['botId']}/tokens", json=body)
        assert_error(minted, 404, "not_found")
    assert User.objects.get(id=hook["botId"]).bot_owner is None
    assert ApiToken.objects(user=hook["botId"]).count() == 0


@pytest.mark.parametrize("how", ["ban", "kick", "demote"])
def test_what_an_admin_made_in_a_room_ends_when_they_stop_being_its_admin(
    client, alice, bob, private, how
):
    hook = bob.ok("post", f"/api/rooms/{private}/webhooks", 201, json={"name": "CI"})
    sub = bob.ok(
        "post",
        f"/api/rooms/{private}/subscriptions",
        201,
        json={"url": "https://93.184.215.14/hook", "events": ["message_received"]},
    )
    assert sub["createdBy"] == bob.id
    mine = alice.ok("post", f"/api/rooms/{private}/webhooks", 201, json={"name": "Mine"})
    path = urlsplit(hook["url"]).path
    assert client.post(path, json={"text": "before"}).status_code == 201
    if how == "ban":
        alice.ok("post", f"/api/rooms/{private}/bans", json={"userId": bob.id})
    elif how == "kick":
        alice.ok("delete", f"/api/rooms/{private}/members/{bob.id}")
    else:
        alice.ok("delete", f"/api/rooms/{private}/admins/{bob.id}")
    assert_error(client.post(path, json={"text": "after"}), 404, "not_found")
    assert Subscription.objects(id=sub["id"]).count() == 0
    assert [h["id"] for h in alice.ok("get", f"/api/rooms/{private}/webhooks")["webhooks"]] == [
        mine["id"]
    ]
    assert User.objects.get(id=hook["botId"]).deactivated
    ended = {e.action for e in AuditEntry.objects(room=private)}
    assert {"webhook.end", "subscription.end"} <= ended


# 3. Slash commands are their REST twins' actions: the token's scopes apply.


@pytest.mark.parametrize(
    "command, twin",
    [
        ("/topic hello", ("put", "/api/rooms/{room}", {"description": "hello"})),
        ("/invite @carol", ("post", "/api/rooms/{room}/members", {"userId": "{carol}"})),
        ("/kick @bob", ("delete", "/api/rooms/{room}/members/{bob}", None)),
    ],
)
def test_slash_commands_need_the_scopes_of_their_rest_twins(
    alice, bob, make_user, private, command, twin
):
    carol = make_user("carol")
    writer = _token(alice, "messages:write", "messages:read")
    ids = {"room": private, "carol": carol.id, "bob": bob.id}
    method, path, body = twin
    body = {k: v.format(**ids) for k, v in body.items()} if body else None
    rest = writer.call(method, path.format(**ids), **({"json": body} if body else {}))
    assert_error(rest, 403, "insufficient_scope")
    sent = writer.call("post", "/api/messages", json={"roomId": private, "content": command})
    assert_error(sent, 403, "insufficient_scope")
    room = alice.ok("get", f"/api/rooms/{private}")
    assert room["description"] == "" and bob.id in room["participants"]
    assert carol.id not in room["participants"]
    both = _token(alice, "messages:write", "rooms:write")
    ok = both.call("post", "/api/messages", json={"roomId": private, "content": command})
    assert ok.status_code == 202, ok.get_data(True)  # the command's answer, for the caller


# 4. A person's bots end with the person.


@pytest.mark.parametrize("by", ["self", "site admin"])
def test_deactivating_a_person_ends_the_bots_they_own(alice, bob, make_user, by, db):
    made = alice.ok("post", "/api/bots", 201, json={"username": "ci-bot"})
    bot = Caller(alice.client, {"user": made["user"], "accessToken": made["token"]})
    room = bot.ok("post", "/api/rooms/direct", json={"userId": bob.id})["id"]
    bot.send(room, "build green")
    if by == "self":
        alice.ok("delete", "/api/users/me", 204, json={"password": PASSWORD})
    else:
        admin = make_user("root")
        db.users.update_one({"username": "root"}, {"$set": {"site_admin": True}})
        admin.ok("post", f"/api/admin/users/{alice.id}/deactivate")
    assert_error(bot.call("get", f"/api/messages/{room}"), 401, "unauthorized")
    assert User.objects.get(id=made["user"]["id"]).deactivated
    assert ApiToken.objects.count() == 0


def test_a_bot_whose_owner_is_deactivated_is_refused_even_with_a_token_left(alice, db):
    made = alice.ok("post", "/api/bots", 201, json={"username": "ci-bot"})
    bot = Caller(alice.client, {"user": made["user"], "accessToken": made["token"]})
    bot.ok("get", "/api/rooms")
    db.users.update_one(
        {"_id": User.objects.get(username="alice").id}, {"$set": {"deactivated": True}}
    )  # fmt: skip (a cascade cut short)
    assert_error(bot.call("get", "/api/rooms"), 401, "unauthorized")


# 5. What one person may see of another: today's setting decides, in sync too.


def test_sync_hides_a_read_pointer_once_its_reader_turned_receipts_off(alice, bob):
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    cursor = alice.ok("get", "/api/sync")["cursor"]
    his = bob.ok("get", "/api/sync")["cursor"]
    message = alice.send(room, "hello")
    bob.ok("post", f"/api/rooms/{room}/read", json={"messageId": message["id"]})
    bob.ok("patch", "/api/users/me", json={"settings": {"readReceipts": False}})
    changes = alice.ok("get", "/api/sync", query_string={"since": cursor})["changes"]
    assert [c["type"] for c in changes] == ["message_created"]
    assert alice.ok("get", f"/api/rooms/{room}/reads")["reads"] == []
    own = bob.ok("get", "/api/sync", query_string={"since": his})["changes"]
    assert "read_updated" in [c["type"] for c in own]  # one always sees one's own


# 6. Blocks stop every kind of contact.


@pytest.fixture
def dm(alice, bob):
    """A direct room of alice and bob, with a message of bob's, then alice blocks bob."""
    room = bob.ok("post", "/api/rooms/direct", json={"userId": alice.id})["id"]
    mine = bob.send(room, "hi")
    theirs = alice.send(room, "hello")
    alice.ok("put", f"/api/users/me/blocks/{bob.id}", 204)
    return {"room": room, "mine": mine["id"], "theirs": theirs["id"]}


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("patch", "/api/messages/{mine}", {"content": "edited"}),
        ("post", "/api/messages/{theirs}/reactions", {"emoji": "👍"}),
        ("put", "/api/messages/{theirs}/pin", None),
        ("post", "/api/rooms/{room}/read", {"messageId": "{theirs}"}),
        ("post", "/api/messages", {"roomId": "{room}", "content": "still there?"}),
    ],
)
def test_a_blocked_user_does_nothing_in_the_direct_room(alice, bob, dm, method, path, body):
    fill = {k: v.format(**dm) for k, v in (body or {}).items()}
    answer = bob.call(method, path.format(**dm), **({"json": fill} if body else {}))
    assert_error(answer, 403, "forbidden")
    messages = alice.history(dm["room"])["messages"]
    assert [(m["content"], m.get("pinned", False)) for m in messages] == [
        ("hi", False),
        ("hello", False),
    ]
    assert all(not m.get("reactionCounts") for m in messages)


def test_a_blocked_user_cannot_react_to_the_blockers_messages_anywhere(alice, bob):
    room = alice.create_room("general")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    hers, his = alice.send(room, "mine"), bob.send(room, "his")
    alice.ok("put", f"/api/users/me/blocks/{bob.id}", 204)
    react = bob.call("post", f"/api/messages/{hers['id']}/reactions", json={"emoji": "👍"})
    assert_error(react, 403, "forbidden")
    bob.ok("post", f"/api/messages/{his['id']}/reactions", json={"emoji": "👍"})  # his own


def test_a_blocked_user_cannot_add_the_blocker_to_a_room(alice, bob):
    alice.ok("put", f"/api/users/me/blocks/{bob.id}", 204)
    room = bob.create_room("trap", isPrivate=True)["id"]
    added = bob.call("post", f"/api/rooms/{room}/members", json={"userId": alice.id})
    assert_error(added, 403, "forbidden")
    slash = bob.call("post", "/api/messages", json={"roomId": room, "content": "/invite @alice"})
    assert_error(slash, 403, "forbidden")
    assert bob.ok("get", f"/api/rooms/{room}")["participants"] == [bob.id]


def test_a_blocked_users_thread_reply_does_not_notify_the_blocker(alice, bob, make_user):
    carol = make_user("carol")
    room = alice.create_room("general")["id"]
    for caller in (bob, carol):
        caller.ok("post", f"/api/rooms/{room}/join")
    parent = alice.send(room, "thoughts?")
    alice.ok("put", f"/api/users/me/blocks/{bob.id}", 204)
    bob.send(room, "mine, @alice", parentId=parent["id"])
    carol.send(room, "agreed", parentId=parent["id"])

    def notes():
        return [(str(n.actor), n.type) for n in Notification.objects(user=alice.id)]

    assert eventually(notes) == [(carol.id, "thread_reply")]  # notified in the background
    time.sleep(0.3)  # bob's reply, sent first, had as long
    assert notes() == [(carol.id, "thread_reply")]


def test_a_blocker_does_not_see_the_blocked_users_status(alice, bob):
    bob.ok("patch", "/api/users/me", json={"status": {"text": "on call", "emoji": ""}})
    assert alice.ok("get", f"/api/users/{bob.id}")["status"]["text"] == "on call"
    alice.ok("put", f"/api/users/me/blocks/{bob.id}", 204)
    assert alice.ok("get", f"/api/users/{bob.id}")["status"] is None
    assert bob.ok("get", f"/api/users/{bob.id}")["status"]["text"] == "on call"


# 8. The lower findings.


@pytest.mark.parametrize("name", ["alice", "Alice", "Ops\u202egnp", "zero\u200bwidth", " "])
def test_a_webhook_cannot_post_under_a_persons_name_or_invisible_characters(client, alice, name):
    room = alice.create_room("alerts")["id"]
    hook = alice.ok("post", f"/api/rooms/{room}/webhooks", 201, json={"name": "CI"})
    sent = client.post(urlsplit(hook["url"]).path, json={"text": "hi", "username": name})
    assert_error(sent, 422, "validation_error")
    assert alice.history(room)["messages"] == []


def test_deactivating_is_throttled_like_a_login(app, alice):
    app.config["LOGIN_MAX_FAILURES"] = 2
    try:
        for _ in range(2):
            wrong = alice.call("delete", "/api/users/me", json={"password": "not it at all"})
            assert_error(wrong, 422, "validation_error")
        right = alice.call("delete", "/api/users/me", json={"password": PASSWORD})
        assert_error(right, 429, "rate_limited")
    finally:
        app.config["LOGIN_MAX_FAILURES"] = 5
    assert not User.objects.get(id=alice.id).deactivated


def test_a_password_reset_ends_the_accounts_tokens_and_its_bots_tokens(app, client, alice):
    from chat.services import auth

    ci = _token(alice, "rooms:read")
    made = alice.ok("post", "/api/bots", 201, json={"username": "ci-bot"})
    bot = Caller(client, {"user": made["user"], "accessToken": made["token"]})
    ci.ok("get", "/api/rooms")
    bot.ok("get", "/api/rooms")
    token = "reset-token-for-the-test-0123456789"
    from chat.models import PasswordReset
    from chat.models.base import utcnow

    expires = utcnow().replace(year=utcnow().year + 1)
    PasswordReset(digest=auth.digest(token), user=alice.id, expires_at=expires).save()
    reset = client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "newPassword": "a new one here"}
    )
    assert reset.status_code == 204, reset.get_data(True)
    for caller in (ci, bot):
        assert_error(caller.call("get", "/api/rooms"), 401, "unauthorized")
    assert not User.objects.get(id=made["user"]["id"]).deactivated  # the bot stays


def test_webhook_bots_made_before_the_policy_lose_their_owner_and_tokens(db, alice):
    """Migration 0017: what a webhook's creator could mint before is gone."""
    from chat.migrate import apply_migrations

    room = alice.create_room("alerts")["id"]
    hook = alice.ok("post", f"/api/rooms/{room}/webhooks", 201, json={"name": "CI"})
    db.users.update_one({"_id": IncomingWebhook.objects.get(id=hook["id"]).bot},
                        {"$set": {"bot_owner": User.objects.get(id=alice.id).id}})  # fmt: skip
    ApiToken(user=hook["botId"], owner=alice.id, name="old", scopes=["messages:read"],
             digest="x" * 64).save()  # fmt: skip
    db.schema_migrations.delete_one({"_id": "0017_webhook_bots_unowned"})
    apply_migrations(db)
    assert User.objects.get(id=hook["botId"]).bot_owner is None
    assert ApiToken.objects(user=hook["botId"]).count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://[::7f00:1]/hook",  # IPv4-compatible: 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64: 169.254.169.254
        "http://[2002:7f00:1::]/hook",  # 6to4: 127.0.0.1
        "http://[::ffff:10.0.0.1]/hook",  # IPv4-mapped
    ],
)
def test_the_ssrf_guard_refuses_ipv6_forms_of_private_ipv4(alice, url, db):
    room = alice.create_room("alerts")["id"]
    body = {"url": url, "events": ["message_received"]}
    made = alice.call("post", f"/api/rooms/{room}/subscriptions", json=body)
    assert "url" in assert_error(made, 422, "validation_error")["fields"]
    assert db.subscriptions.count_documents({}) == 0


def test_a_webhooks_url_comes_from_public_url_never_the_host_header(app, alice):
    room = alice.create_room("alerts")["id"]
    app.config["PUBLIC_URL"] = "https://chat.example.com/"
    try:
        made = alice.client.post(f"/api/rooms/{room}/webhooks", json={"name": "CI"},
                                 headers={**alice.headers, "Host": "evil.example"})  # fmt: skip
    finally:
        app.config["PUBLIC_URL"] = ""
    assert made.get_json()["url"].startswith("https://chat.example.com/api/hooks/")
    bare = alice.ok("post", f"/api/rooms/{room}/webhooks", 201, json={"name": "CD"})
    assert bare["url"].startswith("/api/hooks/")  # no PUBLIC_URL: a path


def test_a_chunked_webhook_body_is_held_to_the_cap(client, alice):
    room = alice.create_room("alerts")["id"]
    hook = alice.ok("post", f"/api/rooms/{room}/webhooks", 201, json={"name": "CI"})
    body = b'{"text": "' + b"x" * 70_000 + b'"}'
    sent = client.post(urlsplit(hook["url"]).path, input_stream=io.BytesIO(body),
                       headers={"Content-Type": "application/json",
                                "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})  # fmt: skip
    assert_error(sent, 413, "payload_too_large")
    assert alice.history(room)["messages"] == []


def test_api_tokens_are_limited_per_user_not_per_address(base_settings, alice, bob):
    from chat import create_app

    tokens = [_token(p, "rooms:read") for p in (alice, bob)]
    limited = create_app("testing", **base_settings, RATELIMIT_DEFAULT="4 per minute")
    client = limited.test_client()
    people = [Caller(client, p.session) for p in (alice, bob)]
    tokens = [Caller(client, t.session) for t in tokens]
    for _ in range(3):
        tokens[0].ok("get", "/api/rooms")
    people[0].ok("get", "/api/rooms")  # her session and her tokens: one budget of 4
    assert_error(tokens[0].call("get", "/api/rooms"), 429, "rate_limited")
    assert_error(people[0].call("get", "/api/rooms"), 429, "rate_limited")
    tokens[1].ok("get", "/api/rooms")  # bob, from the same address, has his own


def test_signing_in_with_an_email_tells_no_more_than_registering_did(client, auth):
    auth.register("alice", email="alice@example.com", password="alice's password")
    auth.register("mallory", email="alice@example.com", password="mallory's password")
    as_mallory = {"email": "alice@example.com", "password": "mallory's password"}
    answer = client.post("/api/auth/login", json=as_mallory)
    assert answer.status_code == 200  # as if the address had been free
    assert answer.get_json()["user"]["username"] == "mallory"
    as_alice = {"email": "alice@example.com", "password": "alice's password"}
    assert client.post("/api/auth/login", json=as_alice).get_json()["user"]["username"] == "alice"


def test_a_known_device_signs_in_while_its_address_is_throttled(client, auth, app):
    made = auth.register("alice")
    wrong = {"username": "alice", "password": "a neighbour's guess"}
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/api/auth/login", json=wrong)  # a neighbour behind the same NAT
    plain = {"username": "alice", "password": PASSWORD}
    assert_error(client.post("/api/auth/login", json=plain), 429, "rate_limited")
    known = client.post("/api/auth/login", json={**plain, "deviceToken": made["deviceToken"]})
    assert known.status_code == 200, known.get_data(True)


def test_a_sessions_device_is_a_bounded_printable_label(client, auth):
    made = auth.register("alice")
    agent = "Evil\x1b[31mBrowser\u202e" + "x" * 5000
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD},
                headers={"User-Agent": agent})  # fmt: skip
    devices = [s["device"] for s in client.get("/api/auth/sessions",
               headers=auth.headers(made)).get_json()["sessions"]]  # fmt: skip
    assert all(len(d) <= 200 and d.isprintable() for d in devices)
    assert any(d.startswith("Evil[31mBrowser") for d in devices)


def test_the_policy_names_a_question_it_cannot_answer(app, alice, bob):
    """A room's action asked without its room, or a kind of visibility no one defined,
    is refused by name (a caller's mistake never becomes an allow)."""
    from chat.actor import Actor
    from chat.services import policy

    with app.app_context():
        actor = Actor.session(User.objects.get(id=alice.id), "test")
        with pytest.raises(LookupError, match="kick_member is decided in a room"):
            policy.authorize(actor, "kick_member")
        with pytest.raises(LookupError, match="unknown visibility 'mood'"):
            policy.sees(actor.id, User.objects.get(id=bob.id), "mood")
        assert policy.sees(actor.id, actor.user, "mood")  # oneself: always

"""Incoming webhooks: a room admin's URL posts in the room as the webhook's bot; retried
deliveries post once; bad deliveries are 4xx and store nothing."""

import json
import time
from urllib.parse import urlsplit

import pytest

from chat.models import IncomingWebhook, Message
from chat.services import webhooks
from tests.conftest import assert_error


@pytest.fixture
def room(alice, bob):
    room = alice.create_room("alerts")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room


@pytest.fixture
def hook(alice, room) -> dict:
    made = alice.ok("post", f"/api/rooms/{room}/webhooks", 201, json={"name": "Grafana"})
    return {**made, "path": urlsplit(made["url"]).path}


def _deliver(client, path: str, body=None, **kwargs):
    return (
        client.post(path, json=body, **kwargs) if body is not None else client.post(path, **kwargs)
    )


def test_a_delivery_posts_as_the_webhooks_bot(client, alice, bob, room, hook):
    assert hook["url"].startswith("/api/hooks/") and hook["name"] == "Grafana"  # no PUBLIC_URL
    assert alice.ok("get", f"/api/rooms/{room}/webhooks")["webhooks"] == [
        {k: hook[k] for k in ("id", "name", "roomId", "botId", "createdAt", "createdBy")}
    ]
    first = _deliver(client, hook["path"], {"text": "CPU at 97% on db-1"})
    assert first.status_code == 201, first.get_data(True)
    sender = first.get_json()["sender"]
    assert sender["id"] == hook["botId"] and sender["bot"] is True
    named = _deliver(client, hook["path"], {"text": "resolved", "username": "Pager", "icon": ":x:"})
    assert named.get_json()["sender"]["displayName"] == "Pager"  # Slack's extras ignored
    assert [m["content"] for m in bob.history(room)["messages"]] == [
        "CPU at 97% on db-1",
        "resolved",
    ]
    assert bob.ok("get", f"/api/users/{hook['botId']}")["displayName"] == "Grafana"


def test_a_retried_delivery_posts_once(client, bob, room, hook):
    key = {"Idempotency-Key": "alert-7781"}
    first = _deliver(client, hook["path"], {"text": "disk full"}, headers=key)
    again = _deliver(client, hook["path"], {"text": "disk full"}, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert len(bob.history(room)["messages"]) == 1


@pytest.mark.parametrize(
    "kwargs, status, code",
    [
        (
            {"data": "text=hi", "content_type": "application/x-www-form-urlencoded"},
            415,
            "validation_error",
        ),
        ({"data": "{not json", "content_type": "application/json"}, 400, "validation_error"),
        ({"data": json.dumps(["hi"]), "content_type": "application/json"}, 422, "validation_error"),
        ({"json": {}}, 422, "validation_error"),
        ({"json": {"text": ""}}, 422, "validation_error"),
        ({"json": {"text": "x" * 4001}}, 422, "validation_error"),
        ({"json": {"text": "hi", "username": "x" * 65}}, 422, "validation_error"),
        ({"json": {"text": "x" * 70_000}}, 413, "payload_too_large"),
        (
            {"json": {"text": "hi"}, "headers": {"Idempotency-Key": "with space"}},
            422,
            "validation_error",
        ),
    ],
)
def test_bad_deliveries_are_4xx_and_store_nothing(client, hook, kwargs, status, code):
    assert_error(client.post(hook["path"], **kwargs), status, code)
    assert Message.objects.count() == 0


def test_wrong_secrets_and_unknown_hooks_are_404(client, hook):
    hook_id, secret = hook["path"].split("/")[-2:]
    for path in [
        f"/api/hooks/{hook_id}/{'x' * len(secret)}",
        f"/api/hooks/{'0' * 24}/{secret}",
        f"/api/hooks/nonsense/{secret}",
    ]:
        assert_error(client.post(path, json={"text": "hi"}), 404, "not_found")
    assert Message.objects.count() == 0


def test_a_burst_beyond_the_limit_is_429(client, hook):
    started = time.monotonic()
    answers = [client.post(hook["path"], json={"text": f"#{i}"}) for i in range(40)]
    took = time.monotonic() - started  # (the bucket refills RATE a second meanwhile)
    limited = [a for a in answers if a.status_code == 429]
    assert limited and int(limited[0].headers["Retry-After"]) >= 1
    assert_error(limited[0], 429, "rate_limited")
    stored = Message.objects.count()
    assert stored == 40 - len(limited) <= webhooks.BURST + 1 + webhooks.RATE * took


def test_who_may_manage_webhooks(client, alice, bob, make_user, room, hook):
    carol = make_user("carol")
    assert_error(
        bob.call("post", f"/api/rooms/{room}/webhooks", json={"name": "x"}), 403, "forbidden"
    )
    assert_error(bob.call("get", f"/api/rooms/{room}/webhooks"), 403, "forbidden")
    private = alice.create_room("private", isPrivate=True)["id"]
    assert_error(
        carol.call("post", f"/api/rooms/{private}/webhooks", json={"name": "x"}), 404, "not_found"
    )
    token = alice.ok("post", "/api/tokens", 201, json={"name": "t", "scopes": ["rooms:write"]})
    headers = {"Authorization": f"Bearer {token['token']}"}
    answer = client.post(f"/api/rooms/{room}/webhooks", json={"name": "x"}, headers=headers)
    assert_error(answer, 403, "insufficient_scope")
    assert_error(
        alice.call("post", f"/api/rooms/{room}/webhooks", json={"name": ""}),
        422,
        "validation_error",
    )
    assert IncomingWebhook.objects.count() == 1
    alice.ok("delete", f"/api/rooms/{room}/webhooks/{hook['id']}", 204)
    assert_error(client.post(hook["path"], json={"text": "hi"}), 404, "not_found")
    assert bob.ok("get", f"/api/users/{hook['botId']}")["deactivated"] is True

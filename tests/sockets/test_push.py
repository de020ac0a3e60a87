"""Push goes only to users with no live socket on any process: two servers started as
shipped, a local Web Push service decrypting what it gets (tests/pushservers.py)."""

import pytest

from tests.conftest import eventually
from tests.processes import server
from tests.pushservers import WebPushService, vapid_private_key


@pytest.fixture
def webpush():
    service = WebPushService()
    yield service
    service.close()


def test_web_push_reaches_an_offline_user_and_not_an_online_one(live_settings, people, webpush):
    settings = {
        **live_settings,
        "VAPID_PRIVATE_KEY": vapid_private_key(),
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    }
    with server(settings) as (a, _), server(settings) as (b, _):
        alice, bob = people("alice", "bob", base=a)
        room = alice.create_room("on-call")
        bob.ok("post", f"/api/rooms/{room}/join")
        device = {"platform": "webpush", "subscription": webpush.subscribe("bob")}
        bob.ok("post", "/api/devices", 201, json=device)
        online = bob.socket(base=b)  # on the other process
        alice.ok("post", "/api/messages", 201, json={"roomId": room, "content": "@bob one"})
        assert online.wait_for("notification")["type"] == "mention"
        online.close()
        assert eventually(lambda: not _online(alice, bob, a), 5)
        sent = alice.ok("post", "/api/messages", 201, json={"roomId": room, "content": "@bob two"})
        assert eventually(lambda: webpush.received, 10), webpush.errors
        assert [p["messageId"] for _path, _claims, p in webpush.received] == [sent["id"]]


def _online(alice, bob, base) -> bool:
    users = alice.ok("get", "/api/users/online", base=base)["users"]
    return any(u["id"] == bob.id for u in users)

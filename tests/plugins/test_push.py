"""Device push for notifications: Web Push, FCM and APNs against local services
speaking their APIs (tests/pushservers.py: the crypto is real on both sides), ids-only
payloads unless PUSH_INCLUDE_CONTENT, dead devices removed; and, as shipped on two
processes, a push only while the user has no live socket anywhere."""

import pytest

from chat.models import Device
from tests.conftest import eventually
from tests.processes import server
from tests.pushservers import ApnsService, FcmService, WebPushService, vapid_private_key


@pytest.fixture
def services(app, monkeypatch, tmp_path):
    webpush, fcm, apns = WebPushService(), FcmService(), ApnsService()
    for key, value in {
        "VAPID_PRIVATE_KEY": vapid_private_key(),
        "VAPID_SUBJECT": "mailto:ops@example.com",
        "FCM_CREDENTIALS": fcm.credentials_file(tmp_path / "service-account.json"),
        "FCM_URL": fcm.base,
        "APNS_KEY_FILE": apns.key_file(tmp_path / "AuthKey.p8"),
        "APNS_KEY_ID": apns.key_id,
        "APNS_TEAM_ID": apns.team,
        "APNS_TOPIC": "com.example.chat",
        "APNS_URL": apns.base,
        "WEBHOOK_ALLOWED_HOSTS": ["127.0.0.1"],
    }.items():
        monkeypatch.setitem(app.config, key, value)
    yield webpush, fcm, apns
    for service in (webpush, fcm, apns):
        service.close()


@pytest.fixture
def room(alice, bob):
    room = alice.create_room("pushy")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room


def test_an_offline_users_devices_get_the_mention(alice, bob, room, services):
    webpush, fcm, apns = services
    browser = webpush.subscribe("bob-laptop")
    bob.ok("post", "/api/devices", 201, json={"platform": "webpush", "subscription": browser})
    bob.ok("post", "/api/devices", 201, json={"platform": "fcm", "token": "bob-phone:APA91b"})
    bob.ok("post", "/api/devices", 201, json={"platform": "apns", "token": "ab12" * 16})
    listed = bob.ok("get", "/api/devices")
    assert [d["platform"] for d in listed["devices"]] == ["webpush", "fcm", "apns"]
    assert len(listed["vapidPublicKey"]) == 87  # a P-256 point, base64url
    sent = alice.send(room, "@bob the build is red")
    everyone = lambda: webpush.received and fcm.received and apns.received  # noqa: E731
    assert eventually(everyone, 10), webpush.errors + fcm.errors + apns.errors
    path, claims, payload = webpush.received[0]
    assert path == "/push/bob-laptop" and claims["sub"] == "mailto:ops@example.com"
    assert payload["messageId"] == sent["id"] and payload["type"] == "mention"
    assert "body" not in payload and "the build is red" not in str(payload)  # ids only
    assert fcm.received[0]["token"] == "bob-phone:APA91b"
    assert fcm.received[0]["data"]["messageId"] == sent["id"]
    token, body = apns.received[0]
    assert token == "ab12" * 16 and body["messageId"] == sent["id"] and "alert" in body["aps"]
    assert eventually(
        lambda: all(d["lastPushedAt"] for d in bob.ok("get", "/api/devices")["devices"])
    )


def test_content_only_when_configured(app, alice, bob, room, services, monkeypatch):
    webpush, _fcm, _apns = services
    monkeypatch.setitem(app.config, "PUSH_INCLUDE_CONTENT", True)
    browser = webpush.subscribe("bob")
    bob.ok("post", "/api/devices", 201, json={"platform": "webpush", "subscription": browser})
    alice.send(room, "@bob lunch?")
    assert eventually(lambda: webpush.received, 10), webpush.errors
    payload = webpush.received[0][2]
    assert payload["body"] == "@bob lunch?" and payload["title"] == "alice in pushy"


def test_devices_their_services_call_gone_are_removed(alice, bob, room, services):
    webpush, fcm, _apns = services
    bob.ok(
        "post",
        "/api/devices",
        201,
        json={"platform": "webpush", "subscription": webpush.subscribe("gone")},
    )
    bob.ok("post", "/api/devices", 201, json={"platform": "fcm", "token": "dead-token"})
    bob.ok("post", "/api/devices", 201, json={"platform": "fcm", "token": "alive-token"})
    bob.ok("post", "/api/devices", 201, json={"platform": "apns", "token": "deaddeaddead"})
    alice.send(room, "@bob still there?")
    assert eventually(lambda: Device.objects.count() == 1 and fcm.received, 10)
    assert Device.objects.get().token == "alive-token" and len(fcm.received) == 1


def test_web_push_reaches_an_offline_user_and_not_an_online_one(live_settings, people):
    webpush = WebPushService()
    settings = {**live_settings, "VAPID_PRIVATE_KEY": vapid_private_key()}
    try:
        with server(settings) as (a, _), server(settings) as (b, _):
            alice, bob = people("alice", "bob", base=a)
            room = alice.create_room("on-call")
            bob.ok("post", f"/api/rooms/{room}/join")
            device = {"platform": "webpush", "subscription": webpush.subscribe("bob")}
            bob.ok("post", "/api/devices", 201, json=device)
            online = bob.socket(base=b)  # on the other process
            body = {"roomId": room, "content": "@bob one"}
            alice.ok("post", "/api/messages", 201, json=body)
            assert online.wait_for("notification")["type"] == "mention"
            online.close()
            assert eventually(lambda: not _online(alice, bob, a), 5)
            body = {"roomId": room, "content": "@bob two"}
            sent = alice.ok("post", "/api/messages", 201, json=body)
            assert eventually(lambda: webpush.received, 10), webpush.errors
            assert [p["messageId"] for _path, _claims, p in webpush.received] == [sent["id"]]
    finally:
        webpush.close()


def _online(alice, bob, base) -> bool:
    users = alice.ok("get", "/api/users/online", base=base)["users"]
    return any(u["id"] == bob.id for u in users)

"""Device push: registration (one device per token or endpoint, only yours to delete;
bad input refused, nothing stored). What is pushed, and when: the notifications
plugin's tests (tests/plugins/test_push.py)."""

import pytest

from chat.models import Device
from tests.conftest import assert_error
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


def test_registering_twice_is_one_device_and_only_yours_to_delete(alice, bob, services):
    webpush, _fcm, _apns = services
    browser = webpush.subscribe("same")
    first = bob.ok(
        "post", "/api/devices", 201, json={"platform": "webpush", "subscription": browser}
    )
    again = bob.ok(
        "post", "/api/devices", 201, json={"platform": "webpush", "subscription": browser}
    )
    assert first["id"] == again["id"] and Device.objects.count() == 1
    assert_error(alice.call("delete", f"/api/devices/{first['id']}"), 404, "not_found")
    bob.ok("delete", f"/api/devices/{first['id']}", 204)
    assert Device.objects.count() == 0


def _browser(endpoint="https://push.example.com/x", p256dh="B" + "A" * 86, auth="A" * 22):
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}


@pytest.mark.parametrize(
    "body",
    [
        {"platform": "carrier-pigeon", "token": "abcdefgh"},
        {"platform": "fcm"},
        {"platform": "fcm", "token": "has spaces in it"},
        {"platform": "fcm", "token": "x" * 4097},
        {"platform": "apns", "subscription": _browser()},
        {"platform": "webpush"},
        {"platform": "webpush", "token": "abcdefgh", "subscription": _browser()},
        {"platform": "webpush", "subscription": _browser(endpoint="http://10.0.0.7/push")},
        {"platform": "webpush", "subscription": _browser(endpoint="http://169.254.169.254/")},
        {"platform": "webpush", "subscription": _browser(endpoint="ftp://push.example.com/")},
        {"platform": "webpush", "subscription": _browser(p256dh="not base64!")},
        {"platform": "webpush", "subscription": _browser(auth="")},
        {"platform": "webpush", "subscription": {"endpoint": "https://push.example.com/x"}},
    ],
)
def test_bad_registrations_are_422_and_store_nothing(app, bob, body, monkeypatch):
    monkeypatch.setitem(app.config, "VAPID_PRIVATE_KEY", vapid_private_key())
    monkeypatch.setitem(app.config, "FCM_CREDENTIALS", "/nonexistent/but/configured.json")
    assert_error(bob.call("post", "/api/devices", json=body), 422, "validation_error")
    assert Device.objects.count() == 0


def test_a_platform_the_server_cannot_push_to_is_refused(bob):
    answer = bob.call("post", "/api/devices", json={"platform": "apns", "token": "ab" * 32})
    assert_error(answer, 422, "validation_error")
    assert bob.ok("get", "/api/devices")["vapidPublicKey"] is None

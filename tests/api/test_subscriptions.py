"""Outgoing webhooks (RELIABILITY row 38, in process; the restart is in
tests/faults/test_webhook_outage.py): SSRF refusals, signed deliveries a Standard
Webhooks receiver verifies, retries, dead letters and who may manage them. The upkeep
loop's delivery job is run here by hand (this in-process app runs no loop)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from chat.models import Delivery, Subscription
from chat.services import subscriptions
from devtools.servers import free_port
from tests.conftest import assert_error, eventually


class Receiver(BaseHTTPRequestHandler):
    """Answers `status` (a redirect to `location` when set); records every POST."""

    status, location, calls = 200, None, []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(Receiver.status)
        if Receiver.location:
            self.send_header("Location", Receiver.location)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(app, monkeypatch):
    Receiver.status, Receiver.location, Receiver.calls = 200, None, []
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", ["127.0.0.1"])
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_SECONDS", 0.05)
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_ATTEMPTS", 3)
    yield f"http://127.0.0.1:{httpd.server_port}/hooks/chat"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def room(alice, bob):
    room = alice.create_room("events")["id"]
    bob.ok("post", f"/api/rooms/{room}/join")
    return room


def _subscribe(caller, room, url, events=("message_received",), status=201):
    body = {"url": url, "events": list(events)}
    return caller.ok("post", f"/api/rooms/{room}/subscriptions", status, json=body)


def _spawn(fn, *args):
    threading.Thread(target=fn, args=args, daemon=True).start()


def _run_deliveries(app, done, timeout: float = 10.0):
    with app.app_context():
        return eventually(lambda: subscriptions.dispatch(_spawn) >= 0 and done(), timeout)


def _verified(secret: str) -> list[dict]:
    return [Webhook(secret).verify(body, headers) for headers, body in Receiver.calls]


def test_events_are_delivered_signed(app, alice, bob, room, receiver):
    sub = _subscribe(alice, room, receiver, ["message_received", "user_left"])
    assert sub["secret"].startswith("whsec_") and "secret" not in str(
        alice.ok("get", f"/api/rooms/{room}/subscriptions")
    )
    sent = bob.send(room, "hello hooks")
    bob.ok("patch", f"/api/messages/{sent['id']}", json={"content": "edited"})  # not asked for
    bob.ok("post", f"/api/rooms/{room}/leave", 204)
    assert _run_deliveries(app, lambda: len(Receiver.calls) >= 2)
    payloads = sorted(_verified(sub["secret"]), key=lambda p: p["type"])  # sent in parallel
    assert [p["type"] for p in payloads] == ["message_received", "user_left"]
    assert payloads[0]["data"]["message"]["id"] == sent["id"]
    ids = [headers["webhook-id"] for headers, _ in Receiver.calls]
    assert len(set(ids)) == 2
    listed = alice.ok("get", f"/api/rooms/{room}/subscriptions/{sub['id']}/deliveries")
    assert {d["state"] for d in listed["deliveries"]} == {"delivered"}


def test_failures_retry_then_dead_letter_then_redeliver(app, alice, room, receiver):
    Receiver.status = 503
    sub = _subscribe(alice, room, receiver)
    alice.send(room, "will fail")
    assert _run_deliveries(app, lambda: Delivery.objects(state="dead").count() == 1)
    assert len(Receiver.calls) == 3  # WEBHOOK_MAX_ATTEMPTS
    path = f"/api/rooms/{room}/subscriptions/{sub['id']}"
    dead = alice.ok("get", f"{path}/deliveries", query_string={"state": "dead"})["deliveries"]
    assert dead[0]["attempts"] == 3 and dead[0]["lastStatus"] == 503
    assert alice.ok("get", f"/api/rooms/{room}/subscriptions")["subscriptions"][0]["dead"] == 1
    Receiver.status = 204
    assert alice.ok("post", f"{path}/redeliver")["redelivered"] == 1
    assert _run_deliveries(app, lambda: Delivery.objects(state="delivered").count() == 1)
    assert len({h["webhook-id"] for h, _ in Receiver.calls}) == 1  # the same delivery
    assert _verified(sub["secret"])[-1]["data"]["message"]["content"] == "will fail"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",  # a name resolving to loopback
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://100.64.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://user:pass@example.com/hook",
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http:///nohost",
        "not a url",
        "http://no-such-host.invalid/hook",
    ],
)
def test_unsafe_urls_are_refused(app, alice, room, url, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", [])
    body = {"url": url, "events": ["message_received"]}
    answer = alice.call("post", f"/api/rooms/{room}/subscriptions", json=body)
    assert_error(answer, 422, "validation_error")
    assert Subscription.objects.count() == 0


def test_a_redirect_to_a_private_address_is_not_followed(app, alice, room, receiver):
    Receiver.status, Receiver.location = 307, "http://169.254.169.254/latest/meta-data/"
    sub = _subscribe(alice, room, receiver)
    alice.send(room, "redirected")
    assert _run_deliveries(app, lambda: Delivery.objects(state="dead").count() == 1)
    dead = Delivery.objects.get(subscription=sub["id"])
    assert "private" in dead.last_error and dead.last_status is None


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://example.com/x", "events": ["everything"]},
        {"url": "https://example.com/x", "events": []},
        {"url": "https://example.com/x"},
        {"url": "https://example.com/" + "x" * 2000, "events": ["message_received"]},
        {"url": 7, "events": ["message_received"]},
        {"url": "https://example.com/x", "events": ["message_received"], "secret": "mine"},
    ],
)
def test_bad_subscriptions_are_422(alice, room, body):
    answer = alice.call("post", f"/api/rooms/{room}/subscriptions", json=body)
    assert_error(answer, 422, "validation_error")
    assert Subscription.objects.count() == 0


def test_who_may_manage_subscriptions(client, alice, bob, make_user, room, receiver):
    sub = _subscribe(alice, room, receiver)
    path = f"/api/rooms/{room}/subscriptions"
    assert_error(bob.call("get", path), 403, "forbidden")
    assert_error(bob.call("delete", f"{path}/{sub['id']}"), 403, "forbidden")
    carol = make_user("carol")
    private = alice.create_room("private", isPrivate=True)["id"]
    body = {"url": receiver, "events": ["message_received"]}
    answer = carol.call("post", f"/api/rooms/{private}/subscriptions", json=body)
    assert_error(answer, 404, "not_found")
    token = alice.ok("post", "/api/tokens", 201, json={"name": "t", "scopes": ["rooms:write"]})
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert_error(client.get(path, headers=headers), 403, "insufficient_scope")
    assert_error(alice.call("delete", f"{path}/{'0' * 24}"), 404, "not_found")
    alice.ok("delete", f"{path}/{sub['id']}", 204)
    assert alice.ok("get", path)["subscriptions"] == []


def test_payload_is_the_event_as_sockets_see_it(app, alice, bob, room, receiver):
    sub = _subscribe(alice, room, receiver, ["message_deleted"])
    sent = bob.send(room, "oops")
    bob.ok("delete", f"/api/messages/{sent['id']}", 204)
    assert _run_deliveries(app, lambda: len(Receiver.calls) == 1)
    payload = _verified(sub["secret"])[0]
    assert payload["type"] == "message_deleted" and payload["data"]["messageId"] == sent["id"]
    assert json.loads(Receiver.calls[0][1])["timestamp"].endswith("Z")

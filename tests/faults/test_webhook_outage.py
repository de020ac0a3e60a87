"""RELIABILITY row 38, as shipped: a subscription's receiver is down for 30 s while two
servers (the Procfile's command, production settings, their own database migrated by
the Procfile's release line) retry its deliveries, and both servers are replaced by a
third mid-retry; once the receiver is back every event arrives, each verified with the
Standard Webhooks library, each `webhook-id` once."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from devtools.servers import free_port
from tests.conftest import eventually
from tests.processes import release, server
from tests.sockets.client import Person

DOWN = 30  # seconds the receiver is away (the retry schedule is the same as at 60)

RETRYING = {
    "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "WEBHOOK_RETRY_SECONDS": "1",
    "WEBHOOK_RETRY_MAX_SECONDS": "4",
    "WEBHOOK_MAX_ATTEMPTS": "40",
}


class Receiver(BaseHTTPRequestHandler):
    calls: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def settings(live_settings, own_database):
    settings = {**live_settings, **RETRYING, "MONGODB_URI": own_database}
    release(settings)
    return settings


def test_row38_deliveries_survive_an_outage_and_a_restart(settings):
    port = free_port()
    url = f"http://127.0.0.1:{port}/events"
    started = time.monotonic()
    with server(settings) as (a, _), server(settings) as (b, _):
        alice = Person(a, "alice")
        room = alice.create_room("deploys")
        body = {"url": url, "events": ["message_received"]}
        sub = alice.ok("post", f"/api/rooms/{room}/subscriptions", 201, json=body)
        sent = [
            alice.ok(
                "post", "/api/messages", 201, base=base, json={"roomId": room, "content": f"#{i}"}
            )
            for i, base in enumerate([a, b] * 3)
        ]
        path = f"/api/rooms/{room}/subscriptions/{sub['id']}/deliveries"
        assert eventually(lambda: _attempted(alice, path, base=a) == 6, 10)
        time.sleep(max(0.0, DOWN / 2 - (time.monotonic() - started)))  # retrying...
    with server(settings) as (c, _):  # ...and both processes replaced mid-retry
        time.sleep(max(0.0, DOWN - (time.monotonic() - started)))
        Receiver.calls = []
        httpd = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            assert eventually(lambda: len(Receiver.calls) >= 6, 15)
            time.sleep(2)  # nothing more comes
            payloads = [Webhook(sub["secret"]).verify(b, h) for h, b in Receiver.calls]
            ids = [h["webhook-id"] for h, _ in Receiver.calls]
            assert len(ids) == len(set(ids)) == 6
            assert sorted(p["data"]["message"]["id"] for p in payloads) == sorted(
                m["id"] for m in sent
            )
            states = {d["state"] for d in alice.ok("get", path, base=c)["deliveries"]}
            assert states == {"delivered"}
        finally:
            httpd.shutdown()
            httpd.server_close()
            alice.close()


def _attempted(person, path: str, base: str) -> int:
    found = person.ok("get", path, base=base)["deliveries"]
    return sum(1 for d in found if d["attempts"] >= 1 and d["state"] == "pending")

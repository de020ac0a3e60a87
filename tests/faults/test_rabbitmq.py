"""RabbitMQ as the message queue (SOCKETIO_MESSAGE_QUEUE=amqp://...): two processes as
shipped, rows 6 (one order everywhere) and 3 (the broker restarted during traffic)."""

import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from chat.models import Message
from devtools.servers import rabbitmq_url, start_rabbitmq, stop_group
from tests.faults.test_order_and_packets import one_sequence_everywhere
from tests.processes import server


def _ready(base: str, status: int, timeout: float = 20) -> dict:
    """Poll /readyz until it answers `status`; its body."""
    deadline = time.monotonic() + timeout
    while True:
        response = requests.get(f"{base}/readyz", timeout=5)
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.text
            return response.json()
        time.sleep(0.1)


def test_row6_one_sequence_over_rabbitmq(app, live_settings, people):
    settings = {**live_settings, "SOCKETIO_MESSAGE_QUEUE": rabbitmq_url()}
    with server(settings) as (a, _), server(settings) as (b, _):
        for base in (a, b):
            assert _ready(base, 200)["checks"]["queue"] == "ok"
        live = one_sequence_everywhere(a, b, people)
        assert live == [100] * 4, "every receiver had every message live, across processes"


@pytest.fixture
def own_broker(tmp_path):
    """A RabbitMQ node of the test's own, so that it can be stopped and started again."""
    home = tmp_path / "rabbitmq"
    proc, url = start_rabbitmq(home)
    broker = {"proc": proc, "home": home, "port": urlsplit(url).port}
    yield broker, url
    stop_group(broker["proc"])


def test_row3_broker_restart_during_traffic(app, live_settings, people, own_broker):
    broker, url = own_broker
    settings = {**live_settings, "SOCKETIO_MESSAGE_QUEUE": url}
    with server(settings) as (a, proc_a), server(settings) as (b, proc_b):
        alice, bob = people("alice", "bob", base=a)
        room = alice.create_room()
        bob.ok("post", f"/api/rooms/{room}/join")
        _ready(b, 200)
        sender, receiver = alice.socket(base=a), bob.socket(base=b)
        acked: list[str] = []
        during: dict = {}

        def restart_the_broker():
            while len(acked) < 20:
                time.sleep(0.01)
            stop_group(broker["proc"])
            during["ready"] = _ready(b, 503, timeout=10)
            during["health"] = requests.get(f"{a}/healthz", timeout=5).status_code
            broker["proc"], _ = start_rabbitmq(broker["home"], port=broker["port"])
            during["back"] = len(acked)

        restart = threading.Thread(target=restart_the_broker)
        restart.start()
        i = 0
        while "back" not in during or len(acked) < during["back"] + 20:
            ack = sender.call(
                "send_message", {"roomId": room, "content": f"m{i}", "clientId": f"c{i}"}
            )
            assert ack["ok"], ack  # sends keep working: MongoDB is the source of truth
            acked.append(ack["message"]["id"])
            i += 1
            time.sleep(0.05)
            assert i < 2000, "the broker did not come back"
        restart.join()
        assert during["ready"] == {
            "status": "degraded",
            "checks": {"database": "ok", "redis": "ok", "queue": "unavailable"},
        }
        assert during["health"] == 200
        assert proc_a.poll() is None and proc_b.poll() is None  # both processes stayed up
        for base in (a, b):
            assert _ready(base, 200)["checks"]["queue"] == "ok"
        live = [e["message"]["id"] for e in receiver.events["message_received"]]
        got = live + [m["id"] for m in receiver.sync_all(room)]  # merged by id
        assert set(got) == set(acked) == {str(m.id) for m in Message.objects(room=room)}
        missed = len(acked) - len(set(live))
        print(f"\nrow 3 (RabbitMQ): {missed} of {len(acked)} live deliveries lost, 0 after sync")
        assert missed > 0, "the restart should have cost some live deliveries"
        sender.call("send_message", {"roomId": room, "content": "after"})  # live again
        assert receiver.wait_for("message_received", lambda e: e["message"]["content"] == "after")

"""SIGTERM with two processes behind a load balancer: the stopping process answers the
events in hand, closes its sockets, and exits; its clients reconnect to the other one
and nothing they sent is lost or doubled."""

import signal
import threading
import time
from urllib.parse import urlsplit

import socketio

from chat.models import Message
from tests.faults.proxy import CuttableProxy
from tests.processes import server

NS = "/chat"


def test_sigterm_drains_and_clients_reconnect_elsewhere(app, live_settings, people):
    with server(live_settings) as (a, proc_a), server(live_settings) as (b, _):
        balancer = CuttableProxy("127.0.0.1", urlsplit(a).port, urlsplit(b).port)
        alice, bob = people("alice", "bob", base=a)
        room = alice.create_room()
        bob.ok("post", f"/api/rooms/{room}/join")
        receiver = bob.socket(base=b)
        client = socketio.Client(reconnection_delay=0.1, reconnection_delay_max=0.5)
        reasons: list = []  # why it was disconnected, each time
        client.on("disconnect", lambda reason=None: reasons.append(reason), namespace=NS)
        client.connect(
            f"http://127.0.0.1:{balancer.port}",
            namespaces=[NS],
            auth={"token": alice.token},
            transports=["websocket"],
            wait_timeout=5,
        )
        acks: dict[str, dict] = {}
        errors: list = []
        total = 80

        def send_all() -> None:
            for i in range(total):
                body = {"roomId": room, "content": f"m{i}", "clientId": f"c{i}"}
                for _ in range(100):  # as a client does: resend the same clientId
                    try:
                        if client.connected and NS in client.namespaces:
                            acks[body["clientId"]] = client.call(
                                "send_message", body, namespace=NS, timeout=5
                            )
                            break
                    except (
                        socketio.exceptions.TimeoutError,
                        socketio.exceptions.BadNamespaceError,
                    ):
                        pass
                    except Exception as exc:  # disconnected under the call
                        errors.append(repr(exc))
                    time.sleep(0.05)
                time.sleep(0.02)

        sender = threading.Thread(target=send_all)
        try:
            sender.start()
            while len(acks) < 20:
                time.sleep(0.01)
            proc_a.send_signal(signal.SIGTERM)
            assert proc_a.wait(timeout=15) == 0
            sender.join(timeout=60)
            assert not sender.is_alive()
        finally:
            client.disconnect()
            balancer.close()
        proc_a.log.seek(0)
        log = proc_a.log.read().decode()
        assert '"event": "drained"' in log
        assert "graceful timeout" not in log  # the sockets closed; the worker was not killed
        # it lost its transport (not a disconnect, which means "do not reconnect"), and
        # reconnected through the balancer: all the sends after the switch were acked
        assert reasons and client.reason.SERVER_DISCONNECT not in reasons, reasons
        assert len(acks) == total and all(ack["ok"] for ack in acks.values()), acks
        stored = Message.objects(room=room)
        assert sorted(m.client_id for m in stored) == sorted(f"c{i}" for i in range(total))
        assert {ack["message"]["id"] for ack in acks.values()} == {str(m.id) for m in stored}
        # the receiver on the other process had every one live, before and after
        got = {e["message"]["id"] for e in receiver.events["message_received"]}
        assert got == {str(m.id) for m in stored}
        print(f"\nSIGTERM: disconnected {reasons}, errors during the switch: {errors}")

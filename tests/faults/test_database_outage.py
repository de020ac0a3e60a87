"""Row 2: the database stops and restarts while a client sends 200 messages.

Every acked message is stored, unacked sends get an error ack (or time out), and
after the client retries them with the same clientId there are 0 duplicates.
"""

import threading
import time

import pytest
import socketio
from pymongo import MongoClient

from chat.migrate import apply_migrations
from devtools import servers
from tests.processes import server


@pytest.fixture
def own_database(tmp_path):
    """A SecantusDB of this test's own, on disk, so it can be stopped and restarted."""
    port = servers.free_port()
    proc, uri = servers.start_secantus(str(tmp_path / "db"), port=port)
    state = {"proc": proc, "uri": uri.replace("/?", "/outage?"), "port": port}
    with MongoClient(state["uri"]) as client:
        apply_migrations(client.get_default_database())
    yield state
    servers.stop(state["proc"])


def test_database_restart_mid_send(live_settings, people, own_database, tmp_path):
    settings = {**live_settings, "MONGODB_URI": own_database["uri"], "MONGODB_TIMEOUT_MS": 1500}
    with server(settings) as (base, _):
        alice = people("alice", base=base)
        room = alice.create_room()
        sock = alice.socket(base=base)
        acked, refused, timed_out = {}, [], []

        def restart_database():
            while len(acked) < 50:
                time.sleep(0.01)
            servers.stop(own_database["proc"])
            time.sleep(2)
            proc, _ = servers.start_secantus(str(tmp_path / "db"), port=own_database["port"])
            own_database["proc"] = proc

        outage = threading.Thread(target=restart_database)
        outage.start()
        pending = [f"c{i}" for i in range(200)]
        for _round in range(20):
            retry = []
            for client_id in pending:
                payload = {"roomId": room, "content": client_id, "clientId": client_id}
                try:
                    ack = sock.call("send_message", payload, timeout=5)
                except socketio.exceptions.TimeoutError:
                    timed_out.append(client_id)
                    retry.append(client_id)
                    continue
                if ack["ok"]:
                    assert acked.setdefault(client_id, ack["message"]["id"]) == ack["message"]["id"]
                else:
                    assert ack["error"]["code"] == "unavailable", ack
                    refused.append(client_id)
                    retry.append(client_id)
            pending = retry
            if not pending:
                break
            time.sleep(0.5)
        outage.join()
        assert pending == [] and len(acked) == 200
        assert refused or timed_out, "the outage was not noticed"
        with MongoClient(own_database["uri"]) as client:
            stored = list(client.get_default_database().messages.find({}, {"client_id": 1}))
        assert len(stored) == 200  # no duplicates after retries
        assert {str(m["_id"]): m["client_id"] for m in stored} == {v: k for k, v in acked.items()}

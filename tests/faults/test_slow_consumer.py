"""Row 7: a client that stops reading is cut off; memory stays bounded; it recovers by sync."""

import json
import socket
import time
from urllib.parse import urlsplit

import pytest
import websocket

from devtools.servers import worker_rss_mb
from tests.processes import connected_clients, metric, server


def _stalled_client(base: str, token: str) -> websocket.WebSocket:
    """A raw Engine.IO websocket that joins /chat, then never reads again."""
    host = urlsplit(base).netloc
    ws = websocket.create_connection(
        f"ws://{host}/socket.io/?EIO=4&transport=websocket",
        sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)],
        timeout=5,
    )
    assert ws.recv().startswith("0")
    ws.send("40/chat," + json.dumps({"token": token}))
    assert ws.recv().startswith("40/chat,")  # the namespace is joined before any event
    return ws


@pytest.mark.timeout(300)  # 1,500 big sends: 50-110 s on a loaded CI machine
def test_slow_consumer_is_cut_off_and_recovers(app, live_settings, people):
    # the heartbeat must not end the stalled client first (it answers no ping): only a
    # full queue may, however slowly a loaded machine gets the sends through
    slow_beat = {"SOCKET_PING_INTERVAL": 50, "SOCKET_PING_TIMEOUT": 50}
    with server({**live_settings, "SOCKET_MAX_QUEUE": 200, **slow_beat}) as (base, proc):
        alice, slow, fast = people("alice", "slow", "fast", base=base)
        room = alice.create_room()
        for person in (slow, fast):
            person.ok("post", f"/api/rooms/{room}/join")
        reader = fast.socket(base=base)
        sender = alice.socket(base=base)
        stalled = _stalled_client(base, slow.token)
        before = worker_rss_mb(proc.pid)
        # ~5 MB in all: more than the kernel's socket buffers can absorb for the stalled
        # client, so its outbound queue grows until the server cuts it off
        padding = "x" * 3500
        total = 1500
        for i in range(total):  # as fast as the sender's acks allow (>= 50/s here)
            assert sender.call("send_message", {"roomId": room, "content": f"{i} {padding}"})["ok"]
        growth = worker_rss_mb(proc.pid) - before
        deadline = time.monotonic() + 5
        while connected_clients(base) > 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert connected_clients(base) == 2, "the stalled client is still connected"
        assert metric(base, "chat_slow_consumer_cuts_total") == 1
        print(f"\nrow 7: server RSS growth {growth:.1f} MB with a stalled client")
        assert growth < 50, f"server memory grew {growth:.1f} MB"
        deadline = time.monotonic() + 10
        while len(reader.events["message_received"]) < total and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(reader.events["message_received"]) == total  # others lost nothing
        stalled.close()
        again = slow.socket(base=base)  # the slow client comes back and syncs
        got = again.sync_all(room, pages=40, timeout=60)  # pages of 3.5 KB messages, loaded CI
        assert [int(m["content"].split()[0]) for m in got] == list(range(total))

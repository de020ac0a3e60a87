"""Row 6 (per-room order across processes), row 10 (malformed packets), row 12 (REST flood)."""

import json
import socket
import threading
from urllib.parse import urlsplit

import pytest
import requests
import websocket

from chat.models import Message
from tests.processes import metric, server


@pytest.fixture
def pair(app, live_settings):
    with server(live_settings) as (a, _), server(live_settings) as (b, _):
        yield a, b


def test_every_receiver_ends_with_the_same_sequence(pair, people):
    """4 senders and 4 receivers over 2 processes: identical, gapless, seq-ordered."""
    one_sequence_everywhere(*pair, people)


def one_sequence_everywhere(a: str, b: str, people) -> list[int]:
    """Row 6 on servers `a` and `b` (the Redis queue here, RabbitMQ in test_rabbitmq);
    how many messages each receiver had live, before its sync."""
    owner = people("owner", base=a)
    room = owner.create_room()
    senders = [people(f"sender{i}", base=a) for i in range(4)]
    receivers = [people(f"receiver{i}", base=a) for i in range(4)]
    for person in senders + receivers:
        person.ok("post", f"/api/rooms/{room}/join")
    listening = [p.socket(base=(a, b)[i % 2]) for i, p in enumerate(receivers)]
    talking = [p.socket(base=(a, b)[i % 2]) for i, p in enumerate(senders)]

    def talk(sock, n):
        for i in range(25):
            assert sock.call("send_message", {"roomId": room, "content": f"{n}-{i}"})["ok"]

    threads = [threading.Thread(target=talk, args=(s, n)) for n, s in enumerate(talking)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = [str(m.id) for m in Message.objects(room=room).order_by("seq")]
    assert len(expected) == 100
    live = []
    for sock in listening:
        held = {e["message"]["id"]: e["message"]["seq"] for e in sock.events["message_received"]}
        live.append(len(held))
        held.update({m["id"]: m["seq"] for m in sock.sync_all(room)})  # fill any gap
        assert sorted(held, key=held.get) == expected
        assert sorted(held.values()) == list(range(1, 101))
    return live


BAD_PACKETS = [
    "",
    "9",
    "4",
    "40",
    "42",
    "4x",
    "42/chat,",
    "42/chat,[",
    "42/chat,{}",
    "42/chat,[]",
    "42/chat,[1,2]",
    '42/chat,["send_message"]',
    '42/chat,["send_message",null]',
    '42/chat,["send_message","x"]',
    '42/chat,["send_message",{"roomId":{"$ne":1}}]',
    '42/chat,9["sync",{"roomId":[]}]',
    '42/nope,["x"]',
    "41/chat,",
    "43/chat,5[1]",
    '45/chat,1-["x",{"_placeholder":true,"num":9}]',
    "451-/chat,",
    "2",
    "3",
    "6",
    "5",
    '42/chat,["join_room",{"roomId":"' + "a" * 5000 + '"}]',
    "4" + "\x00" * 50,
    '42/chat,["' + "e" * 1000 + '",{}]',
    '42/chat,[{"a":1}]',
    '42/chat,["typing_start",1,2,3]',
    '42/chat,123["join_room",{}]',
    '42/chat,-1["join_room",{}]',
    "4\udcff",
    '42/chat,["disconnect"]',
    '42/chat,["connect",{}]',
    '40/chat,{"token":1}',
    '40/chat,{"token":"x"}',
    "40/chat,[]",
    "40/chat,null",
    '42["send_message",{}]',
]


def test_malformed_packets_never_crash_the_server(pair, people):
    a, _ = pair
    alice = people("alice", base=a)
    host = urlsplit(a).netloc
    for packet in BAD_PACKETS:
        try:
            ws = websocket.create_connection(
                f"ws://{host}/socket.io/?EIO=4&transport=websocket", timeout=3
            )
            ws.recv()
            ws.send("40/chat," + json.dumps({"token": alice.token}))
            ws.recv()
            ws.send(packet)
            ws.close()
        except (websocket.WebSocketException, OSError, UnicodeError):
            pass  # the server may close the connection: that is fine
    raw = socket.create_connection((urlsplit(a).hostname, urlsplit(a).port), timeout=3)
    raw.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n\r\n\xff\xfe")
    raw.close()
    assert requests.get(f"{a}/healthz", timeout=5).status_code == 200
    assert alice.socket(base=a).call("join_room", {"roomId": alice.create_room()})["ok"]


def test_rest_flood_is_limited_across_processes(app, live_settings, people):
    """Row 12: 250 requests in a minute from one user over two processes."""
    limits = {**live_settings, "RATELIMIT_DEFAULT": "200 per minute"}
    with server(limits) as (a, _), server(limits) as (b, _):
        alice = people("alice", base=a)
        codes = [alice.rest("get", "/api/users/me", base=(a, b)[i % 2]) for i in range(250)]
        statuses = [r.status_code for r in codes]
        assert statuses.count(200) == 200 and statuses.count(429) == 50
        rest_limited = metric(a, "chat_rate_limited_total", transport="rest")
        assert rest_limited + metric(b, "chat_rate_limited_total", transport="rest") == 50
        route = {"method": "GET", "route": "/api/users/me"}
        assert metric(a, "chat_http_requests_total", **route, outcome="rate_limited") > 0
        refused = next(r for r in codes if r.status_code == 429)
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["error"]["code"] == "rate_limited"

"""As shipped (RELIABILITY rows 28-34): the server started by the Procfile's `release:`
and `web:` lines with production settings and the shipped limits, attacked the way an
outside probe attacked it. Each test prints its figure."""

import asyncio
import json
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
import socketio
import websocket

from devtools.servers import ROOT, env_with, free_port, procfile_cmd
from tests.conftest import PASSWORD
from tests.faults.rawws import RawSocket
from tests.processes import connected_clients, metric, release, server
from tests.sockets.client import Person


@pytest.fixture(scope="module")
def shipped_settings(base_settings):
    """Production with the shipped limits: only where it runs and its own channels."""
    run = uuid.uuid4().hex[:8]
    settings = {
        "MONGODB_URI": base_settings["MONGODB_URI"],
        "REDIS_URL": base_settings["REDIS_URL"],
        "SOCKETIO_CHANNEL": f"shipped-{run}",
        "REDIS_PREFIX": f"shipped-{run}",
    }
    release(settings)
    return settings


@pytest.fixture(scope="module")
def shipped(app, shipped_settings):
    with server(shipped_settings, limits={}) as (base, _proc):
        yield base


def _people(base: str, *names: str) -> list[Person]:
    run = uuid.uuid4().hex[:6]
    return [Person(base, f"{name}{run}") for name in names]


def _raw_chat_socket(base: str, token: str) -> websocket.WebSocket:
    ws = websocket.create_connection(
        f"ws://{urlsplit(base).netloc}/socket.io/?EIO=4&transport=websocket", timeout=5
    )
    ws.recv()  # Engine.IO open
    ws.send("40/chat," + json.dumps({"token": token}))
    assert ws.recv().startswith("40/chat,")
    return ws


def _events_until_closed(ws: websocket.WebSocket, seconds: float) -> tuple[list[str], bool]:
    """Socket.IO events received within `seconds`, and whether the server closed it."""
    events, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ws.settimeout(left)
        try:
            frame = ws.recv()
        except websocket.WebSocketTimeoutException:
            return events, False
        except (websocket.WebSocketException, OSError):
            return events, True
        if not frame:
            return events, True
        if frame.startswith("42/chat,"):
            events.append(frame)
    return events, False


@pytest.mark.parametrize("reserved", ["disconnect", "connect", "connect_error"])
def test_row28_a_reserved_event_closes_the_socket(shipped, reserved):
    """The frame that used to half-close a socket: state gone, rooms kept, caps escaped."""
    alice, bob = _people(shipped, "alice", "bob")
    room = alice.create_room("private", isPrivate=True)
    alice.ok("post", f"/api/rooms/{room}/members", json={"userId": bob.id})
    before = connected_clients(shipped)
    ws = _raw_chat_socket(shipped, bob.token)
    assert connected_clients(shipped) == before + 1
    ws.send(f'42/chat,["{reserved}"]')
    time.sleep(0.5)
    alice.ok("delete", f"/api/rooms/{room}/members/{bob.id}")
    alice.ok("post", "/api/messages", 201, json={"roomId": room, "content": "after the kick"})
    events, closed = _events_until_closed(ws, 3)  # it used to get "after the kick"
    print(f"\nrow 28 ({reserved}): closed {closed}, room events after it {len(events)}")
    assert closed and events == []
    assert connected_clients(shipped) == before  # the cap counts live sockets only


def test_row28_events_before_auth_do_nothing(shipped):
    alice = _people(shipped, "alice")[0]
    room = alice.create_room()
    ws = websocket.create_connection(
        f"ws://{urlsplit(shipped).netloc}/socket.io/?EIO=4&transport=websocket", timeout=5
    )
    ws.recv()
    ws.send(f'42/chat,["send_message",{{"roomId":"{room}","content":"sneaky"}}]')
    ws.send(f'42/chat,["join_room",{{"roomId":"{room}"}}]')
    events, closed = _events_until_closed(ws, 8)  # SOCKET_AUTH_TIMEOUT is 5 s
    assert events == [] and closed
    assert alice.ok("get", f"/api/messages/{room}")["messages"] == []


def test_row28_logout_and_kick_reach_a_socket_that_tried(shipped):
    """A socket that sent a reserved event is gone; its user's other socket still gets
    the kick and the logout."""
    alice, bob = _people(shipped, "alice", "bob")
    room = alice.create_room("private", isPrivate=True)
    alice.ok("post", f"/api/rooms/{room}/members", json={"userId": bob.id})
    tried, kept = _raw_chat_socket(shipped, bob.token), bob.socket()
    tried.send('42/chat,["disconnect"]')
    assert _events_until_closed(tried, 3)[1]
    alice.ok("delete", f"/api/rooms/{room}/members/{bob.id}")
    alice.ok("post", "/api/messages", 201, json={"roomId": room, "content": "after the kick"})
    assert kept.quiet("message_received", 1) == []
    assert bob.rest("post", "/api/auth/logout").status_code == 204
    assert kept.wait_disconnected(3)


def _anonymous(host: str, port: int, count: int, root_namespace: int, timeout: float) -> dict:
    """`count` Engine.IO websockets that never join /chat (`root_namespace` of them ask
    for `/`); how many the server closed within `timeout`, and how fast."""

    async def one(i: int, opened: list, refused: list) -> float | None:
        try:
            sock = await RawSocket.open(host, port)
        except (OSError, ConnectionError, TimeoutError):
            return None
        start = time.monotonic()
        opened.append(1)
        await sock.recv()  # Engine.IO open packet
        if i < root_namespace:
            sock.send("40")
            answer = await sock.recv()
            refused.append(answer is not None and answer.startswith("44"))
        closed = await sock.closed_within(timeout)
        sock.close()
        return time.monotonic() - start if closed else None

    async def run() -> dict:
        opened, refused = [], []
        tasks = []
        for i in range(count):  # about 200 new connections a second, like a botnet's trickle
            tasks.append(asyncio.create_task(one(i, opened, refused)))
            if i % 20 == 19:
                await asyncio.sleep(0.1)
        closes = await asyncio.gather(*tasks)
        done = [c for c in closes if c is not None]
        return {
            "opened": len(opened),
            "closed": len(done),
            "slowestClose": max(done, default=None),
            "rootRefused": sum(refused),
        }

    return asyncio.run(run())


def test_row29_anonymous_connections_are_closed(shipped):
    """2,000 connections that never authenticate, against the Procfile's server: each
    closed within a few seconds, while /healthz and a signed-in user carry on."""
    alice = _people(shipped, "alice")[0]
    room = alice.create_room()
    sock = alice.socket()
    parts = urlsplit(shipped)
    result, health, acks = {}, [], []
    attack = threading.Thread(
        target=lambda: result.update(_anonymous(parts.hostname, parts.port, 2000, 100, 15))
    )
    attack.start()
    while attack.is_alive():
        started = time.monotonic()
        assert requests.get(f"{shipped}/healthz", timeout=5).status_code == 200
        health.append(time.monotonic() - started)
        ack = sock.call("send_message", {"roomId": room, "content": f"still here {len(acks)}"})
        acks.append(ack["ok"])
        time.sleep(0.5)
    attack.join()
    print(f"\nrow 29: {result}, /healthz slowest {max(health) * 1000:.0f} ms, sends {len(acks)}")
    assert result["opened"] == 2000 and result["closed"] == 2000
    assert result["slowestClose"] < 5 + 3  # SOCKET_AUTH_TIMEOUT plus the upkeep tick
    assert result["rootRefused"] == 100
    assert all(acks) and max(health) < 2


def test_row29_a_client_that_ignores_the_close_is_hung_up_on(shipped):
    """Closing is not left to the client: one that never answers the close frame (nor
    reads at all) loses its TCP connection, and so its gunicorn worker slot, too."""
    parts = urlsplit(shipped)

    async def run() -> tuple[bool, bool]:
        anonymous = await RawSocket.open(parts.hostname, parts.port)
        reserved = await RawSocket.open(parts.hostname, parts.port)
        reserved.send('42/chat,["disconnect"]')  # not even signed in: closed either way
        results = await asyncio.gather(
            anonymous.hung_up_within(5 + 1 + 2 + 3), reserved.hung_up_within(5 + 1 + 2 + 3)
        )
        anonymous.close()
        reserved.close()
        return results

    assert asyncio.run(run()) == [True, True]


SECRET_FROM_THE_REPO = "dev-jwt-secret-key-not-for-production-use"  # committed until Dec 2026


def _start_fails(settings: dict, message: str) -> None:
    """The Procfile's web command exits (never serves) and says why."""
    env = env_with(HOST="127.0.0.1", PORT=free_port())
    for name in ("CHAT_ENV", "NODE_ENV", "SECRET_KEY", "JWT_SECRET_KEY", "JWT_SECRET"):
        env.pop(name, None)
    env.update(settings)
    proc = subprocess.run(
        procfile_cmd("web"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr[-800:]


def test_row30_unsafe_configuration_never_serves(app, shipped_settings):
    uri = shipped_settings["MONGODB_URI"]
    unset = {"MONGODB_URI": uri}
    print("\nrow 30: CHAT_ENV unset, no secrets")
    _start_fails(unset, "Refusing to start in production: SECRET_KEY is not set")
    print("row 30: a secret from the repository")
    public = {"SECRET_KEY": "x" * 40, "JWT_SECRET_KEY": SECRET_FROM_THE_REPO, "MONGODB_URI": uri}
    public["CHAT_ENV"] = "production"
    _start_fails(public, "published")
    print("row 30: development settings against another machine's database")
    remote = {"CHAT_ENV": "development", "MONGODB_URI": "mongodb://db.example.com:27017/chat"}
    _start_fails(remote, "another machine")


def test_row30_development_signs_with_its_own_random_key(app, shipped_settings):
    import jwt as pyjwt

    dev = {"CHAT_ENV": "development", "MONGODB_URI": shipped_settings["MONGODB_URI"]}
    dev.update({"SECRET_KEY": None, "JWT_SECRET_KEY": None})
    with server(dev, limits={}) as (first, _), server(dev, limits={}) as (second, _):
        alice = Person(first, f"dev{uuid.uuid4().hex[:6]}")
        assert alice.rest("get", "/api/users/me").status_code == 200
        elsewhere = requests.get(
            f"{second}/api/users/me", headers={"Authorization": f"Bearer {alice.token}"}, timeout=5
        )
        forged = pyjwt.encode(
            {"sub": alice.id, "type": "access", "sid": "x", "exp": time.time() + 600},
            SECRET_FROM_THE_REPO,
            algorithm="HS256",
        )
        with_old_key = requests.get(
            f"{first}/api/users/me", headers={"Authorization": f"Bearer {forged}"}, timeout=5
        )
    print(f"\nrow 30: other process {elsewhere.status_code}, old key {with_old_key.status_code}")
    assert elsewhere.status_code == 401 and with_old_key.status_code == 401


POISON = [
    ("content", "\udc00"),
    ("content", "a\x00b"),
    ("content", "x\ud800y"),
    ("clientId", "c-\udfff"),
    ("messageType", "\ud83d"),
    ("roomId", "\udc00" * 24),
]


def _poisoned_frames(room: str) -> list[str]:
    frames = []
    for name, value in POISON:
        body = {"roomId": room, "content": "bad", name: value}
        frames.append("42/chat,1" + json.dumps(["send_message", body]))
    frames.append('42/chat,2["send_message",' + "[" * 20_000 + "]" * 20_000 + "]")
    frames.append(
        '42/chat,3["send_message",{{"roomId":"{}","content":{}}}]'.format(room, "9" * 4400)
    )
    frames.append('42/chat,4["sync",{{"roomId":"{}","limit":{}}}]'.format(room, "9" * 4400))
    return frames


def test_row31_a_poisoned_message_fails_alone(shipped):
    """Bad strings and numbers in every field, sent together with 50 honest sends: the bad
    ones get a 4xx, every honest one is stored and acked, nothing answers 500."""
    people = _people(shipped, "h1", "h2", "h3", "h4", "h5", "bad")
    honest, bad = people[:5], people[5]
    room = bad.create_room()
    for person in honest:
        person.ok("post", f"/api/rooms/{room}/join")
    sockets = [p.socket() for p in honest]
    raw = _raw_chat_socket(shipped, bad.token)

    def send_honest(i: int) -> dict:
        return sockets[i % 5].call("send_message", {"roomId": room, "content": f"honest {i}"})

    def send_rest_poison(field_value) -> int:
        name, value = field_value
        body = json.dumps({"roomId": room, "content": "bad", name: value})
        return bad.rest("post", "/api/messages", data=body, headers=JSON).status_code

    with ThreadPoolExecutor(20) as pool:
        honest_acks = pool.map(send_honest, range(50))
        rest_codes = list(pool.map(send_rest_poison, POISON))
        for frame in _poisoned_frames(room):
            try:
                raw.send(frame)
            except (websocket.WebSocketException, OSError):
                break  # the server may close a socket that sends what cannot be parsed
        honest_acks = list(honest_acks)
    deep = "[" * 100_000 + "]" * 100_000
    huge = '{{"roomId":"{}","content":"x","clientId":{}}}'.format(room, "1" * 4400)
    rest_codes += [
        bad.rest("post", "/api/messages", data=body, headers=JSON).status_code
        for body in (deep, huge, f'{{"roomId": "{room}", "content": ' + deep + "}")
    ]
    stored = bad.ok("get", f"/api/messages/{room}", params={"limit": 100})["messages"]
    contents = sorted(m["content"] for m in stored)
    print(f"\nrow 31: honest acked {sum(a['ok'] for a in honest_acks)}/50, REST codes {rest_codes}")
    assert all(a["ok"] for a in honest_acks)
    assert contents == sorted(f"honest {i}" for i in range(50))
    assert rest_codes[: len(POISON)] == [422] * len(POISON)  # fields refused by name
    assert rest_codes[len(POISON) :] == [400] * 3  # JSON nested too deep, a 4,400-digit number
    assert requests.get(f"{shipped}/healthz", timeout=5).status_code == 200


JSON = {"Content-Type": "application/json"}


def test_row31_socket_acks_for_poison_are_validation_errors(shipped):
    bad = _people(shipped, "bad")[0]
    room = bad.create_room()
    sock = bad.socket()
    for name, value in POISON:
        ack = sock.call("send_message", {"roomId": room, "content": "bad", name: value})
        assert ack["error"]["code"] == "validation_error", (name, ack)
    assert bad.ok("get", f"/api/messages/{room}")["messages"] == []


FLOODS = {
    "edit_message": lambda ids: {"messageId": ids["message"], "content": "edited"},
    "add_reaction": lambda ids: {"messageId": ids["message"], "emoji": "👍"},
    "join_room": lambda ids: {"roomId": ids["room"]},
    "leave_room": lambda ids: {"roomId": ids["room"]},
    "sync": lambda ids: {"roomId": ids["room"]},
}  # typing too takes from the budget, but its own bucket (2/s a socket) refuses first


@pytest.mark.serial  # a count over time, against the client's clock: alone on the cores
def test_row32_one_budget_over_every_event(shipped):
    """200 events a second of every kind from one user: accepted = burst + rate x time
    (shipped SOCKET_EVENT_BURST 60, SOCKET_EVENT_RATE 20), the rest `rate_limited`."""
    alice, flooder = _people(shipped, "alice", "flood")
    room = flooder.create_room()
    message = flooder.ok("post", "/api/messages", 201, json={"roomId": room, "content": "x"})
    ids = {"room": room, "message": message["id"]}
    sock = flooder.socket()
    names = list(FLOODS)
    acks = []
    started = last = time.monotonic()
    for i in range(400):
        name = names[i % len(names)]
        try:
            acks.append(sock.call(name, FLOODS[name](ids), timeout=2))
        except (socketio.exceptions.SocketIOError, AttributeError):
            break  # cut off
        last = time.monotonic()
        time.sleep(max(0.0, started + (i + 1) / 200 - time.monotonic()))
    elapsed = last - started
    allowed = [a for a in acks if a["ok"] or a["error"]["code"] != "rate_limited"]
    limited = [a for a in acks if not a["ok"] and a["error"]["code"] == "rate_limited"]
    expected = 60 + 20 * elapsed
    print(f"\nrow 32: {len(acks)} events in {elapsed:.2f} s, let through {len(allowed)}")
    assert abs(len(allowed) - expected) <= 3, (len(allowed), expected)
    assert limited and all(a["error"]["retryAfter"] >= 1 for a in limited)
    assert metric(shipped, "chat_rate_limited_total", transport="socket") >= len(limited)
    # refusals not made up by accepted events (SOCKET_ABUSE_LIMIT 50) cut the flooder off
    assert sock.wait_disconnected(3) and len(acks) < 400
    other = alice.socket()
    assert other.call("join_room", {"roomId": room})["ok"]


@pytest.fixture(scope="module")
def behind_proxy(app, shipped_settings):
    """As deployed behind one reverse proxy (Heroku's router, nginx): PROXY_HOPS=1."""
    with server({**shipped_settings, "PROXY_HOPS": 1}, limits={}) as (base, _):
        yield base


def _login(base: str, address: str, **body) -> requests.Response:
    headers = {"X-Forwarded-For": address}
    return requests.post(f"{base}/api/auth/login", json=body, headers=headers, timeout=30)


def test_row33_lockout_is_not_a_weapon(behind_proxy):
    """1,000 wrong passwords for a victim's username and email from 100 addresses: the
    attacker is slowed, the victim's known device signs in at once and a new device
    waits at most LOGIN delay, never forever."""
    victim = _people(behind_proxy, "victim")[0]
    device = victim.session["deviceToken"]
    email = f"{victim.username}@example.com"
    codes = []

    def attack(i: int) -> int:
        login = {"username": victim.username} if i % 2 else {"email": email}
        address = f"203.0.113.{i % 100}"
        return _login(behind_proxy, address, **login, password=f"guess {i}").status_code

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attack, range(1000)))
    elapsed = time.monotonic() - started
    slowed = codes.count(429)
    mine = _login(
        behind_proxy,
        "198.51.100.7",
        username=victim.username,
        password=PASSWORD,
        deviceToken=device,
    )
    stranger = _login(behind_proxy, "198.51.100.8", username=victim.username, password=PASSWORD)
    print(
        f"\nrow 33: {len(codes)} guesses in {elapsed:.1f} s: {codes.count(401)} checked, "
        f"{slowed} slowed; known device {mine.status_code}, new device {stranger.status_code} "
        f"(Retry-After {stranger.headers.get('Retry-After')})"
    )
    # strangers together get LOGIN_ACCOUNT_MAX_FAILURES (20) tries, plus those in flight
    assert codes.count(401) <= 20 + 8 and slowed == len(codes) - codes.count(401)
    assert mine.status_code == 200
    assert stranger.status_code in (200, 429)
    if stranger.status_code == 429:  # slowed like the attacker, never locked for good
        assert int(stranger.headers["Retry-After"]) <= 900


def test_row34_limits_follow_the_real_client_behind_a_proxy(behind_proxy):
    """RATELIMIT_AUTH (30/min) per real address: X-Forwarded-For entries a client forged
    to the left of the proxy's are ignored."""
    statuses = {}
    for client, forged in (("192.0.2.10", "10.9.9.1"), ("192.0.2.11", "10.9.9.2")):
        statuses[client] = [
            _login(
                behind_proxy, f"{forged}{i}, {client}", username=f"nobody{i}", password="x"
            ).status_code
            for i in range(35)
        ]
    print(f"\nrow 34: 429s per real client {[s.count(429) for s in statuses.values()]}")
    for codes in statuses.values():
        assert codes[:30] == [401] * 30  # RATELIMIT_AUTH: 30 a minute
        assert codes[30:] == [429] * 5  # forging a new left entry each time did not help
    fresh = _login(behind_proxy, "192.0.2.99", username="nobody", password="x")
    assert fresh.status_code == 401  # another real client is not limited by the two

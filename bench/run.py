"""`make bench`: the scenarios of BENCHMARKS.md, ours against the Node Socket.IO peer.

Both peers run on this machine in the same run, against the same database server
(SecantusDB's Rust server `secantusd-rs` when `make bench` could build it, else its
Python server), driven by the same Node load generator (bench/load/generator.mjs,
official socket.io-client).
Results go to bench/results/<date>-<scenario>.json; docs/benchmarks.md gets the table
(ours / Node) and a latency-versus-load plot per scenario.

Scenarios (BENCHMARKS.md): connections, rooms, bigroom (also against the ceiling peer,
a raw `ws` broadcast), persistence (the Node peer without its database, and the
database alone doing a send's operations), scaleout (ours on 2 processes + Redis,
then + RabbitMQ, against 1 process, stepped), cost (server CPU per 1,000 deliveries at
fixed rates: ours, the python floor - bare python-socketio on gevent, bench/peers/floor - and Node),
profile (the cost load on ours under py-spy: CPU by category, bench/profile.py).

Environment: SCENARIO (some of those, comma-separated; default all), CONNECTIONS (10000),
HOLD_SECONDS (60), STEP_SECONDS (10), PEERS (ours,node: a dev run, writes nothing),
MONGODB_URI (a real MongoDB instead of a SecantusDB started here), REPORT (a file for
the whole report too), SAMPLES (a file for the profile's raw py-spy stacks), PEER_LOG
(a file for the peers' output).
"""

import json
import os
import platform
import random
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from bson import ObjectId
from pymongo import MongoClient, UpdateOne

from chat.migrate import apply_migrations
from devtools.servers import (
    ROOT,
    SECANTUS_RS,
    env_with,
    free_port,
    procfile_cmd,
    rabbitmq_url,
    redis_answers,
    start_redis,
    start_secantus,
    stop,
    wait_for_app,
    worker_pid,
    worker_rss_mb,
)

RESULTS = ROOT / "bench" / "results"
SECRET = secrets.token_urlsafe(48)  # made per run: the peers verify the same tokens
METRICS_TOKEN = secrets.token_urlsafe(24)  # ours serves /metrics (gc pauses) to the bench
CONNECTIONS = int(os.environ.get("CONNECTIONS", 10000))
HOLD = int(os.environ.get("HOLD_SECONDS", 60))
STEP = int(os.environ.get("STEP_SECONDS", 10))
PEERS = os.environ.get("PEERS", "ours,node").split(",")
ROOM_RATES = [100, 150, 225, 338, 506, 759, 1139]
BIG_RATES = [1, 10, 50]
COST_RATES = [100, 300]  # sends/s (cost, profile)
SCALE_ROOMS = 200
RUST = SECANTUS_RS.exists()  # `make bench` builds it; else the Python server, said so
SCENARIOS = [
    "connections",
    "rooms",
    "bigroom",
    "persistence",
    "scaleout",
    "cost",
    "profile",
    "sync",
    "search",
]
SYNC_ROOMS, SYNC_CHANGES = 50, 10_000
SEARCH_PER_ROOM, SEARCH_QUERIES = 100, 200
COST_PEERS = {"ours": True, "python floor": False, "node": True}  # peer -> stores messages
# Users 0..CONNECTIONS-1 form rooms of 10; the next 1,000 share the big room.
ROOM_MEMBERS = [list(range(i * 10, i * 10 + 10)) for i in range(CONNECTIONS // 10)]
BIG_MEMBERS = [list(range(CONNECTIONS, CONNECTIONS + 1000))]


def seed(db, users: int, rooms: list[list[int]]) -> tuple[list[str], list[str]]:
    """Users and rooms written straight into the database (argon2 for 10k users
    would take minutes); returns (user ids, room ids)."""
    from argon2 import PasswordHasher

    now = datetime.now(UTC)
    password_hash = PasswordHasher(time_cost=2, memory_cost=19 * 1024).hash("bench password")
    run = int(time.time())
    docs = [
        {
            "username": f"b{run}u{i}",
            "username_lower": f"b{run}u{i}",
            "email": f"b{run}u{i}@bench.invalid",
            "password_hash": password_hash,
            "created_at": now,
        }
        for i in range(users)
    ]
    user_ids = db.users.insert_many(docs).inserted_ids
    room_docs = [
        {
            "name": f"bench {i}",
            "description": "",
            "type": "public",
            "participants": [user_ids[m] for m in members],
            "admins": [],
            "owners": [],
            "banned": [],
            "settings": {
                "is_private": False,
                "max_participants": 10000,
                "allow_file_sharing": True,
            },
            "created_at": now,
            "last_activity": now,
        }
        for i, members in enumerate(rooms)
    ]
    room_ids = db.rooms.insert_many(room_docs).inserted_ids if room_docs else []
    # each user's session, as a login makes it (tokens name it: `sid`)
    later = now + timedelta(days=1)
    sessions = [
        {"_id": f"bench-{u}", "user": u, "created_at": now, "expires_at": later} for u in user_ids
    ]
    db.sessions.insert_many([{**s, "last_used_at": now, "device": "bench"} for s in sessions])
    return [str(u) for u in user_ids], [str(r) for r in room_ids]


def tokens(user_ids: list[str]) -> list[str]:
    """Access tokens as the product mints them (same library, same claims)."""
    from flask import Flask
    from flask_jwt_extended import JWTManager, create_access_token

    app = Flask("bench")
    app.config.update(JWT_SECRET_KEY=SECRET, JWT_ACCESS_TOKEN_EXPIRES=timedelta(hours=3))
    JWTManager(app)
    with app.app_context():
        return [create_access_token(u, additional_claims={"sid": f"bench-{u}"}) for u in user_ids]


class Peer:
    def __init__(self, name: str, cmd: list[str], env: dict, port: int):
        self.name, self.port = name, port
        out = subprocess.DEVNULL
        if os.environ.get("PEER_LOG"):
            out = os.open(os.environ["PEER_LOG"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out)
        if out != subprocess.DEVNULL:
            os.close(out)  # (the peer has its own copy)
        self.base = f"http://127.0.0.1:{port}"
        wait_for_app(self.base, proc=self.proc)  # (memory baselines of a booted server)

    def close(self) -> None:
        stop(self.proc)


def start_peer(
    name: str, uri: str | None, redis: str | None = None, queue: str | None = None
) -> Peer:
    """`node` stores to `uri` when given; `ours` uses Redis when given, and its message
    queue is `queue` (default: that Redis)."""
    port = free_port()
    node = shutil.which("node")
    if name == "node":
        env = env_with(PORT=port, JWT_SECRET_KEY=SECRET, MONGODB_URI=uri or "")
        return Peer(name, [node, "bench/peers/node/server.mjs"], env, port)
    if name == "ceiling":
        return Peer(name, [node, "bench/peers/ceiling/server.mjs"], env_with(PORT=port), port)
    if name == "floor":  # the framework alone, under the product's gunicorn configuration
        env = env_with(HOST="127.0.0.1", PORT=port, SOCKET_MAX_CONNECTIONS=CONNECTIONS + 1000)
        return Peer(name, [*procfile_cmd("web")[:-1], "bench.peers.floor.server:app"], env, port)
    env = env_with(
        CHAT_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=SECRET,
        MONGODB_URI=uri,
        REDIS_URL=redis or "",
        SOCKETIO_MESSAGE_QUEUE=queue or redis or "",
        SOCKETIO_CHANNEL=f"bench-{os.getpid()}",  # one channel for all processes of a run
        SOCKET_MAX_CONNECTIONS=CONNECTIONS + 1000,
        SOCKET_MAX_PER_USER=100,
        SOCKET_SEND_RATE=100000,
        SOCKET_SEND_BURST=100000,
        SOCKET_EVENT_RATE=100000,
        SOCKET_EVENT_BURST=100000,
        RATELIMIT_DEFAULT="1000000 per minute",  # the sync scenario's writers use REST
        SOCKET_CORS_ORIGIN="http://127.0.0.1",
        METRICS_TOKEN=METRICS_TOKEN,
    )
    env.update(HOST="127.0.0.1", PORT=str(port))
    return Peer(name, procfile_cmd("web"), env, port)


def generate(plan: dict) -> dict:
    node = subprocess.run(
        [shutil.which("node"), "bench/load/generator.mjs"],
        cwd=ROOT,
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if node.returncode != 0:
        raise RuntimeError(node.stderr[-2000:])
    return json.loads(node.stdout.strip().splitlines()[-1])


IDLE_WINDOW = 30  # seconds at the end of the hold over which idle CPU is measured


def connections(peer: Peer, toks: list[str]) -> dict:
    """Ramp to CONNECTIONS idle sockets and hold; the server's peak RSS is sampled, and
    its CPU over the last IDLE_WINDOW seconds of the hold (the sockets only heartbeat)."""
    before = worker_rss_mb(peer.proc.pid)
    peak = [before]
    cpu: list[tuple[float, float]] = []  # (monotonic time, the worker's CPU seconds)
    done = threading.Event()

    def sample():
        while not done.wait(1):
            peak.append(worker_rss_mb(peer.proc.pid))
            cpu.append((time.monotonic(), cpu_seconds([peer])))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        plan = {
            "base": peer.base,
            "mode": "connections",
            "tokens": toks[:CONNECTIONS],
            "holdSeconds": HOLD,
        }
        result = generate(plan)
    finally:
        done.set()
        sampler.join()
    result["serverPeakRssMb"] = round(max(peak), 1)
    result["rssPer1000Mb"] = round((max(peak) - before) / CONNECTIONS * 1000, 1)
    # the sockets held still: before the generator's last seconds (it closes them)
    end = (cpu[-1][0] if cpu else 0) - 3
    window = [c for c in cpu if end - IDLE_WINDOW <= c[0] <= end]
    if HOLD > IDLE_WINDOW and len(window) > 1:
        used = window[-1][1] - window[0][1]
        result["idleCpuPercent"] = round(100 * used / (window[-1][0] - window[0][0]), 1)
    return result


# The database server's process (when this run started it): each step's CPU counts it.
DATABASE_PIDS: list[int] = []


def rooms_plan(
    peers: list[Peer],
    toks: list[str],
    room_ids: list[str],
    members: list[list[int]],
    rates: list[int],
    probes: int,
) -> dict:
    """Only the rooms' members connect; member lists index into the plan's tokens. Each
    step reports the CPU the peers' servers, and the database, used per 1,000 deliveries."""
    used = sorted({i for m in members for i in m})
    position = {user: k for k, user in enumerate(used)}
    rooms = [
        {"id": r, "members": [position[i] for i in m]}
        for r, m in zip(room_ids, members, strict=True)
    ]
    servers = [worker_pid(p.proc.pid) for p in peers]
    return {
        "bases": [p.base for p in peers],
        "cpuPids": {"server": servers, "database": DATABASE_PIDS},
        "clockTicks": os.sysconf("SC_CLK_TCK"),
        "mode": "rooms",
        "tokens": [toks[i] for i in used],
        "rooms": rooms,
        "steps": rates,
        "stepSeconds": STEP,
        "probesPerRoom": probes,
    }


def sustained(steps: list[dict]) -> float:
    """Deliveries/s at the highest step that kept p99 <= 100 ms and >= 99.9% delivered."""
    good = [
        s["deliveriesPerSecond"]
        for s in steps
        if s["p99"] is not None and s["p99"] <= 100 and s["delivered"] >= 0.999
    ]
    return max(good, default=0.0)


def with_peer(name: str, uri: str | None, measure, redis: str | None = None) -> dict:
    peer = start_peer(name, uri, redis)
    try:
        return measure(peer)
    finally:
        peer.close()


def stepped(plan: dict) -> dict:
    figures = generate(plan)
    figures["sustainedDeliveriesPerSecond"] = sustained(figures["steps"])
    return figures


def cpu_seconds(peers: list[Peer]) -> float:
    """User + system CPU of the peers' gunicorn workers so far."""
    total = 0
    for peer in peers:
        stat = Path(f"/proc/{worker_pid(peer.proc.pid)}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def scaleout(uri: str, toks: list[str], room_ids: list[str], members: list[list[int]]) -> dict:
    """The same rooms on 1 process, then spread over 2 processes linked by Redis, then by
    RabbitMQ (every room has members on both; one process per core), stepping the rate
    up until p99 passes 100 ms: the deliveries/s each sustains, and CPU per delivery
    (the queue's cost)."""
    redis_proc, redis_url = (None, "redis://127.0.0.1:6379/0")
    if not redis_answers():
        redis_proc, redis_url = start_redis()
    runs = (
        ("1 process", 1, None),
        ("2 processes + Redis", 2, redis_url),
        ("2 processes + RabbitMQ", 2, rabbitmq_url()),
    )
    out = {}
    try:
        for label, count, queue in runs:
            peers = [
                start_peer("ours", uri, redis_url if count > 1 else None, queue)
                for _ in range(count)
            ]
            try:
                before = cpu_seconds(peers)
                plan = rooms_plan(peers, toks, room_ids, members, ROOM_RATES, 1)
                figures = stepped(plan)
                used = cpu_seconds(peers) - before
            finally:
                for peer in peers:
                    peer.close()
            deliveries = sum(s["deliveries"] for s in figures["steps"])
            figures["cpuMsPerDelivery"] = round(1000 * used / max(deliveries, 1), 3)
            out[label] = figures
    finally:
        stop(redis_proc)
    return out


def cost(uri: str, toks: list[str], room_ids: list[str], members: list[list[int]]) -> dict:
    """CPU per 1,000 deliveries at each of COST_RATES, the same rooms for every peer, of
    the server and of the database (each step's own, from its first send to a second
    after its last): ours and Node store each message, the python floor (the framework
    alone) does not."""
    out = {}
    for label, stores in COST_PEERS.items():
        peer = start_peer("floor" if label == "python floor" else label, uri if stores else None)
        try:
            plan = rooms_plan([peer], toks, room_ids, members, COST_RATES, 1)
            if not stores:  # the database is idle: not this peer's
                plan["cpuPids"].pop("database")
            figures = stepped({**plan, "stopAfterFailure": False})
        finally:
            peer.close()
        figures["cpuMsPer1000Deliveries"] = {
            str(s["offered"]): s["cpuMsPer1000Deliveries"] for s in figures["steps"]
        }
        out[label] = figures
    return out


def profile(uri: str, toks: list[str], room_ids: list[str], members: list[list[int]]) -> dict:
    """The cost scenario's load on ours again, sampled by py-spy: where the CPU goes."""
    from bench import profile as sampling

    peer = start_peer("ours", uri)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "samples.txt"
            spy = sampling.record(worker_pid(peer.proc.pid), out)
            time.sleep(1)  # py-spy attaches
            before = cpu_seconds([peer])
            plan = rooms_plan([peer], toks, room_ids, members, COST_RATES, 1)
            figures = stepped({**plan, "stopAfterFailure": False})
            used = cpu_seconds([peer]) - before
            figures.update(sampling.finish(spy, out))
            if os.environ.get("SAMPLES") and out.exists():  # py-spy's raw stacks, kept
                shutil.copy(out, os.environ["SAMPLES"])
    finally:
        peer.close()
    deliveries = sum(s["deliveries"] for s in figures["steps"])
    figures["cpuMsPer1000Deliveries"] = round(1e6 * used / max(deliveries, 1), 1)
    return {"ours": figures}


def sync_catch_up(uri: str, user_ids: list[str], toks: list[str]) -> dict:
    """A client offline while SYNC_CHANGES changes happen in its SYNC_ROOMS rooms (new
    messages, edits, deletes, reactions, pins: as others make them, over REST), then
    `sync_all` over its socket until it is up to date: time, requests, and whether it
    got every change exactly once."""
    import socketio as sio

    reader, writers = toks[0], toks[1:5]
    rooms = _sync_rooms(uri, [ObjectId(u) for u in user_ids[:5]])
    room_ids = [str(r) for r in rooms]
    peer = start_peer("ours", uri)
    try:
        base = peer.base
        http = requests.Session()
        cursor = http.get(
            f"{base}/api/sync", headers={"Authorization": f"Bearer {reader}"}, timeout=30
        ).json()["cursor"]
        started = time.monotonic()
        calls = _make_changes(base, writers, room_ids)
        writing = time.monotonic() - started
        made = _changes_recorded(uri, rooms)
        client = sio.Client(reconnection=False)
        client.connect(base, namespaces=["/chat"], auth={"token": reader}, transports=["websocket"])
        seen: set = set()
        requests_made, got, began = 0, 0, time.monotonic()
        while True:
            ack = client.call(
                "sync_all", {"since": cursor, "limit": 500}, namespace="/chat", timeout=60
            )
            requests_made += 1
            assert ack["ok"], ack
            for change in ack["changes"]:
                seen.add((change["roomId"], change["rev"]))
            got += len(ack["changes"])
            cursor = ack["cursor"]
            if not ack["hasMore"]:
                break
        seconds = time.monotonic() - began
        client.disconnect()
    finally:
        peer.close()
    return {
        "ours": {
            "rooms": SYNC_ROOMS,
            "requestsMade": calls,
            "changesMade": made,
            "changesReceived": got,
            "duplicates": got - len(seen),
            "missing": made - len(seen),
            "requests": requests_made,
            "catchUpSeconds": round(seconds, 2),
            "changesPerSecond": round(got / max(seconds, 1e-9)),
            "writeSeconds": round(writing, 1),
        }
    }


def search_latency(uri: str, user_ids: list[str], toks: list[str], room_ids: list[str]) -> dict:
    """SEARCH_PER_ROOM messages in each of the 1,000 rooms (100,000; words drawn from a
    Zipf-like vocabulary, so queries range from common to rare), one user a member of
    all of them; then SEARCH_QUERIES queries of each kind over REST, with and without a
    room filter: p50 / p95 ms. Twice: a history written over 30 days, and the same
    number of messages written as fast as the database takes them (~20 s: the densest
    history, where a one-second window holds the most). The user leaves the rooms again
    afterwards."""
    reader = ObjectId(user_ids[0])
    rooms = [ObjectId(r) for r in room_ids]
    out: dict = {"messages": len(rooms) * SEARCH_PER_ROOM, "rooms": len(rooms)}
    with MongoClient(uri) as client:
        db = client.get_default_database()
        db.rooms.update_many({"_id": {"$in": rooms}}, {"$addToSet": {"participants": reader}})
    try:
        for days, label in ((30, ""), (0, ", burst")):
            _search_history(uri, rooms, reader, days)
            settle(uri)  # the database done with the writes
            for kind, figures in _search_queries(uri, toks[0], rooms).items():
                out[f"{kind}{label}"] = figures
    finally:
        with MongoClient(uri) as client:
            db = client.get_default_database()
            db.rooms.update_many({"_id": {"$in": rooms}}, {"$pull": {"participants": reader}})
    return {"ours": out}


def _search_history(uri: str, rooms: list[ObjectId], sender: ObjectId, days: int) -> None:
    """The rooms' messages, replaced: written at times spread over `days` (their `_id`s
    and timestamps from those times, as if sent then), or now when `days` is 0."""
    from chat.store.terms import terms

    rnd = random.Random(7)
    vocabulary = [f"w{i}" for i in range(5000)]
    weights = [1 / (i + 1) for i in range(len(vocabulary))]
    now = datetime.now(UTC)
    with MongoClient(uri) as client:
        db = client.get_default_database()
        db.messages.delete_many({"room": {"$in": rooms}})
        since = now - timedelta(days=days, minutes=1)
        db.rooms.update_many({"_id": {"$in": rooms}}, {"$set": {"created_at": since}})
        for start in range(0, len(rooms), 50):
            docs = []
            for room in rooms[start : start + 50]:
                times = sorted(now - timedelta(days=days * rnd.random()) for _ in range(100))
                for seq, at in enumerate(times, 1):
                    content = " ".join(rnd.choices(vocabulary, weights, k=rnd.randint(3, 12)))
                    doc = {
                        "room": room, "seq": seq, "sender": sender, "sender_name": "bench",
                        "content": content, "message_type": "text", "timestamp": at,
                        "mentions": [], "edited": False, "deleted": False,
                        "data": {}, "terms": terms(content),
                    }  # fmt: skip
                    if days:
                        doc["_id"] = ObjectId(
                            ObjectId.from_datetime(at).binary[:4] + rnd.randbytes(8)
                        )
                    docs.append(doc)
            db.messages.insert_many(docs, ordered=False)  # (sets each doc's `_id`)
            newest: dict = {}
            for doc in docs:
                newest[doc["room"]] = max(newest.get(doc["room"], doc["_id"]), doc["_id"])
            db.rooms.bulk_write(
                [
                    UpdateOne(
                        {"_id": room},
                        {
                            "$set": {
                                "last_seq": SEARCH_PER_ROOM,
                                "last_activity": last.generation_time,
                            }
                        },
                    )
                    for room, last in newest.items()
                ]
            )  # as a send's commit sets them: the room's newest message


def _search_queries(uri: str, token: str, rooms: list[ObjectId]) -> dict:
    """SEARCH_QUERIES queries of each kind, with and without a room: {kind: p50 / p95}."""
    rnd = random.Random(17)
    vocabulary = [f"w{i}" for i in range(5000)]
    kinds = {
        "common word": lambda: rnd.choice(vocabulary[:20]),
        "rare word": lambda: rnd.choice(vocabulary[1000:5000]),
        "two words": lambda: f"{rnd.choice(vocabulary[:50])} {rnd.choice(vocabulary[:200])}",
        "phrase": lambda: f'"{rnd.choice(vocabulary[:30])} {rnd.choice(vocabulary[:30])}"',
        "prefix": lambda: f"w{rnd.randint(10, 99)}*",
    }
    out: dict = {}
    peer = start_peer("ours", uri)
    try:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        for name, make in kinds.items():
            for filtered in (False, True):
                times = []
                for _ in range(SEARCH_QUERIES):
                    query = {"q": make(), "limit": 20}
                    if filtered:
                        query["roomId"] = str(rnd.choice(rooms))
                    began = time.perf_counter()
                    response = http.get(
                        f"{peer.base}/api/search/messages", params=query, timeout=30
                    )
                    times.append((time.perf_counter() - began) * 1000)
                    response.raise_for_status()
                times.sort()
                label = f"{name}{', one room' if filtered else ''}"
                out[label] = {
                    "p50": round(times[len(times) // 2], 1),
                    "p95": round(times[int(len(times) * 0.95)], 1),
                }
    finally:
        peer.close()
    return out


def _sync_rooms(uri: str, members: list[ObjectId]) -> list[ObjectId]:
    """SYNC_ROOMS public rooms of `members`; the first is the reader, the rest admins."""
    now = datetime.now(UTC)
    settings = {"is_private": False, "max_participants": 100, "allow_file_sharing": True,
                "members_can_pin": True}  # fmt: skip
    room = {"type": "public", "participants": members, "admins": members[1:],
            "owners": members[1:2], "banned": [], "settings": settings, "created_at": now,
            "last_activity": now, "last_seq": 0}  # fmt: skip
    docs = [{**room, "name": f"sync {i}"} for i in range(SYNC_ROOMS)]
    with MongoClient(uri) as client:
        return client.get_default_database().rooms.insert_many(docs).inserted_ids


def _changes_recorded(uri: str, rooms: list) -> int:
    """The changes the rooms recorded (archived or still in their logs), noops aside:
    what a syncing client must receive."""
    with MongoClient(uri) as client:
        db = client.get_default_database()
        real = {"type": {"$ne": "noop"}}
        archived = db.changes.count_documents({"room": {"$in": rooms}, **real})
        logged = sum(
            sum(1 for e in doc.get("log") or [] if e["type"] != "noop")
            for doc in db.rooms.find({"_id": {"$in": rooms}}, {"log": 1})
        )
    return archived + logged


def _make_changes(base: str, writers: list[str], room_ids: list[str]) -> int:
    """SYNC_CHANGES requests by four writers in parallel: about 60% new messages, 15%
    edits, 10% reactions, 10% pins, 5% deletes; how many were made."""
    from concurrent.futures import ThreadPoolExecutor

    per_writer = SYNC_CHANGES // len(writers)

    def write(index: int) -> int:
        rnd, own, made = random.Random(index), [], 0
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {writers[index]}"
        for i in range(per_writer):
            room, roll = room_ids[(index + i) % len(room_ids)], rnd.random()
            live = [m for m in own if m[0] == room]
            if roll < 0.6 or not live:
                body = {"roomId": room, "content": f"w{index} m{i}"}
                response = http.post(f"{base}/api/messages", json=body, timeout=30)
                own.append((room, response.json().get("id")))
            elif roll < 0.75:
                body = {"content": f"w{index} m{i} edited"}
                response = http.patch(f"{base}/api/messages/{live[-1][1]}", json=body, timeout=30)
            elif roll < 0.85:
                emoji = rnd.choice(["👍", "🎉", "👀"])
                url = f"{base}/api/messages/{live[-1][1]}/reactions"
                response = http.post(url, json={"emoji": emoji}, timeout=30)
            elif roll < 0.95:
                response = http.put(f"{base}/api/messages/{live[-1][1]}/pin", timeout=30)
            else:
                response = http.delete(f"{base}/api/messages/{live[-1][1]}", timeout=30)
                own.remove(live[-1])
            response.raise_for_status()
            made += 1
        return made

    with ThreadPoolExecutor(len(writers)) as pool:
        return sum(pool.map(write, range(len(writers))))


def database_alone_python(uri: str, room_ids: list[str]) -> dict:
    """The same figure on SecantusDB's pip-installed Python server (`make run`'s and the
    tests' database), holding the same rooms: what the choice of server costs."""
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_secantus(str(Path(tmp) / "db"))
        try:
            alone = base.replace("/?", "/alone?")
            with MongoClient(uri) as source, MongoClient(alone) as target:
                ids = [ObjectId(r) for r in room_ids]
                rooms = source.get_default_database().rooms.find({"_id": {"$in": ids}})
                target.get_default_database().rooms.insert_many(list(rooms))
            return database_alone(alone, room_ids)
        finally:
            stop(proc)


def database_alone(uri: str, room_ids: list[str], seconds: int = 10) -> dict:
    """The database doing a send's operations one send at a time (read the room,
    insert with the next seq and a clientId, move the room's activity), with no
    transport, from 1 and from 8 client threads: the most stored sends/s this
    database server allows here. SecantusDB serves one client best (its throughput
    falls as concurrent clients are added), so both figures are kept."""
    by_workers = {w: _database_alone(uri, room_ids, seconds, w) for w in (1, 8)}
    return {"sendsPerSecond": max(by_workers.values()), "byWorkers": by_workers}


def _database_alone(uri: str, room_ids: list[str], seconds: int, workers: int) -> float:
    done = [0] * workers
    with MongoClient(uri) as client:
        db = client.get_default_database()
        coll = db.bench_alone
        coll.drop()
        coll.create_index([("room", 1), ("seq", 1)], unique=True)
        coll.create_index(
            [("room", 1), ("sender", 1), ("client_id", 1)],
            unique=True,
            partialFilterExpression={"client_id": {"$gt": ""}},
        )
        rooms = [ObjectId(r) for r in room_ids]
        deadline = time.monotonic() + seconds

        def work(k: int) -> None:
            mine = rooms[k::workers]
            seqs = dict.fromkeys(mine, 0)
            sender = ObjectId()
            while time.monotonic() < deadline:
                room = mine[done[k] % len(mine)]
                db.rooms.find_one({"_id": room})
                seqs[room] += 1
                now = datetime.now(UTC)
                coll.insert_one(
                    {
                        "room": room,
                        "seq": seqs[room],
                        "sender": sender,
                        "content": "x",
                        "client_id": f"alone-{k}-{done[k]}",
                        "timestamp": now,
                    }
                )
                db.rooms.update_one({"_id": room}, {"$max": {"last_activity": now}})
                done[k] += 1

        threads = [threading.Thread(target=work, args=(k,)) for k in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        coll.drop()
    return round(sum(done) / seconds, 1)


def run_scenario(
    scenario: str, uri: str, toks: list[str], room_ids: list[str], user_ids: list[str]
) -> dict:
    rooms, big = (room_ids[:-1], ROOM_MEMBERS), (room_ids[-1:], BIG_MEMBERS)

    def rooms_run(peer: Peer) -> dict:
        return stepped(rooms_plan([peer], toks, *rooms, ROOM_RATES, 1))

    def big_run(peer: Peer) -> dict:
        plan = rooms_plan([peer], toks, *big, BIG_RATES, 20)
        return stepped({**plan, "stopAfterFailure": False})

    if scenario == "connections":  # the floor too: what the framework alone holds
        names = [*PEERS, "floor"] if set(PEERS) == {"ours", "node"} else PEERS
        return {n: with_peer(n, uri, lambda p: connections(p, toks)) for n in names}
    if scenario == "rooms":
        return {n: with_peer(n, uri, rooms_run) for n in PEERS}
    if scenario == "bigroom":
        out = {n: with_peer(n, uri, big_run) for n in PEERS}
        plan = {"mode": "ceiling", "clients": 1000, "steps": BIG_RATES, "stepSeconds": STEP}
        plan["probesPerRoom"] = 20
        out["ceiling"] = with_peer("ceiling", None, lambda p: generate({**plan, "base": p.base}))
        return out
    if scenario == "persistence":
        out = {
            "node without database": with_peer("node", None, rooms_run),
            "database alone": database_alone(uri, room_ids[:-1]),
        }
        if RUST and not os.environ.get("MONGODB_URI"):
            out["database alone, Python server"] = database_alone_python(uri, room_ids[:-1])
        return out
    if scenario == "scaleout":
        return scaleout(uri, toks, room_ids[:SCALE_ROOMS], ROOM_MEMBERS[:SCALE_ROOMS])
    if scenario == "cost":
        return cost(uri, toks, room_ids[:SCALE_ROOMS], ROOM_MEMBERS[:SCALE_ROOMS])
    if scenario == "profile":
        return profile(uri, toks, room_ids[:SCALE_ROOMS], ROOM_MEMBERS[:SCALE_ROOMS])
    if scenario == "sync":
        return sync_catch_up(uri, user_ids, toks)
    if scenario == "search":
        return search_latency(uri, user_ids, toks, room_ids[:-1])
    raise ValueError(f"SCENARIO must be one of {SCENARIOS}")


def settle(uri: str, timeout: float = 180) -> None:
    """Wait until the database answers promptly again: a saturated step leaves the
    database server working through requests whose clients are gone, which would
    otherwise slow (or time out) the next scenario."""
    deadline = time.monotonic() + timeout
    with MongoClient(uri) as client:
        db = client.get_default_database()
        while time.monotonic() < deadline:
            started = time.monotonic()
            for _ in range(5):
                db.rooms.find_one({})
            if (time.monotonic() - started) / 5 < 0.02:
                return
            time.sleep(2)


def run(scenarios: list[str]) -> dict:
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "database": database_name(),
        "scenarios": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        db_proc, uri = None, os.environ.get("MONGODB_URI")
        if not uri:
            db_proc, base_uri = start_secantus(str(Path(tmp) / "db"), rust=RUST)
            DATABASE_PIDS[:] = [db_proc.pid]
            uri = base_uri.replace("/?", "/bench?")
        try:
            with MongoClient(uri) as client:
                db = client.get_default_database()
                apply_migrations(db)
                user_ids, room_ids = seed(db, CONNECTIONS + 1000, ROOM_MEMBERS + BIG_MEMBERS)
            toks = tokens(user_ids)
            for scenario in scenarios:
                settle(uri)
                started = time.monotonic()
                figures = run_scenario(scenario, uri, toks, room_ids, user_ids)
                report["scenarios"][scenario] = figures
                save(report, scenario)  # (a later scenario's failure loses none of it)
                took = time.monotonic() - started
                costs = {k: v.get("cpuMsPer1000Deliveries") for k, v in figures.items()}
                shown = costs if scenario in ("cost", "profile") else json.dumps(figures)[:400]
                print(f"{scenario} ({took:.0f} s): {shown}", flush=True)
        finally:
            stop(db_proc)
    return report


def database_name() -> str:
    if os.environ.get("MONGODB_URI"):
        return "MongoDB (MONGODB_URI)"
    return "SecantusDB, Rust server (secantusd-rs)" if RUST else "SecantusDB, Python server"


def machine() -> dict:
    node = subprocess.run([shutil.which("node"), "--version"], capture_output=True, text=True)
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "node": node.stdout.strip(),
        "platform": platform.platform(),
    }


def save(report: dict, scenario: str) -> None:
    """Write a measured scenario's result and the report (docs/benchmarks.md) at once;
    a dev run (REPORT, or PEERS narrowed) writes only its REPORT file."""
    if os.environ.get("REPORT"):  # the whole report, for a dev run's reader
        Path(os.environ["REPORT"]).write_text(json.dumps(report, indent=1))
    if set(PEERS) != {"ours", "node"}:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "date": report["date"],
        "machine": report["machine"],
        "database": report["database"],
        "scenario": scenario,
        "peers": report["scenarios"][scenario],
    }
    (RESULTS / f"{report['date'][:10]}-{scenario}.json").write_text(json.dumps(out, indent=2))
    from bench import report as reporting

    reporting.write(RESULTS)


def main() -> int:
    wanted = os.environ.get("SCENARIO")
    scenarios = wanted.split(",") if wanted else SCENARIOS
    run(scenarios)
    if set(PEERS) != {"ours", "node"}:
        print("PEERS narrowed: a dev run, no results written", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

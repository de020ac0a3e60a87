"""`make bench`: the scenarios of BENCHMARKS.md, ours against the Node Socket.IO peer.

Both peers run on this machine in the same run, against the same SecantusDB, driven
by the same Node load generator (bench/load/generator.mjs, official socket.io-client).
Results go to bench/results/<date>-<scenario>.json; docs/benchmarks.md gets the table
(ours / Node) and a latency-versus-load plot per scenario.

Environment: SCENARIO (connections, rooms, bigroom; default all), CONNECTIONS (10000),
HOLD_SECONDS (60), STEP_SECONDS (10), PEERS (ours,node).
"""

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from pymongo import MongoClient

from chat.migrate import apply_migrations
from devtools.servers import (
    ROOT,
    env_with,
    free_port,
    gunicorn_cmd,
    start_secantus,
    stop,
    wait_for_port,
    worker_rss_mb,
)

RESULTS = ROOT / "bench" / "results"
SECRET = "bench-jwt-secret-key-that-is-long-enough-0123456789"
CONNECTIONS = int(os.environ.get("CONNECTIONS", 10000))
HOLD = int(os.environ.get("HOLD_SECONDS", 60))
STEP = int(os.environ.get("STEP_SECONDS", 10))
PEERS = os.environ.get("PEERS", "ours,node").split(",")
ROOM_RATES = [100, 150, 225, 338, 506, 759, 1139, 1709]
BIG_RATES = [1, 10, 50]


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
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(port, timeout=60, proc=self.proc)
        self.base = f"http://127.0.0.1:{port}"
        self._wait_ready()

    def _wait_ready(self) -> None:
        """gunicorn's master listens before its worker has imported the app: wait for an
        answer, so that memory baselines are taken from a booted server."""
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{self.base}/healthz", timeout=5).raise_for_status()
                return
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        stop(self.proc)


def start_peer(name: str, uri: str) -> Peer:
    port = free_port()
    if name == "node":
        env = env_with(PORT=port, JWT_SECRET_KEY=SECRET, MONGODB_URI=uri)
        return Peer(name, [shutil.which("node"), "bench/peers/node/server.mjs"], env, port)
    env = env_with(
        CHAT_ENV="production",
        SECRET_KEY="bench-secret-key",
        JWT_SECRET_KEY=SECRET,
        MONGODB_URI=uri,
        SOCKET_MAX_CONNECTIONS=CONNECTIONS + 1000,
        SOCKET_MAX_PER_USER=100,
        SOCKET_SEND_RATE=100000,
        SOCKET_SEND_BURST=100000,
        SOCKET_CORS_ORIGIN="http://127.0.0.1",
    )
    cmd = gunicorn_cmd(port, connections=CONNECTIONS + 2000)
    return Peer(name, cmd, env, port)


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


def connections(peer: Peer, toks: list[str]) -> dict:
    """Ramp to CONNECTIONS idle sockets and hold; the server's peak RSS is sampled."""
    before = worker_rss_mb(peer.proc.pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.wait(1):
            peak.append(worker_rss_mb(peer.proc.pid))

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
    return result


def rooms_plan(
    peer: Peer,
    toks: list[str],
    room_ids: list[str],
    members: list[list[int]],
    rates: list[int],
    probes: int,
) -> dict:
    """Only the rooms' members connect; member lists index into the plan's tokens."""
    used = sorted({i for m in members for i in m})
    position = {user: k for k, user in enumerate(used)}
    rooms = [
        {"id": r, "members": [position[i] for i in m]}
        for r, m in zip(room_ids, members, strict=True)
    ]
    return {
        "base": peer.base,
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


def run(scenarios: list[str]) -> dict:
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scenarios": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        db_proc, base_uri = start_secantus(str(Path(tmp) / "db"))
        uri = base_uri.replace("/?", "/bench?")
        try:
            with MongoClient(uri) as client:
                db = client.get_default_database()
                apply_migrations(db)
                room_members = [list(range(i * 10, i * 10 + 10)) for i in range(CONNECTIONS // 10)]
                big_members = [list(range(CONNECTIONS, CONNECTIONS + 1000))]
                user_ids, room_ids = seed(db, CONNECTIONS + 1000, room_members + big_members)
            toks = tokens(user_ids)
            for scenario in scenarios:
                report["scenarios"][scenario] = {}
                for name in PEERS:
                    peer = start_peer(name, uri)
                    try:
                        if scenario == "connections":
                            figures = connections(peer, toks)
                        elif scenario == "rooms":
                            plan = rooms_plan(
                                peer, toks, room_ids[:-1], room_members, ROOM_RATES, 1
                            )
                            figures = generate(plan)
                            figures["sustainedDeliveriesPerSecond"] = sustained(figures["steps"])
                        else:
                            plan = rooms_plan(peer, toks, room_ids[-1:], big_members, BIG_RATES, 20)
                            figures = generate(plan)
                    finally:
                        peer.close()
                    report["scenarios"][scenario][name] = figures
                    print(f"{scenario} {name}: {json.dumps(figures)[:300]}", flush=True)
        finally:
            stop(db_proc)
    return report


def machine() -> dict:
    node = subprocess.run([shutil.which("node"), "--version"], capture_output=True, text=True)
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "node": node.stdout.strip(),
        "platform": platform.platform(),
    }


def main() -> int:
    wanted = os.environ.get("SCENARIO")
    scenarios = [wanted] if wanted else ["connections", "rooms", "bigroom"]
    report = run(scenarios)
    if set(PEERS) != {"ours", "node"}:
        print("PEERS narrowed: a dev run, no results written", flush=True)
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    day = report["date"][:10]
    for scenario, figures in report["scenarios"].items():
        out = {
            "date": report["date"],
            "machine": report["machine"],
            "scenario": scenario,
            "peers": figures,
        }
        (RESULTS / f"{day}-{scenario}.json").write_text(json.dumps(out, indent=2))
    from bench import report as reporting

    reporting.write(RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())

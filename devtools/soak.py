"""`make soak`: the long runs kept out of `make test` (RELIABILITY rows 8 and 10).

1. 10,000 authenticated idle sockets held for 5 minutes (SOAK_CONNECTIONS,
   SOAK_SECONDS): 0 failed connects, 0 unexpected disconnects, RSS per 1,000.
   (Refusal over the cap is tested quickly in `make test` with a small cap.)
2. 100,000 random malformed Engine.IO/Socket.IO packets (SOAK_PACKETS): the server
   stays up and its memory stays flat.
3. The same 10,000 sockets against `make run` (devtools.run, development settings,
   held SOAK_MAKE_RUN_SECONDS): what a new user starts takes them too.
Both servers are the Procfile's `web:` line (chat/gunicorn_conf.py); only the limits a load
test raises are set (sign-ups from one address, sockets per user).
Prints one JSON line of figures; exits non-zero when a check fails.
"""

import json
import os
import random
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
import websocket
from pymongo import MongoClient

from chat.migrate import apply_migrations
from devtools.servers import (
    ROOT,
    env_with,
    free_port,
    procfile_cmd,
    start_secantus,
    stop,
    wait_for_app,
    worker_rss_mb,
)

CONNECTIONS = int(os.environ.get("SOAK_CONNECTIONS", 10000))
SECONDS = int(os.environ.get("SOAK_SECONDS", 300))
PACKETS = int(os.environ.get("SOAK_PACKETS", 100000))
MAKE_RUN_SECONDS = int(os.environ.get("SOAK_MAKE_RUN_SECONDS", 30))
USERS = 50


def tokens(base: str) -> list[str]:
    out = []
    run = random.randrange(10**6)
    for i in range(USERS):
        body = {
            "username": f"soak{run}x{i}",
            "email": f"soak{run}x{i}@example.com",
            "password": "soak password",
        }
        out.append(
            requests.post(f"{base}/api/auth/register", json=body, timeout=30).json()["accessToken"]
        )
    return out


def idle_sockets(
    base: str, master: int | None, token_list: list[str], workdir: Path, hold: int = SECONDS
) -> dict:
    token_file = workdir / "tokens.json"
    token_file.write_text(json.dumps(token_list))
    before = worker_rss_mb(master) if master else 0.0
    env = env_with(
        CHAT_BASE=base, TOKENS_FILE=token_file, CONNECTIONS=CONNECTIONS, HOLD_SECONDS=hold
    )
    node = subprocess.run(
        [shutil.which("node"), "bench/soak/idle.mjs"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=hold + 900,
    )
    figures = json.loads(node.stdout.strip().splitlines()[-1])
    if master:
        growth = worker_rss_mb(master) - before
        figures["rssPer1000Mb"] = round(growth / max(1, CONNECTIONS) * 1000, 1)
    return figures


def make_run_sockets(workdir: Path) -> dict:
    """`make run`'s own server (its SecantusDB under a fresh var dir) holding the sockets."""
    port = free_port()
    env = env_with(
        PORT=port,
        CHAT_VAR_DIR=workdir / "make-run",
        RATELIMIT_AUTH="1000 per minute",
        SOCKET_MAX_PER_USER=CONNECTIONS,
    )
    env.pop("MONGODB_URI", None)
    env.pop("CHAT_ENV", None)
    run = subprocess.Popen([sys.executable, "-m", "devtools.run"], cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_app(base, timeout=120, proc=run)
        return idle_sockets(base, None, tokens(base), workdir, hold=MAKE_RUN_SECONDS)
    finally:  # Ctrl-C, as a user stops it: it stops its gunicorn and database
        run.send_signal(signal.SIGINT)
        try:
            run.wait(30)
        except subprocess.TimeoutExpired:
            stop(run)


def garbage(rng: random.Random) -> str:
    kinds = [
        lambda: "".join(chr(rng.randrange(1, 0x2FF)) for _ in range(rng.randrange(0, 40))),
        lambda: rng.choice("0123456") + rng.choice(["", "/chat,", "/x,"]) + str(rng.random()),
        lambda: "42/chat,[{},{}]".format(
            json.dumps(rng.choice(["send_message", "sync", "join_room", "x"])),
            rng.choice(
                ["{}", "null", "[]", '{"roomId":{"$ne":1}}', '"' + "a" * rng.randrange(3000) + '"']
            ),
        ),
        lambda: "4" + str(rng.randrange(0, 10)) + "/chat," + json.dumps([rng.random()] * 5),
    ]
    return rng.choice(kinds)()


def malformed_packets(base: str, master: int, token: str) -> dict:
    host = base.split("//")[1]
    rng = random.Random(7)
    before, sent, reconnects = worker_rss_mb(master), 0, 0
    ws = None
    while sent < PACKETS:
        if ws is None:
            ws = websocket.create_connection(
                f"ws://{host}/socket.io/?EIO=4&transport=websocket", timeout=5
            )
            ws.recv()
            ws.send("40/chat," + json.dumps({"token": token}))
            reconnects += 1
        try:
            ws.send(garbage(rng))
            sent += 1
        except (websocket.WebSocketException, OSError):
            ws = None
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    return {
        "packets": sent,
        "connections": reconnects,
        "rssGrowthMb": round(worker_rss_mb(master) - before, 1),
    }


def main() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as tmp:
        db, uri = start_secantus(str(Path(tmp) / "db"))
        uri = uri.replace("/?", "/soak?")
        with MongoClient(uri) as client:
            apply_migrations(client.get_default_database())
        port = free_port()
        # As shipped: the Procfile's command in production. Only the limits a load test
        # raises are set: sign-ups from one address, sockets per user, the socket cap.
        env = env_with(
            CHAT_ENV="production",
            SECRET_KEY=secrets.token_urlsafe(48),
            JWT_SECRET_KEY=secrets.token_urlsafe(48),
            MONGODB_URI=uri,
            HOST="127.0.0.1",
            PORT=port,
            RATELIMIT_AUTH="1000 per minute",
            SOCKET_MAX_CONNECTIONS=max(CONNECTIONS, 10000),
            SOCKET_MAX_PER_USER=CONNECTIONS,
            REDIS_PREFIX=f"soak{port}",
        )
        server = subprocess.Popen(procfile_cmd("web"), cwd=ROOT, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for_app(base, proc=server)
            token_list = tokens(base)
            figures = {"idle": idle_sockets(base, server.pid, token_list, Path(tmp))}
            figures["packets"] = malformed_packets(base, server.pid, token_list[0])
        finally:
            stop(server)
            stop(db)
        figures["makeRun"] = make_run_sockets(Path(tmp))
    print(json.dumps(figures))
    ok = all(
        run["failed"] == 0 and run["dropped"] == 0 and run["connected"] == CONNECTIONS
        for run in (figures["idle"], figures["makeRun"])
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""`make run`: local database (unless MONGODB_URI is set), migrations, then gunicorn+gevent.

Ctrl-C stops everything this script started. Data lives under var/db/ (or
$CHAT_VAR_DIR/db) and is reused by the next run.

WEB_CONCURRENCY=N (default 1) starts N server processes, one per core, on PORT,
PORT+1, ... PORT+N-1, joined by the Redis message queue (REDIS_URL, default the
local Redis) and sharing one pair of secrets: a client may use any of them, and
everything reaches everyone. In production the same is N Procfile processes behind
a sticky load balancer (README, "Several processes").
"""

import contextlib
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from devtools.servers import ROOT, env_with, procfile_cmd, redis_answers, start_secantus, stop

BIN = Path(sys.executable).parent


@contextlib.contextmanager
def local_database():
    """Yield a MongoDB URI: MONGODB_URI when set, else SecantusDB on var/db/."""
    if os.environ.get("MONGODB_URI"):
        yield os.environ["MONGODB_URI"]
        return
    var = Path(os.environ.get("CHAT_VAR_DIR", ROOT / "var"))
    (var / "db").mkdir(parents=True, exist_ok=True)
    with open(var / "secantus.log", "ab") as log:
        proc, base = start_secantus(str(var / "db"), log=log)
        try:
            yield base.replace("/?", "/chat?")
        finally:
            stop(proc)


def processes() -> int:
    """WEB_CONCURRENCY, checked: a whole number from 1 to the machine's cores x 4."""
    raw = os.environ.get("WEB_CONCURRENCY") or "1"
    limit = 4 * (os.cpu_count() or 1)
    if not raw.isdigit() or not 1 <= int(raw) <= limit:
        raise SystemExit(f"WEB_CONCURRENCY must be a whole number from 1 to {limit}, not {raw!r}")
    return int(raw)


def shared_settings(count: int) -> dict:
    """What several processes must agree on: one pair of secrets (development draws
    random ones per process otherwise) and the Redis message queue."""
    if count == 1:
        return {}
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    parsed = urlparse(url)
    if not redis_answers(parsed.hostname or "127.0.0.1", parsed.port or 6379):
        raise SystemExit(f"WEB_CONCURRENCY={count} needs Redis for the message queue: {url}")
    settings = {"REDIS_URL": url}
    for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
        settings[key] = os.environ.get(key) or secrets.token_urlsafe(48)
    return settings


def main() -> int:
    port, count = int(os.environ.get("PORT", "5000")), processes()
    with local_database() as uri:
        print(f"database: {uri}", flush=True)
        # Development: random secrets per start (sign in again after a restart), this
        # machine only. HOST/PORT as on a Heroku-style host; the Procfile does the rest.
        env = env_with(MONGODB_URI=uri, HOST=os.environ.get("HOST", "127.0.0.1"))
        env.update(shared_settings(count))
        env.setdefault("CHAT_ENV", "development")
        subprocess.run([BIN / "flask", "--app", "wsgi", "migrate"], env=env, check=True)
        servers = []
        try:
            for k in range(count):
                env["PORT"] = str(port + k)
                servers.append(subprocess.Popen(procfile_cmd("web"), env=env, cwd=ROOT))
                print(f"serving on http://127.0.0.1:{port + k}/", flush=True)
            print("Ctrl-C stops", flush=True)
            while all(server.poll() is None for server in servers):
                time.sleep(0.5)
            return next(server.returncode for server in servers if server.returncode is not None)
        except KeyboardInterrupt:
            return 0
        finally:
            for server in servers:
                stop(server)


if __name__ == "__main__":
    sys.exit(main())

"""`make run`: local database (unless MONGODB_URI is set), migrations, then gunicorn+gevent.

Ctrl-C stops everything this script started. Data lives under var/db/ (or
$CHAT_VAR_DIR/db) and is reused by the next run.
"""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from devtools.servers import ROOT, env_with, procfile_cmd, start_secantus, stop

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


def main() -> int:
    port = os.environ.get("PORT", "5000")
    with local_database() as uri:
        print(f"database: {uri}", flush=True)
        # Development: random secrets per start (sign in again after a restart), this
        # machine only. HOST/PORT as on a Heroku-style host; the Procfile does the rest.
        env = env_with(MONGODB_URI=uri, PORT=port, HOST=os.environ.get("HOST", "127.0.0.1"))
        env.setdefault("CHAT_ENV", "development")
        subprocess.run([BIN / "flask", "--app", "wsgi:app", "migrate"], env=env, check=True)
        print(f"serving on http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
        server = subprocess.Popen(procfile_cmd("web"), env=env, cwd=ROOT)
        try:
            return server.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            stop(server)


if __name__ == "__main__":
    sys.exit(main())

"""Real server processes for tests: gunicorn as the Procfile runs it, on 127.0.0.1."""

import contextlib
import subprocess
import sys
from pathlib import Path

from devtools.servers import ROOT, env_with, free_port, gunicorn_cmd, stop, wait_for_port

BIN = Path(sys.executable).parent


@contextlib.contextmanager
def server(settings: dict, worker: str = "gevent", bin_dir: Path = BIN, port: int | None = None):
    """Run the app in its own process; yields (base_url, Popen). Stopped on exit."""
    port = port or free_port()
    env = env_with(CHAT_ENV="testing", **{k: v for k, v in settings.items() if v is not None})
    env.setdefault("CHAT_ASYNC_MODE", "eventlet" if worker == "eventlet" else "gevent")
    proc = subprocess.Popen(
        gunicorn_cmd(port, worker, bin_dir),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, timeout=30, proc=proc)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        stop(proc)
        if proc.stderr:
            proc.stderr.close()

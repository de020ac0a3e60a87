"""Real server processes for tests: gunicorn as the Procfile runs it, on 127.0.0.1."""

import contextlib
import subprocess
import sys
from pathlib import Path

from devtools.servers import ROOT, env_with, free_port, stop, wait_for_port

BIN = Path(sys.executable).parent


def gunicorn_cmd(port: int, worker: str = "gevent", bin_dir: Path = BIN) -> list[str]:
    """The Procfile's web command, bound to loopback."""
    cmd = [str(bin_dir / "gunicorn"), "-k", worker, "-w", "1", "--bind", f"127.0.0.1:{port}"]
    return [*cmd, "--graceful-timeout", "2", "wsgi:app"]


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

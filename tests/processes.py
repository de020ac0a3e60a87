"""Real server processes for tests, started as shipped: the Procfile's `web:` command
with production settings (secrets generated for the run), on 127.0.0.1."""

import contextlib
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from devtools.servers import ROOT, env_with, free_port, procfile_cmd, stop, wait_for_app

BIN = Path(sys.executable).parent
# Production needs its secrets: made for this run, shared by every process of it (and by
# the in-process test app), so a token from one server is good on the others.
RUN_SECRETS = {
    "SECRET_KEY": secrets.token_urlsafe(48),
    "JWT_SECRET_KEY": secrets.token_urlsafe(48),
    "METRICS_TOKEN": secrets.token_urlsafe(24),
}
# The suite registers hundreds of users from one address and sends at test speed, as the
# benchmark does: these are the limits an operator raises for a load test. The limit and
# attack tests set their own (or the shipped defaults).
TEST_SPEED = {
    "RATELIMIT_AUTH": "100000 per minute",
    "RATELIMIT_DEFAULT": "100000 per minute",
    "SOCKET_SEND_RATE": 10000,
    "SOCKET_SEND_BURST": 10000,
    "SOCKET_EVENT_RATE": 10000,
    "SOCKET_EVENT_BURST": 10000,
}


@contextlib.contextmanager
def server(
    settings: dict,
    worker: str = "gevent",
    bin_dir: Path = BIN,
    port: int | None = None,
    limits: dict = TEST_SPEED,
    cwd: Path = ROOT,
):
    """Run the app in its own process; yields (base_url, Popen). Stopped on exit.

    `settings` are environment variables, as an operator would set them, over
    production, the run's secrets and `limits` (TEST_SPEED; {} for the shipped ones).
    """
    port = port or free_port()
    values = {"CHAT_ENV": "production", **RUN_SECRETS, **limits, **settings}
    values.update(HOST="127.0.0.1", PORT=port)
    env = env_with(**{k: v for k, v in values.items() if v is not None})
    env.setdefault("CHAT_ASYNC_MODE", "eventlet" if worker == "eventlet" else "gevent")
    # Its log goes to a file: a pipe nobody reads fills up (64 KiB of security log
    # lines) and then blocks the server on its next write.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            procfile_cmd("web", bin_dir), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            proc.log = log  # type: ignore[attr-defined]  # its standard error, for log tests
            base = f"http://127.0.0.1:{port}"
            wait_for_app(base, proc=proc)
            yield base, proc
        finally:
            stop(proc)


def release(settings: dict, bin_dir: Path = BIN, cwd: Path = ROOT) -> None:
    """Run the Procfile's `release:` line (migrations) with production settings."""
    env = env_with(**{"CHAT_ENV": "production", **RUN_SECRETS, **settings})
    subprocess.run(procfile_cmd("release", bin_dir), cwd=cwd, env=env, check=True, timeout=120)


def metrics_text(base: str) -> str:
    """A server's /metrics, with the run's METRICS_TOKEN."""
    headers = {"Authorization": f"Bearer {RUN_SECRETS['METRICS_TOKEN']}"}
    return requests.get(f"{base}/metrics", headers=headers, timeout=5).text


def scrape(base: str) -> dict[tuple, float]:
    """A server's samples: (name, sorted label pairs) -> value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics_text(base))
        for s in family.samples
    }


def metric(base: str, name: str, **labels) -> float:
    """One sample of a server's /metrics (0 when it has none yet)."""
    return scrape(base).get((name, tuple(sorted(labels.items()))), 0.0)


def connected_clients(base: str) -> float:
    """The server's chat_connected_clients gauge: the sockets its caps count."""
    line = next(
        r for r in metrics_text(base).splitlines() if r.startswith("chat_connected_clients ")
    )
    return float(line.split()[1])

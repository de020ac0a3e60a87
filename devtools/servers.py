"""Start and stop the local SecantusDB, Redis and RabbitMQ servers used by `make run`,
tests and the benchmark."""

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until 127.0.0.1:port accepts connections (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def wait_for_app(base: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until the app at `base` answers /healthz with 200 (or the process dies).
    gunicorn's master listens before its worker has imported the app: a request sent
    when the port opens waits out the import (seconds on a loaded machine)."""
    port = urllib.parse.urlsplit(base).port
    deadline = time.monotonic() + timeout
    wait_for_port(port, timeout=timeout, proc=proc)
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:  # noqa: S310 (our own http://127.0.0.1 URL)
                if answer.status == 200:
                    return
        except OSError:  # (URLError, refused, reset, timed out: not booted yet)
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{base} did not answer /healthz after {timeout}s")
        time.sleep(0.1)


# SecantusDB's Rust server (`make bench` builds it with cargo into cargo's bin).
SECANTUS_RS = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo")) / "bin" / "secantusd-rs"


def start_secantus(
    storage: str, port: int | None = None, log=None, rust: bool = False
) -> tuple[subprocess.Popen, str]:
    """Start SecantusDB on 127.0.0.1 (its pip-installed Python server, or with `rust` its
    Rust server); return the process and its MongoDB URI."""
    port = port or free_port()
    exe = SECANTUS_RS if rust else Path(sys.executable).with_name("secantusd-py")
    cmd = [str(exe), "--host", "127.0.0.1", "--port", str(port), "--storage-path", storage]
    cmd += ["--log-level", "WARNING"]
    proc = subprocess.Popen(cmd, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_for_port(port, proc=proc)
    return proc, f"mongodb://127.0.0.1:{port}/?directConnection=true"


def redis_answers(host: str = "127.0.0.1", port: int = 6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start a throwaway redis-server (no persistence) on 127.0.0.1."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = port or free_port()
    cmd = [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait_for_port(port, proc=proc)
    return proc, f"redis://127.0.0.1:{port}/0"


RABBITMQ = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")  # Debian's, without its `su` wrapper
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"  # the machine's broker


def rabbitmq_url() -> str:
    """The machine's RabbitMQ (RABBITMQ_URL, else 127.0.0.1:5672), started when it is
    installed but not running."""
    url = os.environ.get("RABBITMQ_URL", RABBITMQ_URL)
    if url == RABBITMQ_URL and not _answers(5672):
        if shutil.which("rabbitmq-server") is None:
            raise RuntimeError("rabbitmq-server is not installed (apt-get install rabbitmq-server)")
        subprocess.run(["rabbitmq-server", "-detached"], check=True, timeout=60)
        wait_for_port(5672, timeout=60)
    return url


def start_rabbitmq(home: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """A RabbitMQ node of our own (its data, cookie and logs under `home`, its own ports),
    for tests that stop and restart the broker. Stop it with `stop_group`."""
    if not RABBITMQ.exists():
        raise RuntimeError("rabbitmq-server is not installed (apt-get install rabbitmq-server)")
    port = port or free_port()
    home.mkdir(parents=True, exist_ok=True)
    env = env_with(
        HOME=home,
        RABBITMQ_NODENAME=f"chat-{port}@localhost",
        RABBITMQ_NODE_PORT=port,
        RABBITMQ_DIST_PORT=free_port(),
        RABBITMQ_MNESIA_BASE=home / "db",
        RABBITMQ_LOG_BASE=home / "log",
        RABBITMQ_PID_FILE=home / "pid",
        RABBITMQ_ENABLED_PLUGINS_FILE=home / "plugins",
        RABBITMQ_FEATURE_FLAGS_FILE=home / "feature_flags",
        RABBITMQ_CONFIG_FILE=home / "none",
    )
    with open(home / "out.log", "ab") as log:
        proc = subprocess.Popen(
            [str(RABBITMQ)], env=env, stdout=log, stderr=log, start_new_session=True
        )
    wait_for_port(port, timeout=60, proc=proc)
    return proc, f"amqp://guest:guest@127.0.0.1:{port}//"


def stop_group(proc: subprocess.Popen | None, timeout: float = 15.0) -> None:
    """Stop a process started in its own session, and everything it started."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def stop(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """Terminate a process we started, killing it if it does not stop in time."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def env_with(**values) -> dict:
    env = dict(os.environ)
    env.update({k: str(v) for k, v in values.items()})
    return env


def procfile_cmd(process: str = "web", bin_dir: Path | None = None) -> list[str]:
    """A line of the Procfile as argv, its program taken from `bin_dir` (the venv).

    `make run`, the tests, the soak and the benchmark all start the server this way,
    so what they run is what a Heroku-style host runs. Where it listens comes from
    the environment (HOST, PORT), as on such a host.
    """
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            argv = shlex.split(command)
            argv[0] = str((bin_dir or Path(sys.executable).parent) / argv[0])
            return argv
    raise KeyError(f"no {process!r} line in the Procfile")


def worker_pid(pid: int) -> int:
    """The worker of a gunicorn master started with `-w 1` (or `pid` itself)."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return int(children.split()[0]) if children.split() else pid


def worker_rss_mb(pid: int) -> float:
    """Resident memory, in MB, of a gunicorn master's worker (or of `pid` itself)."""
    with open(f"/proc/{worker_pid(pid)}/status") as status:
        return next(int(row.split()[1]) for row in status if row.startswith("VmRSS:")) / 1024

"""The service as deployed: gunicorn + gevent (the Procfile), eventlet mode, `make run`."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid

import requests

from devtools.servers import ROOT, env_with, free_port, stop, wait_for_app
from tests.conftest import PASSWORD
from tests.processes import server
from tests.sockets.client import ChatSocket

EVENTLET_BIN = ROOT / ".venv-eventlet" / "bin"


def _settings(base_settings) -> dict:
    return {"MONGODB_URI": base_settings["MONGODB_URI"], "REDIS_URL": base_settings["REDIS_URL"]}


def _register(base: str, username: str) -> dict:
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    response = requests.post(f"{base}/api/auth/register", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def _me(base: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{base}/api/users/me", headers=headers, timeout=10).status_code


def test_logout_holds_across_a_server_restart(app, base_settings):
    with server(_settings(base_settings)) as (base, _):
        assert requests.get(f"{base}/readyz", timeout=10).json()["status"] == "ready"
        session = _register(base, "alice")
        headers = {"Authorization": f"Bearer {session['accessToken']}"}
        assert requests.post(f"{base}/api/auth/logout", headers=headers, timeout=10).ok
    with server(_settings(base_settings)) as (base, _):
        assert _me(base, session["accessToken"]) == 401
        login = {"username": "alice", "password": PASSWORD}
        fresh = requests.post(f"{base}/api/auth/login", json=login, timeout=10).json()
        assert _me(base, fresh["accessToken"]) == 200


def test_eventlet_compatibility_mode_boots(app, base_settings):
    """requirements-eventlet.txt in its own virtualenv (built by `make test`)."""
    assert (EVENTLET_BIN / "gunicorn").exists(), "run `make eventlet-venv` first"
    with server(_settings(base_settings), worker="eventlet", bin_dir=EVENTLET_BIN) as (base, _):
        assert requests.get(f"{base}/readyz", timeout=10).json()["status"] == "ready"
        session = _register(base, "eve")
        assert _me(base, session["accessToken"]) == 200


def _make_run(var_dir, port: int, **settings) -> subprocess.Popen:
    env = env_with(PORT=port, CHAT_VAR_DIR=var_dir, **settings)
    env.pop("MONGODB_URI", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_for_app(f"http://127.0.0.1:{port}", proc=proc)
    return proc


def _interrupt(proc: subprocess.Popen) -> None:
    """What Ctrl-C does in a terminal: SIGINT to the whole process group."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=20)
    finally:
        stop(proc)


def test_make_run_keeps_data_between_runs_and_ctrl_c_stops_everything(tmp_path):
    port = free_port()
    proc = _make_run(tmp_path, port)
    try:
        base = f"http://127.0.0.1:{port}"
        assert requests.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
        _register(base, "dora")
    finally:
        _interrupt(proc)
    assert proc.returncode is not None
    proc = _make_run(tmp_path, port)
    try:
        login = {"username": "dora", "password": PASSWORD}
        response = requests.post(f"http://127.0.0.1:{port}/api/auth/login", json=login, timeout=10)
        assert response.status_code == 200
    finally:
        _interrupt(proc)
    lingering = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert lingering.stdout.strip() == "", "a server outlived Ctrl-C"


def _two_free_ports() -> int:
    for _ in range(50):
        port = free_port()
        with contextlib.suppress(OSError), socket.create_server(("127.0.0.1", port + 1)):
            return port
    raise RuntimeError("no two free ports in a row")


def test_make_run_with_web_concurrency_starts_processes_that_share_everything(tmp_path):
    """WEB_CONCURRENCY=2: two servers on PORT and PORT+1, one message queue, one pair
    of secrets: a session from one is good on the other, and a message sent through
    one reaches a socket on the other."""
    port = _two_free_ports()
    run = uuid.uuid4().hex[:8]
    settings = {
        "WEB_CONCURRENCY": 2,
        "REDIS_PREFIX": f"run-{run}",
        "SOCKETIO_CHANNEL": f"run-{run}",
    }
    proc = _make_run(tmp_path, port, **settings)
    first, second = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
    sock = None
    try:
        wait_for_app(second, proc=proc)
        alice, bob = _register(first, "alice"), _register(second, "bob")
        assert _me(second, alice["accessToken"]) == 200
        headers = {"Authorization": f"Bearer {alice['accessToken']}"}
        room = requests.post(
            f"{first}/api/rooms", json={"name": "two"}, headers=headers, timeout=10
        ).json()
        bob_headers = {"Authorization": f"Bearer {bob['accessToken']}"}
        assert requests.post(
            f"{second}/api/rooms/{room['id']}/join", headers=bob_headers, timeout=10
        ).ok
        sock = ChatSocket(second, bob["accessToken"]).connect()
        body = {"roomId": room["id"], "content": "across"}
        assert requests.post(f"{first}/api/messages", json=body, headers=headers, timeout=10).ok
        assert sock.wait_for("message_received")["message"]["content"] == "across"
    finally:
        if sock:
            sock.close()
        _interrupt(proc)
    lingering = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert lingering.stdout.strip() == "", "a server outlived Ctrl-C"


def test_make_run_refuses_a_web_concurrency_it_cannot_honour(tmp_path):
    env = env_with(PORT=free_port(), CHAT_VAR_DIR=tmp_path, WEB_CONCURRENCY="lots")
    run = subprocess.run(
        [sys.executable, "-m", "devtools.run"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode != 0
    assert "WEB_CONCURRENCY must be a whole number" in run.stderr

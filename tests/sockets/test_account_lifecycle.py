"""Ending sessions closes their sockets on every process: a password change, a
password reset by email (a real SMTP server) and a deactivation, on two servers
started as shipped (the Procfile's command, production settings, Redis between them)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from devtools.servers import env_with
from tests.conftest import PASSWORD, eventually
from tests.processes import RUN_SECRETS, server
from tests.sockets.client import ChatSocket

NEW = "a brand new passphrase"


@pytest.fixture
def pair(app, live_settings, smtp):
    port, _inbox = smtp
    settings = {**live_settings, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port}
    with server(settings) as (a, _), server(settings) as (b, _):
        yield a, b


def _login(base: str, username: str, password: str = PASSWORD) -> requests.Response:
    body = {"username": username, "password": password}
    return requests.post(f"{base}/api/auth/login", json=body, timeout=10)


def test_a_password_change_closes_the_other_sessions_sockets_everywhere(pair, people):
    a, b = pair
    alice = people("alice", base=a)
    here = alice.socket(base=a)
    laptop = _login(b, "alice").json()
    there = [ChatSocket(base, laptop["accessToken"]).connect() for base in (a, b)]
    try:
        body = {"currentPassword": PASSWORD, "newPassword": NEW}
        alice.ok("post", "/api/auth/password", 204, json=body)
        assert all(sock.wait_disconnected(2) for sock in there)
        assert here.connected
        assert _login(b, "alice").status_code == 401 and _login(a, "alice", NEW).ok
    finally:
        for sock in there:
            sock.close()


def test_a_password_reset_by_email_closes_every_socket(pair, people, smtp):
    a, b = pair
    _port, inbox = smtp
    alice = people("alice", base=a)
    headers = {"Authorization": f"Bearer {alice.token}"}  # resets go to proven addresses
    assert requests.post(f"{a}/api/auth/verify-email", headers=headers, timeout=10).ok
    assert eventually(lambda: inbox.messages)
    check = re.search(r"Your token: (\S+)", inbox.messages.pop().content.decode()).group(1)
    proven = requests.post(f"{b}/api/auth/verify-email/confirm", json={"token": check}, timeout=10)
    assert proven.json()["emailVerified"] is True
    sockets = [alice.socket(base=a), alice.socket(base=b)]
    answer = requests.post(
        f"{b}/api/auth/password-reset", json={"email": "alice@example.com"}, timeout=10
    )
    assert answer.status_code == 202
    assert eventually(lambda: inbox.messages)
    text = inbox.messages[0].content.decode()
    token = re.search(r"Your reset token: (\S+)", text).group(1)
    body = {"token": token, "newPassword": NEW}
    confirmed = requests.post(f"{a}/api/auth/password-reset/confirm", json=body, timeout=10)
    assert confirmed.status_code == 204
    assert all(sock.wait_disconnected(2) for sock in sockets)
    assert _login(b, "alice", NEW).ok


def test_deactivation_closes_every_socket_and_tells_the_rooms(pair, people):
    a, b = pair
    alice, bob = people("alice", "bob", base=a)
    room = alice.create_room()
    bob.ok("post", f"/api/rooms/{room}/join")
    sockets = [alice.socket(base=a), alice.socket(base=b)]
    watcher = bob.socket(base=b)
    alice.ok("delete", "/api/users/me", 204, json={"password": PASSWORD})
    assert all(sock.wait_disconnected(2) for sock in sockets)
    updated = watcher.wait_for("user_updated")["user"]
    assert updated["id"] == alice.id and updated["deactivated"] is True


def test_a_site_admin_deactivates_a_user_everywhere(pair, people, live_settings):
    """The role from the shipped command line (`flask --app wsgi users set-admin`,
    production settings); the deactivation closes the user's sockets on both servers."""
    a, b = pair
    admin, mallory = people("admin", "mallory", base=a)
    env = env_with(CHAT_ENV="production", **RUN_SECRETS, **live_settings)
    flask = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi"]
    made = subprocess.run(
        [*flask, "users", "set-admin", "admin"], env=env, capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    sockets = [mallory.socket(base=a), mallory.socket(base=b)]
    admin.ok("post", f"/api/admin/users/{mallory.id}/deactivate")
    assert all(sock.wait_disconnected(2) for sock in sockets)
    assert _login(b, "mallory").status_code == 403

"""Connecting to /chat: accepted token locations, refusals, and cutting sockets off."""

import time

import jwt as pyjwt
import pytest
import requests
import socketio

from chat.models import User
from tests.processes import server
from tests.sockets.client import ChatSocket


def _refused(base: str, token: str | None, **kwargs) -> list:
    sock = ChatSocket(base, token)
    with pytest.raises(socketio.exceptions.ConnectionError):
        sock.connect(**kwargs)
    assert not sock.connected
    return sock.connect_errors


@pytest.mark.parametrize("how", ["auth", "query", "header"])
def test_token_is_accepted_in_auth_query_or_header(people, how):
    alice = people("alice")
    sock = alice.socket(how=how)
    assert sock.connected
    assert sock.call("join_room", {"roomId": alice.create_room()})["ok"] is True


def test_polling_transport_works_too(people):
    alice = people("alice")
    sock = alice.socket(transports=("polling",))
    room = alice.create_room()
    assert sock.call("send_message", {"roomId": room, "content": "over polling"})["ok"]


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_bad_tokens_are_refused_before_any_handler(people, live, app):
    alice = people("alice")
    now = int(time.time())
    claims = {"sub": alice.id, "type": "access", "sid": "s", "iat": now, "jti": "j"}
    secret = app.config["JWT_SECRET_KEY"]
    tokens = {
        "missing": None,
        "garbage": "garbage",
        "bad signature": pyjwt.encode({**claims, "exp": now + 60}, "x" * 40, algorithm="HS256"),
        "alg none": pyjwt.encode({**claims, "exp": now + 60}, None, algorithm="none"),
        "expired": pyjwt.encode({**claims, "exp": now - 5}, secret, algorithm="HS256"),
        "no exp": pyjwt.encode(claims, secret, algorithm="HS256"),
        "refresh as access": alice.session["refreshToken"],
    }
    for name, token in tokens.items():
        assert _refused(live, token) == [{"message": "unauthorized"}], name


def test_revoked_and_deleted_users_tokens_are_refused(people, live):
    alice, bob = people("alice", "bob")
    alice.ok("post", "/api/auth/logout", 204)
    assert _refused(live, alice.token) == [{"message": "unauthorized"}]
    User.objects(id=bob.id).delete()
    assert _refused(live, bob.token) == [{"message": "unauthorized"}]


def test_logout_disconnects_that_sessions_sockets_only(people, live):
    alice = people("alice")
    first, second = alice.socket(), alice.socket()
    other_login = requests.post(
        f"{live}/api/auth/login",
        json={"username": "alice", "password": "correct horse battery"},
        timeout=10,
    ).json()
    other = ChatSocket(live, other_login["accessToken"]).connect()
    try:
        alice.ok("post", "/api/auth/logout", 204)
        assert first.wait_disconnected(2) and second.wait_disconnected(2)
        assert other.connected
    finally:
        other.close()


def test_kicked_user_receives_nothing_more(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room("secret", isPrivate=True)
    alice.ok("post", f"/api/rooms/{room}/members", json={"userId": bob.id})
    watcher, bob_sock = alice.socket(), bob.socket()
    assert watcher.call("send_message", {"roomId": room, "content": "before"})["ok"]
    bob_sock.wait_for("message_received")
    alice.ok("delete", f"/api/rooms/{room}/members/{bob.id}")
    bob_sock.wait_for("user_left", lambda d: d["userId"] == bob.id)
    watcher.call("send_message", {"roomId": room, "content": "after the kick"})
    watcher.call("typing_start", {"roomId": room})
    assert [m["message"]["content"] for m in bob_sock.quiet("message_received")] == ["before"]
    assert bob_sock.events["typing_indicator"] == []
    refused = bob_sock.call("send_message", {"roomId": room, "content": "let me in"})
    assert refused == {"ok": False, "error": {"code": "not_found", "message": "Room not found."}}


def test_joining_over_rest_subscribes_live_sockets(people):
    alice, bob = people("alice", "bob")
    room = alice.create_room()
    bob_sock = bob.socket()  # connected before joining
    bob.ok("post", f"/api/rooms/{room}/join")
    alice.socket().call("send_message", {"roomId": room, "content": "welcome"})
    assert bob_sock.wait_for("message_received")["message"]["content"] == "welcome"


def test_expired_token_cuts_the_socket_off(app, live_settings, people):
    with server({**live_settings, "JWT_ACCESS_TOKEN_EXPIRES": 2}) as (base, _):
        alice = people("alice", base=base)
        sock = alice.socket()
        assert sock.call("join_room", {"roomId": alice.create_room()})["ok"]
        assert sock.wait_disconnected(6), "the socket outlived its token"


def test_foreign_origins_are_refused(live):
    def handshake(origin: str) -> int:
        url = f"{live}/socket.io/?EIO=4&transport=polling"
        return requests.get(url, headers={"Origin": origin}, timeout=5).status_code

    assert handshake("https://evil.example") == 400
    assert handshake("http://localhost:5000") == 200  # in SOCKET_CORS_ORIGIN
    assert handshake(live) == 200  # the app's own origin (its web client)


def test_heartbeat_is_below_herokus_idle_cut(live):
    handshake = requests.get(f"{live}/socket.io/?EIO=4&transport=polling", timeout=5).text
    assert '"pingInterval":25000' in handshake and '"pingTimeout":20000' in handshake


def test_no_version_banner_and_no_traceback(live):
    for path in ("/healthz", "/api/nothing", "/socket.io/?EIO=9&transport=x"):
        response = requests.get(f"{live}{path}", timeout=5)
        server = response.headers.get("Server", "")
        assert not any(ch.isdigit() for ch in server), server
        assert "Traceback" not in response.text


def test_websocket_frames_are_never_compressed(live):
    """Browsers and the Node client offer permessage-deflate; a zlib stream per socket
    would cost ~100 KB of memory and CPU on every frame, so the server declines it."""
    import base64
    import os
    import socket
    from urllib.parse import urlparse

    url = urlparse(live)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, head
            head += chunk
    status, *headers = head.split(b"\r\n\r\n")[0].decode().split("\r\n")
    assert status.startswith("HTTP/1.1 101")
    names = {h.split(":")[0].strip().lower() for h in headers}
    assert "sec-websocket-accept" in names
    assert "sec-websocket-extensions" not in names

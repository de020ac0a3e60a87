"""A real python-socketio client for tests, recording every /chat event it receives."""

import threading
import time
from collections import defaultdict

import requests
import socketio

from tests.conftest import PASSWORD

NS = "/chat"


class ChatSocket:
    def __init__(self, base: str, token: str | None):
        self.base, self.token = base, token
        self.sio = socketio.Client(reconnection=False)
        self.events: dict[str, list] = defaultdict(list)
        self.connect_errors: list = []
        self.lock = threading.Condition()
        self.sio.on("*", self._record, namespace=NS)
        self.sio.on("connect_error", self._refused, namespace=NS)

    def _record(self, event, data=None):
        with self.lock:
            self.events[event].append(data)
            self.lock.notify_all()

    def _refused(self, data=None):
        with self.lock:
            self.connect_errors.append(data)
            self.lock.notify_all()

    def connect(self, how: str = "auth", transports=("websocket",), headers=None) -> "ChatSocket":
        url, auth, headers = self.base, None, dict(headers or {})
        if how == "auth" and self.token:
            auth = {"token": self.token}
        elif how == "query":
            url = f"{self.base}?token={self.token}"
        elif how == "header":
            headers["Authorization"] = f"Bearer {self.token}"
        self.sio.connect(
            url,
            namespaces=[NS],
            auth=auth,
            headers=headers,
            transports=list(transports),
            wait_timeout=5,
        )
        return self

    @property
    def connected(self) -> bool:
        return self.sio.connected and NS in self.sio.namespaces

    def call(self, event: str, payload=None, timeout: float = 10) -> dict:
        return self.sio.call(event, payload, namespace=NS, timeout=timeout)

    def wait_for(self, event: str, match=None, timeout: float = 5.0):
        """The first `event` payload satisfying `match`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for data in self.events[event]:
                    if match is None or match(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {event} matching within {timeout}s: {self.events}")
                self.lock.wait(left)

    def quiet(self, event: str, seconds: float = 0.5) -> list:
        """Wait a little, then return what arrived (for asserting that nothing did)."""
        time.sleep(seconds)
        with self.lock:
            return list(self.events[event])

    def wait_disconnected(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.sio.connected:
                return True
            time.sleep(0.05)
        return False

    def sync_all(self, room: str, pages: int = 100, timeout: float = 10) -> list[dict]:
        """Every message of `room` from the start, page after page of `sync` (as a client
        catching up after a reconnect), each page within `timeout` seconds."""
        got, after = [], None
        for _ in range(pages):
            page = {"roomId": room, **({"after": after} if after else {})}
            ack = self.call("sync", page, timeout=timeout)
            got += ack["messages"]
            if not ack["hasMore"]:
                return got
            after = ack["messages"][-1]["id"]
        raise AssertionError(f"sync of {room} still has more after {pages} pages")

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


class Person:
    """A registered user on a live server: REST calls plus sockets."""

    def __init__(self, base: str, username: str):
        self.base = base
        body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        response = requests.post(f"{base}/api/auth/register", json=body, timeout=10)
        assert response.status_code == 201, response.text
        self.session = response.json()
        self.id = self.session["user"]["id"]
        self.username = username
        self.token = self.session["accessToken"]
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.sockets: list[ChatSocket] = []

    def rest(self, method: str, path: str, base: str | None = None, **kwargs):
        return self.http.request(method, f"{base or self.base}{path}", timeout=10, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs):
        response = self.rest(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def socket(self, base: str | None = None, connect: bool = True, **kwargs) -> ChatSocket:
        sock = ChatSocket(base or self.base, self.token)
        self.sockets.append(sock)
        return sock.connect(**kwargs) if connect else sock

    def create_room(self, name: str = "general", **settings) -> str:
        body = {"name": name, **({"settings": settings} if settings else {})}
        return self.ok("post", "/api/rooms", 201, json=body)["id"]

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.http.close()

"""Shared fixtures: a real SecantusDB (or MONGODB_URI), real Redis, a real app."""

import json
import os
import re
import tempfile
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import mongoengine
import pytest
from pymongo import MongoClient

from chat import create_app
from chat.extensions import mongo_db
from chat.migrate import apply_migrations
from devtools import servers
from tests.processes import RUN_SECRETS, server

PASSWORD = "correct horse battery"
# The image built and run with podman (minutes): `make container-test`, not `make test`.
collect_ignore = [] if os.environ.get("CHAT_CONTAINER_TEST") else ["container"]


@pytest.fixture(scope="session")
def mongo_server():
    """(base URI, database name): MONGODB_URI when set, else a throwaway SecantusDB."""
    name = f"chat_test_{uuid.uuid4().hex[:8]}"
    uri = os.environ.get("MONGODB_URI")
    if uri:
        yield uri, name
        with MongoClient(uri) as client:
            client.drop_database(name)
        return
    with tempfile.TemporaryDirectory(prefix="chat-db-") as storage:
        proc, uri = servers.start_secantus(storage)
        try:
            yield uri, name
        finally:
            servers.stop(proc)


@pytest.fixture(scope="session")
def mongo_uri(mongo_server):
    """The server's URI with the test database as its path (credentials/options kept)."""
    base, name = mongo_server
    parts = urlsplit(base)
    query = parts.query
    if parts.path.strip("/") and "authsource" not in query.lower():
        # the original path named the auth database; keep authenticating there
        query = "&".join(filter(None, [query, f"authSource={parts.path.strip('/')}"]))
    return urlunsplit(parts._replace(path=f"/{name}", query=query))


@pytest.fixture(scope="session")
def redis_url():
    """REDIS_URL when set, else the local Redis on 6379, else one started for the run."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
    elif servers.redis_answers():
        yield "redis://127.0.0.1:6379/13"
    else:
        proc, url = servers.start_redis()
        try:
            yield url
        finally:
            servers.stop(proc)


@pytest.fixture(scope="session")
def plugin_settings(tmp_path_factory):
    """Per-plugin settings for the test run (uploads go to a temporary directory)."""
    return {"file_sharing": {"directory": str(tmp_path_factory.mktemp("uploads"))}}


@pytest.fixture(scope="session")
def base_settings(mongo_uri, redis_url, plugin_settings):
    """The in-process app's settings. Each test process (`make test` runs several, with
    pytest-xdist) has a database of its own (mongo_server) and keys of its own in Redis
    (REDIS_PREFIX), so their limits, presence and caches never meet."""
    return {
        "MONGODB_URI": mongo_uri,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": f"chat-test-{uuid.uuid4().hex[:8]}",
        "LOGIN_LOCK_SECONDS": 1,
        "CHAT_PLUGIN_CONFIG": plugin_settings,
        "SECRET_KEY": RUN_SECRETS["SECRET_KEY"],  # tokens of this app work on live servers
        "JWT_SECRET_KEY": RUN_SECRETS["JWT_SECRET_KEY"],
    }


@pytest.fixture(scope="session")
def app(base_settings):
    app = create_app("testing", **base_settings)
    with app.app_context():
        apply_migrations(mongo_db())
    yield app
    mongoengine.disconnect()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Every test starts with empty collections (indexes and migrations stay)."""
    yield
    if "app" in request.fixturenames:
        clear_database()


def clear_database() -> None:
    """Empty every collection; indexes and the migration record stay."""
    db = mongo_db()
    for name in db.list_collection_names():
        if name != "schema_migrations":
            db[name].delete_many({})


# A room's change log moves to `changes` whenever the upkeep loop of any server on
# the database archives it; a change still shows in the room's `rev`.
_HOUSEKEEPING = {"rooms": {"log": 0, "log_base": 0, "log_since": 0}}


def snapshot(db, *names: str) -> dict:
    """The full contents of some collections, to assert that nothing changed."""
    return {name: list(db[name].find({}, _HOUSEKEEPING.get(name))) for name in names}


@pytest.fixture
def db(app):
    return mongo_db()


class AuthActions:
    """Register and log in users through the real API."""

    def __init__(self, client):
        self.client = client

    def register(self, username="alice", email=None, password=PASSWORD) -> dict:
        body = {"username": username, "email": email or f"{username}@example.com"}
        response = self.client.post("/api/auth/register", json={**body, "password": password})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def headers(self, session_or_token) -> dict:
        token = session_or_token
        if isinstance(session_or_token, dict):
            token = session_or_token["accessToken"]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(client):
    return AuthActions(client)


def callers(app, *names: str) -> list["Caller"]:
    """Register users on another app instance and return them as Callers."""
    client = app.test_client()
    auth = AuthActions(client)
    return [Caller(client, auth.register(name)) for name in names]


def assert_error(response, status: int, code: str) -> dict:
    """The contract's envelope with the given status and code; returns the error object."""
    assert response.status_code == status, (response.status_code, response.get_data(True))
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


class Caller:
    """A logged-in user driving the REST API through the Flask test client."""

    def __init__(self, client, session: dict):
        self.client = client
        self.session = session
        self.id = session["user"]["id"]
        self.username = session["user"]["username"]
        self.headers = {"Authorization": f"Bearer {session['accessToken']}"}

    def call(self, method: str, path: str, **kwargs):
        return getattr(self.client, method)(path, headers=self.headers, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs):
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, (method, path, response.get_data(as_text=True))
        return None if status == 204 else response.get_json()

    def create_room(self, name="general", **settings) -> dict:
        body = {"name": name, "settings": settings} if settings else {"name": name}
        return self.ok("post", "/api/rooms", 201, json=body)

    def send(self, room_id: str, content: str = "hello", **extra) -> dict:
        body = {"roomId": room_id, "content": content, **extra}
        response = self.call("post", "/api/messages", json=body)
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        return response.get_json()

    def history(self, room_id: str, **query) -> dict:
        return self.ok("get", f"/api/messages/{room_id}", query_string=query)


@pytest.fixture
def make_user(client, auth):
    def make(username: str) -> Caller:
        return Caller(client, auth.register(username))

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


# A live server (gunicorn + gevent, the Procfile command) for the socket tests.


@pytest.fixture(scope="session")
def live_settings(base_settings, plugin_settings):
    run = uuid.uuid4().hex[:8]
    return {
        "CHAT_PLUGIN_CONFIG": json.dumps(plugin_settings),
        "MONGODB_URI": base_settings["MONGODB_URI"],
        "REDIS_URL": base_settings["REDIS_URL"],
        "SOCKETIO_CHANNEL": f"chat-test-{run}",
        "SOCKET_CORS_ORIGIN": "http://localhost:5000",  # the allowlist the origin test reads
        "REDIS_PREFIX": f"chat-test-{run}",
        "TYPING_TIMEOUT": 2,
        "PRESENCE_PROCESS_TTL": 4,
        # every server of the run may reach the receivers tests start on this machine,
        # and retries quickly: it claims the deliveries in-process tests make too (one
        # database), and a retry it scheduled must not outlast their wait
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "WEBHOOK_RETRY_SECONDS": "0.05",
    }


@pytest.fixture
def own_database(mongo_server, mongo_uri):
    """A URI of a database of its own (dropped afterwards), for servers whose background
    work (webhook deliveries) must not meet the shared servers' (they claim from the
    same collections). Migrate it with tests.processes.release, as shipped."""
    base, _name = mongo_server
    name = f"chat_own_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(mongo_uri)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with MongoClient(base) as client:
        client.drop_database(name)


@pytest.fixture(scope="session")
def live(app, live_settings):
    """Base URL of a server process shared by the socket tests."""
    with server(live_settings) as (base, _):
        yield base


@pytest.fixture
def people(live):
    """people('alice', 'bob') -> registered Persons; their sockets close after the test."""
    from tests.sockets.client import Person  # it imports this module

    made: list[Person] = []

    def make(*names: str, base: str | None = None):
        new = [Person(base or live, name) for name in names]
        made.extend(new)
        return new if len(new) > 1 else new[0]

    yield make
    for person in made:
        person.close()


def eventually(predicate, timeout: float = 5.0):
    """The predicate's first truthy value within `timeout` seconds (else its last)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


class Inbox:
    """What a real SMTP server (aiosmtpd) received: its envelopes."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    """(port, Inbox) of an SMTP server on 127.0.0.1, stopped after the test."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=servers.free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


def verify_email(client, headers: dict, inbox) -> None:
    """Prove the caller's address the real way: the emailed token comes back."""
    assert client.post("/api/auth/verify-email", headers=headers).status_code == 202
    assert eventually(lambda: inbox.messages)
    text = inbox.messages.pop().content.decode()
    token = re.search(r"Your token: (\S+)", text).group(1)
    answer = client.post("/api/auth/verify-email/confirm", json={"token": token})
    assert answer.status_code == 200 and answer.get_json()["emailVerified"] is True


def plugin_enabled(name: str) -> bool:
    """Whether the environment (e.g. `make test`'s plugins-off pass) loads plugin `name`."""
    from chat.settings import load_config

    settings = load_config("testing")
    enabled = settings["CHAT_PLUGINS"]
    return name not in settings["CHAT_PLUGINS_BLOCKED"] and (enabled is None or name in enabled)

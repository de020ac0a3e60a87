"""Shared fixtures: a real SecantusDB (or MONGODB_URI), real Redis, a real app."""

import os
import tempfile
import uuid

import mongoengine
import pytest
from pymongo import MongoClient

from chat import create_app
from chat.extensions import mongo_db
from chat.migrate import apply_migrations
from devtools import servers

PASSWORD = "correct horse battery"


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
    base, name = mongo_server
    head, _, query = base.partition("?")
    return f"{head.rstrip('/')}/{name}" + (f"?{query}" if query else "")


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
def base_settings(mongo_uri, redis_url):
    return {"MONGODB_URI": mongo_uri, "REDIS_URL": redis_url, "LOGIN_LOCK_SECONDS": 1}


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
    if "app" not in request.fixturenames:
        return
    db = mongo_db()
    for name in db.list_collection_names():
        if name != "schema_migrations":
            db[name].delete_many({})


@pytest.fixture
def db(app):
    with app.app_context():
        yield mongo_db()


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


def assert_error(response, status: int, code: str) -> dict:
    """The contract's envelope with the given status and code; returns the error object."""
    assert response.status_code == status, (response.status_code, response.get_data(True))
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]

"""A live server (gunicorn + gevent, the Procfile command) for the socket tests."""

import uuid

import pytest

from tests.processes import server
from tests.sockets.client import Person


@pytest.fixture(scope="session")
def live_settings(base_settings):
    run = uuid.uuid4().hex[:8]
    return {
        "MONGODB_URI": base_settings["MONGODB_URI"],
        "REDIS_URL": base_settings["REDIS_URL"],
        "SOCKETIO_CHANNEL": f"chat-test-{run}",
        "REDIS_PREFIX": f"chat-test-{run}",
        "TYPING_TIMEOUT": 2,
        "PRESENCE_PROCESS_TTL": 4,
    }


@pytest.fixture(scope="session")
def live(app, live_settings):
    """Base URL of a server process shared by the socket tests."""
    with server(live_settings) as (base, _):
        yield base


@pytest.fixture
def people(live):
    """people('alice', 'bob') -> registered Persons; their sockets close after the test."""
    made: list[Person] = []

    def make(*names: str, base: str | None = None):
        new = [Person(base or live, name) for name in names]
        made.extend(new)
        return new if len(new) > 1 else new[0]

    yield make
    for person in made:
        person.close()

"""The per-process socket states the upkeep loop reads instead of walking every socket
each second, and the registry of who is connected (in memory, or shared in Redis)."""

import uuid
from types import SimpleNamespace

import pytest

from chat.live.registry import MemoryRegistry, RedisRegistry
from chat.live.sockets import Sockets, SocketState


def _state(sid: str, expires: float) -> SocketState:
    return SocketState(sid=sid, actor=SimpleNamespace(id=sid), expires=expires)


def test_expired_sockets_are_found_once_and_only_while_connected():
    sockets = Sockets()
    for sid, expires in (("early", 10), ("gone", 11), ("late", 100), ("renewed", 12)):
        sockets.add(_state(sid, expires))
    del sockets["gone"]  # disconnected before its token expired
    sockets.add(_state("renewed", 200))  # the same sid again, with a later expiry

    assert sockets.expired(9) == []
    assert [s.sid for s in sockets.expired(50)] == ["early"]
    assert sockets.expired(50) == []  # already reported
    assert [s.sid for s in sockets.expired(150)] == ["late"]
    assert [s.sid for s in sockets.expired(250)] == ["renewed"]


def test_expiries_of_sockets_long_gone_do_not_pile_up():
    sockets = Sockets()
    for i in range(5000):  # a reconnect churn: each socket leaves well before expiring
        sockets.add(_state(f"s{i}", 10_000 + i))
        del sockets[f"s{i}"]
    sockets.add(_state("live", 20_000))

    assert len(sockets.expiries) <= 1002
    assert [s.sid for s in sockets.expired(30_000)] == ["live"]


@pytest.fixture(params=["memory", "redis"])
def presence_registry(request, app):
    """Both registries: one process without Redis, every process with it."""
    if request.param == "memory":
        return MemoryRegistry()
    prefix = f"registry-test-{uuid.uuid4().hex[:8]}"
    return RedisRegistry(app.extensions["redis"], prefix, process_ttl=30)


def test_both_registries_track_users_and_sessions_alike(presence_registry):
    """Who is online, by user and by login session: a user stays online while any of
    their sockets is, and a socket removed twice counts once."""
    reg = presence_registry
    assert reg.add("s1", "alice", "phone") == 1
    assert reg.add("s2", "alice", "laptop") == 2
    assert reg.add("s3", "bob", "desk") == 1
    assert reg.user_sockets("alice") == {"s1", "s2"}
    assert reg.session_sockets("phone") == {"s1"}
    assert reg.counts(["alice", "bob", "carol"]) == [2, 1, 0]
    assert reg.remove("s1") == ("alice", 1)
    assert reg.session_sockets("phone") == set()
    assert reg.remove("s2") == ("alice", 0)
    assert reg.remove("s2")[1] == 0  # already gone
    assert reg.user_sockets("alice") == set() and reg.counts(["alice"]) == [0]
    assert reg.remove("never-seen") == (None, 0)
    assert reg.user_sockets("bob") == {"s3"}
    reg.remove("s3")

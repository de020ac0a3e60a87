"""The per-process socket registry the upkeep loop reads instead of walking every
socket each second."""

from types import SimpleNamespace

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

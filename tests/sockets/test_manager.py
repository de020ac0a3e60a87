"""The per-socket room index agrees with python-socketio's own room table."""

import random

import socketio
from socketio.base_manager import BaseManager

from chat.sockets.manager import Manager

NS = "/chat"


def _scanned(manager, sid) -> set:
    """Upstream's answer: every room of the namespace scanned for the sid."""
    return set(BaseManager.get_rooms(manager, sid, NS))


def test_index_matches_the_room_table_through_random_traffic():
    rng = random.Random(3)
    manager = Manager()
    socketio.Server(client_manager=manager)
    live: list[str] = []
    for step in range(3000):
        action = rng.random()
        if action < 0.25 or not live:
            sid = manager.pre_connect(f"eio{step}", NS)
            manager.connect(sid, NS)
            live.append(sid)
        elif action < 0.6:
            manager.basic_enter_room(rng.choice(live), NS, f"room:{rng.randrange(20)}")
        elif action < 0.8:
            manager.basic_leave_room(rng.choice(live), NS, f"room:{rng.randrange(20)}")
        elif action < 0.85:
            manager.basic_close_room(f"room:{rng.randrange(20)}", NS)
        else:
            sid = live.pop(rng.randrange(len(live)))
            manager.pre_disconnect(sid, NS)
            manager.basic_disconnect(sid, NS)
            assert manager.eio_sid_from_sid(sid, NS) is None
            assert (NS, sid) not in manager.sid_rooms
        for sid in rng.sample(live, min(5, len(live))):
            assert set(manager.get_rooms(sid, NS)) == _scanned(manager, sid)
    for sid in list(live):
        manager.basic_disconnect(sid, NS)
    assert manager.sid_rooms == {} and manager.rooms.get(NS, {}) == {}

"""python-socketio's client managers with a per-socket room index.

Upstream finds the rooms of a leaving socket by scanning every room of the namespace:
O(rooms) per disconnect, so 10,000 sockets closing together (a network blip, a
deploy, a load test ending) cost 10,000 x ~11,000 checks and froze the process for
~35 s, during which reconnects and /healthz hung. With the index a disconnect costs
what the socket's own rooms cost.
"""

import logging
import time

import socketio

log = logging.getLogger(__name__)
RESUBSCRIBE_MAX = 2.0  # seconds between attempts to resubscribe to the message queue


class RoomIndex:
    """Keeps (namespace, sid) -> rooms beside upstream's room -> sids."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sid_rooms: dict[tuple, set] = {}

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self.sid_rooms.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        rooms = self.sid_rooms.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self.sid_rooms[(namespace, sid)]

    def basic_disconnect(self, sid, namespace, **kwargs):
        """Upstream's basic_disconnect, leaving only the rooms the socket is in."""
        if namespace not in self.rooms:
            return
        for room in list(self.sid_rooms.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if sid in pending.get(namespace, ()):
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]

    def get_rooms(self, sid, namespace):
        return [r for r in self.sid_rooms.get((namespace, sid), ()) if r is not None]


class Manager(RoomIndex, socketio.Manager):
    """One process: rooms in memory."""


class RedisManager(RoomIndex, socketio.RedisManager):
    """python-socketio's Redis queue, resubscribing at most RESUBSCRIBE_MAX seconds
    after Redis is back: upstream doubles its wait up to 60 s, so a 5 s outage could
    leave live delivery between processes off for 8-16 s more."""

    def _redis_listen_with_retries(self):
        wait = 0.25
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                wait = 0.25
                yield from self.pubsub.listen()
            except Exception as exc:
                log.warning("message queue unreachable, retrying in %.2f s: %s", wait, exc)
                time.sleep(wait)
                wait = min(wait * 2, RESUBSCRIBE_MAX)

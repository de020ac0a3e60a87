"""Rooms for the send path, kept fresh by invalidations from every process.

Every send and typing event needs its room (membership, type, settings, members for
mentions); reading it from the database was a seventh of a send's CPU, and building
its Room from the document another twentieth. Here a room is read and built once, and
the one (read-only) Room is served from memory until something changes it:

- every room write in the services calls `changed(room_id)`: the room is dropped here
  at once and, through Redis pub/sub (`{REDIS_PREFIX}:rooms-changed`), on every other
  process within milliseconds;
- an entry lives at most ROOM_CACHE_SECONDS (a writer outside the services, the CLI on
  another machine, is seen by then); 0 switches the cache off;
- a user's rooms (what search reads) are kept under the same rules, and every room
  change forgets them all: a kick is never missed, whatever room it is in;
- only a member's own view is served from memory: a cached room that does not list
  the sender is read again before the send is refused (a join on another process is
  never refused for a stale copy);
- a read that overlapped an invalidation is not kept (it may predate the write);
- while the feed of invalidations is down (Redis unreachable, or silent for
  SILENT_AFTER seconds), and until the upkeep loop has subscribed to it, nothing is
  cached: every room is read from the database as before. Without REDIS_URL the
  process is alone, and its own writes suffice.
"""

import logging
import threading
import time
from typing import TYPE_CHECKING

from bson import ObjectId
from flask import Flask, current_app

if TYPE_CHECKING:
    from chat.models import Room

log = logging.getLogger(__name__)
MAX_ROOMS = 20_000
MAX_MEMBERS = 2_000  # users whose room lists are kept (search)
RETRY_EVERY = 1.0  # seconds between attempts to resubscribe after a Redis failure
PING_EVERY = 1.0  # the feed is pinged this often...
SILENT_AFTER = 3.0  # ...and taken for lost (cache off) after this long without an answer


class RoomCache:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.rooms: dict[ObjectId, tuple[float, Room]] = {}
        self.memberships: dict[ObjectId, tuple[float, list[dict]]] = {}  # by user
        self.generation = 0  # counts invalidations: a read that spans one is not kept
        self.live = False  # the invalidation feed is up (or not needed)
        self.lock = threading.Lock()

    def get(self, room_id: ObjectId) -> "Room | None":
        entry = self.rooms.get(room_id) if self.live else None
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, room_id: ObjectId, room: "Room", generation: int) -> None:
        """Keep `room`, read when `generation` was current, unless that has passed.
        The one object is handed to every send until it is dropped: read-only."""
        with self.lock:
            if not self.live or self.seconds <= 0 or generation != self.generation:
                return
            if len(self.rooms) >= MAX_ROOMS:
                self.rooms.clear()
            self.rooms[room_id] = (time.monotonic() + self.seconds, room)

    def member_rooms(self, user_id: ObjectId) -> list[dict] | None:
        """The rooms a user was in, as kept by `put_member_rooms`."""
        entry = self.memberships.get(user_id) if self.live else None
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put_member_rooms(self, user_id: ObjectId, docs: list[dict], generation: int) -> None:
        """Keep a user's rooms, read when `generation` was current: any room's change
        (a join, a leave, a kick anywhere) forgets every user's."""
        with self.lock:
            if not self.live or self.seconds <= 0 or generation != self.generation:
                return
            if len(self.memberships) >= MAX_MEMBERS:
                self.memberships.clear()
            self.memberships[user_id] = (time.monotonic() + self.seconds, docs)

    def drop(self, room_id: ObjectId | None = None) -> None:
        """Forget one room (None: all of them), and every user's rooms."""
        with self.lock:
            self.generation += 1
            self.memberships.clear()
            if room_id is None:
                self.rooms.clear()
            else:
                self.rooms.pop(room_id, None)

    def set_live(self, live: bool) -> None:
        with self.lock:
            self.live = live
            self.generation += 1
            self.rooms.clear()
            self.memberships.clear()


def init_app(app: Flask) -> None:
    app.extensions["room_cache"] = RoomCache(app.config["ROOM_CACHE_SECONDS"])


def cache() -> RoomCache:
    return current_app.extensions["room_cache"]


def _channel(app: Flask) -> str:
    return f"{app.config['REDIS_PREFIX']}:rooms-changed"


def changed(room_id: ObjectId) -> None:
    """A room was written: drop it here and on every other process."""
    cache().drop(room_id)
    client = current_app.extensions.get("redis")
    if client is None:
        return
    try:
        client.publish(_channel(current_app), str(room_id))
    except Exception:  # the others' feed is down too: they read the database meanwhile
        log.warning("could not announce a room change", extra={"event": "room_cache"})


def follow(app: Flask) -> None:
    """Keep the cache in step with every process's writes (the upkeep loop runs this
    in the background for as long as the process lives)."""
    room_cache = app.extensions["room_cache"]
    client = app.extensions.get("redis")
    if client is None:
        room_cache.set_live(True)
        return
    while True:
        try:
            _listen(client, _channel(app), room_cache)
        except Exception:
            log.warning("room change feed lost; rooms are read from the database meanwhile")
        room_cache.set_live(False)
        time.sleep(RETRY_EVERY)


def _listen(client, channel: str, room_cache: RoomCache) -> None:
    pubsub = client.pubsub()
    try:
        pubsub.subscribe(channel)
        deadline = time.monotonic() + 5
        while (pubsub.get_message(timeout=0.5) or {}).get("type") != "subscribe":
            if time.monotonic() > deadline:
                raise TimeoutError("no subscription confirmed")
        room_cache.set_live(True)  # subscribed: from here on no change is missed
        pinged = answered = time.monotonic()
        while True:
            now = time.monotonic()
            if now - answered > SILENT_AFTER:  # a connection that died without a word
                raise TimeoutError("the room change feed went silent")
            if now - pinged >= PING_EVERY:
                pubsub.ping()
                pinged = now
            message = pubsub.get_message(timeout=0.5)
            if message is None:
                continue
            answered = time.monotonic()
            if message["type"] == "message":
                raw = message["data"].decode()
                room_cache.drop(ObjectId(raw) if ObjectId.is_valid(raw) else None)
    finally:
        pubsub.close()

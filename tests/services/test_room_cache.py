"""The send path's room cache (live.roomcache): what it may keep and for how long."""

import time

from bson import ObjectId

from chat.actor import Actor
from chat.live.roomcache import RoomCache
from chat.services import rooms


def test_nothing_is_kept_until_the_invalidation_feed_is_up():
    cache, room = RoomCache(10), ObjectId()
    cache.put(room, {"_id": room}, cache.generation)
    assert cache.get(room) is None
    cache.set_live(True)
    cache.put(room, {"_id": room}, cache.generation)
    assert cache.get(room) == {"_id": room}
    cache.set_live(False)  # the feed is lost: whatever was kept may be stale now
    assert cache.get(room) is None


def test_a_read_that_overlapped_an_invalidation_is_not_kept():
    cache, room = RoomCache(10), ObjectId()
    cache.set_live(True)
    before = cache.generation  # a read starts
    cache.drop(room)  # another process writes the room meanwhile
    cache.put(room, {"_id": room, "stale": True}, before)
    assert cache.get(room) is None


def test_entries_expire_and_a_change_drops_them():
    cache, room, other = RoomCache(0.2), ObjectId(), ObjectId()
    cache.set_live(True)
    for r in (room, other):
        cache.put(r, {"_id": r}, cache.generation)
    cache.drop(room)
    assert cache.get(room) is None and cache.get(other) == {"_id": other}
    time.sleep(0.25)
    assert cache.get(other) is None
    off = RoomCache(0)
    off.set_live(True)
    off.put(room, {"_id": room}, off.generation)
    assert off.get(room) is None  # ROOM_CACHE_SECONDS=0: no cache


def test_a_stale_copy_never_refuses_a_new_member_and_writes_drop_it(app, alice, bob):
    room_id = alice.create_room("cached")["id"]
    oid = ObjectId(room_id)
    cache = app.extensions["room_cache"]
    cache.set_live(True)
    try:
        actor = Actor.session(rooms.User.objects.get(id=alice.id), "test")
        rooms.get_member_room(actor, room_id, "post_message", cached=True)
        stale = cache.get(oid)
        assert stale is not None  # alice's next sends skip the read
        bob.ok("post", f"/api/rooms/{room_id}/join")
        assert cache.get(oid) is None  # the join dropped it
        cache.put(oid, stale, cache.generation)  # as if the drop had not arrived yet
        newcomer = Actor.session(rooms.User.objects.get(id=bob.id), "test")
        assert rooms.get_member_room(newcomer, room_id, "post_message", cached=True).id == oid
        assert newcomer.id in cache.get(oid)["participants"]  # read again, kept fresh
    finally:
        cache.set_live(False)


def test_a_users_rooms_are_forgotten_on_any_room_change():
    cache, user, room = RoomCache(10), ObjectId(), ObjectId()
    rooms_of = [{"_id": room}]
    cache.put_member_rooms(user, rooms_of, cache.generation)
    assert cache.member_rooms(user) is None  # not while the feed is down
    cache.set_live(True)
    before = cache.generation
    cache.drop(ObjectId())  # some other room changed while the user's rooms were read
    cache.put_member_rooms(user, rooms_of, before)
    assert cache.member_rooms(user) is None
    cache.put_member_rooms(user, rooms_of, cache.generation)
    assert cache.member_rooms(user) == rooms_of
    cache.drop(ObjectId())  # a kick in any room: every user's rooms are read again
    assert cache.member_rooms(user) is None

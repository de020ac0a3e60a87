"""Rooms: visibility, membership, roles, direct rooms, read pointers and receipts."""

from contextlib import nullcontext

from bson import ObjectId

from chat import wire
from chat.actor import Actor
from chat.errors import Conflict, Forbidden, NotFound, ValidationError
from chat.events import (
    MemberJoined,
    MemberLeft,
    MemberUnbanned,
    ReadMarked,
    ReadUpdated,
    RoleChanged,
    RoomCreated,
    RoomUpdated,
)
from chat.live import roomcache
from chat.live.publish import publish, publish_at_most
from chat.models import Message, ReadState, Room, User
from chat.models.base import isoformat, utcnow
from chat.models.room import RoomSettings
from chat.services import audit, policy, presence, principals, threads
from chat.store import changelog
from chat.store.combine import KeyedReads
from chat.store.documents import atomic_update, to_oid

Person = User | Actor  # what has an `id`


def is_member(user: Person, room: Room) -> bool:
    return user.id in room.participants


def is_admin(user: Person, room: Room) -> bool:
    return user.id in room.admins


def is_owner(user: Person, room: Room) -> bool:
    return user.id in room.owners


# Concurrent room reads (every send reads its room) share one query; the change log
# (store/changelog) is the sync's, not theirs.
_room_reads = KeyedReads(lambda: Room._get_collection(), {"log": 0})


def get_room(actor: Actor, room_id: str | ObjectId, cached: bool = False) -> Room:
    """A room the actor may see: public rooms, and rooms they belong to (what they may
    do in it is the policy's to decide: `get_member_room`, `policy.authorize`).

    Args:
        cached: the hot path (sends, typing) may take a member's view from memory
            (live.roomcache); anything else reads the database.
    Raises:
        NotFound: no such room, or a private/direct room the actor is not in.
    """
    oid = to_oid(room_id, "Room")
    policy.require_room(actor, oid)
    room = roomcache.cache().get(oid) if cached else None
    if room is None or actor.id not in room.participants:
        generation = roomcache.cache().generation
        doc = _room_reads.get(oid)
        room = Room._from_son(doc) if doc else None
        if cached and room is not None:
            roomcache.cache().put(oid, room, generation)
    if room is None or (room.type != "public" and not is_member(actor, room)):
        raise NotFound("Room not found.")
    return room


MEMBER_ROOM_FIELDS = {"_id": 1, "last_seq": 1, "last_activity": 1, "created_at": 1}


def member_rooms(actor: Actor) -> list[dict]:
    """The rooms the actor is in now and may use (a token may be limited to some), as
    {_id, last_seq, last_activity, created_at}; kept in memory like the send path's
    rooms (live.roomcache), so that searching 1,000 rooms does not read 1,000 rooms.
    Counts and times may be stale, membership never (any room change forgets it)."""
    room_cache = roomcache.cache()
    docs = room_cache.member_rooms(actor.id)
    if docs is None:
        generation = room_cache.generation
        found = Room._get_collection().find({"participants": actor.id}, MEMBER_ROOM_FIELDS)
        docs = list(found)
        room_cache.put_member_rooms(actor.id, docs, generation)
    rooms = actor.credential.rooms
    if rooms is None:
        return list(docs)  # (the kept list stays as read)
    return [r for r in docs if r["_id"] in rooms]


def _write(query: dict, update: dict, kind: str, ref: ObjectId | str = "") -> Room | None:
    """An atomic update of one room, recorded as the change `kind` in the same write
    (None when `query` matched nothing: nothing is recorded); every process drops its
    cached copy."""
    updated = atomic_update(Room, query, changelog.room_change(update, kind, ref), {"log": 0})
    if updated is not None:
        roomcache.changed(updated.id)
    return updated


def get_member_room(
    actor: Actor, room_id: str | ObjectId, action: str, cached: bool = False
) -> Room:
    """The room, when the policy lets the actor do `action` in it (404 when it is
    hidden from them, 403 otherwise: see services/policy)."""
    room = get_room(actor, room_id, cached)
    policy.authorize(actor, action, room=room)
    return room


def list_rooms(actor: Actor, limit: int, cursor: str | None) -> tuple[list[Room], str | None]:
    """Public rooms plus the actor's rooms, by id, `limit` per page.

    Returns:
        (rooms, next cursor or None).
    """
    query: dict = {"$or": [{"type": "public"}, {"participants": actor.id}]}
    policy.authorize(actor, "list_rooms")
    if actor.credential.rooms is not None:
        query = {"$and": [query, {"_id": {"$in": sorted(actor.credential.rooms)}}]}
    if cursor:
        query = {"$and": [query, {"_id": {"$gt": to_oid(cursor)}}]}
    rooms = list(Room.objects(__raw__=query).order_by("id").limit(limit + 1))
    more = len(rooms) > limit
    rooms = rooms[:limit]
    return rooms, (str(rooms[-1].id) if more else None)


def _settings(data: dict | None, current: RoomSettings | None = None) -> RoomSettings:
    settings = RoomSettings(**(current.to_mongo().to_dict() if current else {}))
    for key, value in (data or {}).items():
        setattr(settings, key, value)
    return settings


def create_room(
    actor: Actor, name: str, description: str = "", settings: dict | None = None
) -> Room:
    """Create a public or private room; the creator is owner, admin and participant."""
    policy.authorize(actor, "create_room")
    room_settings = _settings(settings)
    room = Room(
        name=name,
        description=description,
        type="private" if room_settings.is_private else "public",
        participants=[actor.id],
        admins=[actor.id],
        owners=[actor.id],
        settings=room_settings,
        created_by=actor.id,
    )
    room.save(force_insert=True)
    roomcache.changed(room.id)  # its creator's room list (search) has one more
    publish(RoomCreated(str(room.id), user_id=str(actor.id), room=wire.room(room)))
    return room


def update_room(actor: Actor, room_id: str, data: dict) -> Room:
    """Change name, description or settings (admins; not for direct rooms)."""
    room = get_member_room(actor, room_id, "update_room")
    _no_direct(room)
    fields = {key: data[key] for key in ("name", "description") if key in data}
    if "settings" in data:
        settings = _settings(data["settings"], room.settings)
        fields["settings"] = settings.to_mongo().to_dict()
        fields["type"] = "private" if settings.is_private else "public"
    updated = _write({"_id": room.id}, {"$set": fields}, "room_updated") if fields else room
    if updated is None:
        raise NotFound("Room not found.")
    publish(RoomUpdated(room_id=str(updated.id), room=wire.room(updated)))
    if fields:
        changed = sorted({*fields, *(data.get("settings") or {})} - {"settings", "type"})
        audit.record(actor, "room.update", room.id, room=room.id, fields=changed)
    return updated


def _add_participant(room: Room, user_id: ObjectId) -> Room:
    """Atomically add a participant unless banned or full (maxParticipants)."""
    limit = room.settings.max_participants
    query = {
        "_id": room.id,
        "banned": {"$ne": user_id},
        f"participants.{limit - 1}": {"$exists": False},
    }
    updated = _write(query, {"$addToSet": {"participants": user_id}}, "member_joined", user_id)
    if updated is None:
        fresh = Room.objects(id=room.id).first()
        if fresh is None:
            raise NotFound("Room not found.")
        if user_id in fresh.banned:
            raise Forbidden("You are banned from this room.")
        raise Conflict("The room is full.")
    return updated


def _joined(room: Room, user: User) -> Room:
    user_id = str(user.id)
    try:
        online = bool(presence.online_ids([user_id]))
    except Exception:  # presence store down: the event still goes out
        online = False
    publish(
        MemberJoined(room_id=str(room.id), user_id=user_id, username=user.username, online=online)
    )
    return room


def join_room(actor: Actor, room_id: str) -> Room:
    """Join a public room (idempotent). Private rooms need an invite: 404 for outsiders."""
    room = get_member_room(actor, room_id, "join_room")
    if is_member(actor, room):
        return room
    if room.type != "public":
        raise Forbidden("This room needs an invite.")
    return _joined(_add_participant(room, actor.id), actor.user)


def _find_user(user_id: str) -> User:
    user = User.objects(id=to_oid(user_id, "User")).first()
    if user is None:
        raise NotFound("User not found.")
    return user


def invite_member(actor: Actor, room_id: str, user_id: str) -> Room:
    """An admin adds a user (idempotent), unless that user blocked them. Banned users
    must be unbanned first."""
    room = get_room(actor, room_id)
    user = _find_user(user_id)
    policy.authorize(actor, "invite_member", room=room, target=user)
    _no_direct(room)
    if is_member(user, room):
        return room
    return add_member(room, user)


def add_member(room: Room, user: User) -> Room:
    """Add a user the caller was allowed to add (an invite, a webhook's own bot)."""
    if user.id in room.banned:
        raise Conflict("That user is banned; unban them first.")
    return _joined(_add_participant(room, user.id), user)


def _no_direct(room: Room) -> None:
    if room.type == "direct":
        raise Conflict("Direct rooms have exactly their two members.")


def _drop(room: Room, user_id: ObjectId, reason: str, guard: dict | None = None, **extra) -> Room:
    """Atomically remove a user from every role; `guard` adds conditions to the filter."""
    pull = {"participants": user_id, "admins": user_id, "owners": user_id}
    query = {"_id": room.id, **(guard or {})}
    updated = _write(query, {"$pull": pull, **extra}, "member_left", user_id)
    if updated is None:
        raise Conflict("You are the last owner: make someone else owner first.")
    publish(MemberLeft(room_id=str(room.id), user_id=str(user_id), reason=reason))
    if user_id in room.admins:  # what they made as its admin ends with their power
        principals.end_room_powers(room.id, user_id, reason)
    return updated


def leave_room(actor: Actor, room_id: str) -> None:
    """Leave a room. The last owner must hand over ownership while others remain."""
    room = get_member_room(actor, room_id, "leave_room")
    _no_direct(room)
    guard = None
    if is_owner(actor, room):
        # Checked in the filter, so a concurrent hand-over or departure cannot race it.
        others_own = {"owners": {"$elemMatch": {"$ne": actor.id}}}
        guard = {"$or": [others_own, {"participants": [actor.id]}]}
    _drop(room, actor.id, "left", guard)


def _require_can_moderate(actor: Actor, room: Room, target: ObjectId, action: str) -> None:
    policy.authorize(actor, action, room=room)
    _no_direct(room)
    if target == actor.id:
        raise Conflict("Use leave to remove yourself.")
    if target in room.owners:
        raise Forbidden("Owners cannot be removed.")
    if target in room.admins and not is_owner(actor, room):
        raise Forbidden("Only owners can remove admins.")


def remove_member(actor: Actor, room_id: str, user_id: str) -> Room:
    """Kick a member (admins; admins only by owners; never an owner)."""
    room = get_room(actor, room_id)
    target = to_oid(user_id, "User")
    _require_can_moderate(actor, room, target, "kick_member")
    if target not in room.participants:
        raise NotFound("That user is not in this room.")
    dropped = _drop(room, target, "kicked")
    audit.record(actor, "member.kick", target, room=room.id)
    return dropped


def ban_member(actor: Actor, room_id: str, user_id: str) -> Room:
    """Remove a user and stop them from joining or being invited again."""
    room = get_room(actor, room_id)
    target = _find_user(user_id).id
    _require_can_moderate(actor, room, target, "ban_member")
    dropped = _drop(room, target, "banned", **{"$addToSet": {"banned": target}})
    audit.record(actor, "member.ban", target, room=room.id)
    return dropped


def unban_member(actor: Actor, room_id: str, user_id: str) -> Room:
    room = get_room(actor, room_id)
    policy.authorize(actor, "unban_member", room=room)
    target = to_oid(user_id, "User")
    query = {"_id": room.id, "banned": target}
    updated = _write(query, {"$pull": {"banned": target}}, "room_updated", target)
    if updated is None:
        return get_room(actor, room.id)
    publish(MemberUnbanned(str(room.id), user_id=user_id, by=str(actor.id)))
    audit.record(actor, "member.unban", target, room=room.id)
    return updated


def set_role(actor: Actor, room_id: str, user_id: str, role: str, granted: bool) -> Room:
    """Owners promote/demote admins and grant/hand over ownership.

    Owners are always admins. The last owner cannot step down or be demoted; the
    creator's ownership is theirs to give up, not another owner's to take.
    """
    room = get_room(actor, room_id)
    policy.authorize(actor, f"set_{role}", room=room)
    _no_direct(room)
    target = to_oid(user_id, "User")
    if target not in room.participants:
        raise NotFound("That user is not in this room.")
    if granted:
        fields = ["admins", "owners"] if role == "owner" else ["admins"]
        update = {"$addToSet": {f: target for f in fields}}
        updated = _write({"_id": room.id, "participants": target}, update, "role_changed", target)
        return _role_changed(actor, room, updated, target, role, True)
    if role == "admin" and target in room.owners:
        raise Conflict("Owners are admins; remove ownership first.")
    if role == "owner" and target == room.created_by and target != actor.id:
        # A co-owner could otherwise demote the creator, then kick or ban them.
        raise Forbidden("The room's creator stays owner unless they step down themselves.")
    fields = ["owners"] if role == "owner" else ["admins"]
    # The filter keeps at least one other owner when an owner is removed.
    query = {"_id": room.id}
    if role == "owner":
        query["owners"] = {"$elemMatch": {"$ne": target}}
    updated = _write(query, {"$pull": {f: target for f in fields}}, "role_changed", target)
    if updated is None:
        raise Conflict("A room needs at least one owner.")
    return _role_changed(actor, room, updated, target, role, False)


def _role_changed(
    actor: Actor, before: Room, after: Room | None, target: ObjectId, role: str, granted: bool
) -> Room:
    """Announce a role that really changed (a repeated grant changes nothing)."""
    if after is None:  # the target left while this was decided
        raise NotFound("That user is not in this room.")
    field = "owners" if role == "owner" else "admins"
    if (target in getattr(before, field)) != (target in getattr(after, field)):
        event = RoleChanged(
            str(after.id), user_id=str(target), role=role, granted=granted, by=str(actor.id)
        )
        publish(event)
        action = f"role.{'grant' if granted else 'revoke'}"
        audit.record(actor, action, target, room=after.id, role=role)
    if not granted and target in before.admins and target not in after.admins:
        principals.end_room_powers(after.id, target, "demoted")
    return after


def open_direct_room(actor: Actor, user_id: str) -> Room:
    """The one direct room for this pair of users, created on first use."""
    other = _find_user(user_id)
    policy.authorize(actor, "open_direct", target=other)
    if other.id == actor.id:
        raise ValidationError("Pick someone else.", fields={"userId": ["That is you."]})
    pair = sorted([actor.id, other.id], key=str)
    key = f"{pair[0]}:{pair[1]}"
    names = sorted([actor.username, other.username], key=str.lower)
    now = utcnow()
    opened = Room._get_collection().update_one(
        {"direct_key": key},
        {
            "$setOnInsert": {
                "name": f"{names[0]} & {names[1]}",
                "description": "",
                "type": "direct",
                "participants": pair,
                "admins": [],
                "owners": [],
                "banned": [],
                "settings": {
                    "is_private": True,
                    "max_participants": 2,
                    "allow_file_sharing": True,
                    "members_can_pin": True,  # two people: either may pin
                },
                "created_by": actor.id,
                "created_at": now,
                "last_activity": now,
                "rev": 0,
                "log_base": 1,
                "log": [],
            }
        },
        upsert=True,
    )
    room = Room.objects.get(direct_key=key)
    if opened.upserted_id is not None:
        roomcache.changed(room.id)
        created = RoomCreated(str(room.id), user_id=str(actor.id), room=wire.room(room))
        publish(created)
    return room


def mark_read(actor: Actor, room_id: str, message_id: str) -> int:
    """Move the actor's read pointer forward to `message_id` (never backward). For a
    reply shown in its thread only, the pointer is the actor's in that thread.

    Returns:
        the actor's unread count afterwards (in the room, or in the thread).
    """
    room = get_member_room(actor, room_id, "mark_read")
    message = (
        Message.objects(id=to_oid(message_id, "Message"), room=room.id)
        .only("seq", "room", "parent_id", "thread_only")
        .first()
    )
    if message is None:
        raise NotFound("Message not found in this room.")
    if message.thread_only:
        return threads.mark_read(actor, message)
    now = utcnow()
    # a receipt others may see takes the room's next rev (store/changelog)
    record = (
        changelog.change(room.id, "read_updated", actor.id) if actor.user.read_receipts else None
    )
    with record or nullcontext() as entry:
        before = ReadState._get_collection().find_one_and_update(
            {"user": actor.id, "room": room.id},
            {"$max": {"seq": message.seq}, "$set": {"updated_at": now}},
            upsert=True,
            projection={"seq": 1},
        )
        moved = before is None or before.get("seq", 0) < message.seq
        if entry is not None:
            entry.applied = moved
    if moved:  # tell
        room_id = str(room.id)
        publish(ReadMarked(room_id, user_id=str(actor.id), seq=message.seq))
        if actor.user.read_receipts:
            at = isoformat(now) or ""
            receipt = ReadUpdated(room_id, str(actor.id), str(message.id), message.seq, at)
            publish_at_most(f"read:{room_id}:{actor.id}", receipt)
    return unread_counts(actor, [room])[room.id]


def read_receipts(actor: Actor, room_id: str) -> list[dict]:
    """How far each member has read, for members, as far as the policy lets them see
    it (`policy.sees`: not of those who turned read receipts off; always their own)."""
    room = get_member_room(actor, room_id, "read_receipts")
    states = list(ReadState.objects(room=room.id, user__in=room.participants, seq__gt=0))
    readers = User._get_collection().find(
        {"_id": {"$in": [s.user for s in states]}}, {"read_receipts": 1}
    )
    seen = {u["_id"] for u in readers if policy.sees(actor.id, u, "read")}
    shown = [s for s in states if s.user in seen]
    ids = {
        m.seq: str(m.id)
        for m in Message.objects(room=room.id, seq__in=[s.seq for s in shown]).only("id", "seq")
    }
    return [
        {
            "userId": str(s.user),
            "lastReadMessageId": ids[s.seq],
            "lastReadSeq": s.seq,
            "at": isoformat(s.updated_at),
        }
        for s in sorted(shown, key=lambda s: (-s.seq, str(s.user)))
        if s.seq in ids
    ]


def unread_counts(actor: Person, rooms: list[Room]) -> dict[ObjectId, int]:
    """Unread messages per room the actor is in: others' live messages past the pointer
    (replies shown in their thread only are counted there: services/threads)."""
    mine = [r.id for r in rooms if is_member(actor, r)]
    pointers = {
        s.room: s.seq for s in ReadState.objects(user=actor.id, room__in=mine).only("room", "seq")
    }
    counts = {}
    for room_id in mine:
        counts[room_id] = Message.objects(
            room=room_id,
            seq__gt=pointers.get(room_id, 0),
            sender__ne=actor.id,
            deleted=False,
            thread_only__ne=True,
        ).count()
    return counts

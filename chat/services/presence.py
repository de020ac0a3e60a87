"""Who is online, for the domain: the online subset of some users, the online members
of a room, and the rooms a connecting socket joins. The registry of live sockets
itself is the live layer's (chat.live.registry)."""

from bson import ObjectId

from chat.actor import Actor
from chat.live.registry import registry
from chat.models import Room, User
from chat.services import policy
from chat.store.combine import Combiner, Pending


def online_ids(user_ids: list[str]) -> set[str]:
    """The subset of `user_ids` with at least one live socket."""
    user_ids = list(dict.fromkeys(user_ids))
    return {u for u, n in zip(user_ids, registry().counts(user_ids), strict=True) if n > 0}


def online_users(actor: Actor, room: Room | None = None) -> list[User]:
    """Online users in `room`, or among everyone sharing a room with the actor."""
    if room is not None:
        candidates = {str(p) for p in room.participants}
    else:
        rooms = Room.objects(participants=actor.id).only("participants").limit(1000)
        candidates = {str(p) for r in rooms for p in r.participants} | {str(actor.id)}
    ids = sorted(online_ids(sorted(candidates)))[:1000]
    found = User.objects(id__in=[ObjectId(i) for i in ids]).order_by("username_lower")
    return [u for u in found if policy.sees(actor.id, u, "presence")]


def user_room_ids(user_id: str) -> list[str]:
    """Ids of the rooms a user belongs to (the channels a new socket joins)."""
    return _room_ids.submit(ObjectId(user_id))


def _read_room_ids(batch: list[Pending]) -> None:
    """Concurrent connects (a reconnect storm) share one query for their rooms."""
    users = list({p.item for p in batch})
    rooms = Room._get_collection()
    if len(users) == 1:
        found = {
            users[0]: [str(r["_id"]) for r in rooms.find({"participants": users[0]}, {"_id": 1})]
        }
    else:
        found = {user: [] for user in users}
        for room in rooms.find({"participants": {"$in": users}}, {"participants": 1}):
            for user in found.keys() & set(room["participants"]):
                found[user].append(str(room["_id"]))
    for p in batch:
        p.finish(found[p.item])


_room_ids = Combiner(_read_room_ids, max_batch=200)

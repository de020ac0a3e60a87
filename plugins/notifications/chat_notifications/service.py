"""Notifications: who gets one for a new message, listing, read state, preferences."""

import logging
from dataclasses import dataclass
from typing import ClassVar

from bson import ObjectId
from flask import current_app
from marshmallow import fields

from chat.plugin_api import (
    Action,
    Actor,
    Event,
    MessageCreated,
    OutSchema,
    Room,
    Schema,
    User,
    deliver_webhook,
    get_member_room,
    isoformat,
    online_ids,
    publish,
    push_to_user,
    reaches,
    send_email,
    thread_members,
    user_channel,
)

from .models import TYPES, Notification, NotificationPrefs

log = logging.getLogger(__name__)
ACTIONS = [
    Action("read_notifications", None, summary="one's notifications and preferences"),
    Action("mute_room", None, "member", summary="mute a room one is in"),
]


class NotificationOut(OutSchema):
    id = fields.String(required=True)
    type = fields.String(required=True, metadata={"enum": list(TYPES)})
    roomId = fields.String(required=True)
    messageId = fields.String(required=True)
    actorId = fields.String(required=True)
    createdAt = fields.String(required=True)
    read = fields.Boolean(required=True)


@dataclass(frozen=True)
class NotificationCreated(Event):
    """Sent to the notified user's personal channel only."""

    name: ClassVar[str] = "notification"
    schema: ClassVar[type[Schema] | None] = NotificationOut
    user_id: str = ""
    notification: dict | None = None

    def payload(self) -> dict:
        return self.notification or {}

    def channels(self) -> list[str]:
        return [user_channel(self.user_id)]


def settings() -> dict:
    return current_app.extensions["notifications"]


def serialize(n: Notification) -> dict:
    return {
        "id": str(n.id),
        "type": n.type,
        "roomId": str(n.room),
        "messageId": str(n.message),
        "actorId": str(n.actor),
        "createdAt": isoformat(n.created_at),
        "read": n.read,
    }


def _recipients(message: dict, room: Room) -> dict[str, str]:
    """user id -> notification type: mentioned users, the other members of a reply's
    thread, and offline direct-room peers; none who blocked the sender (the policy's
    `reaches`), none who muted the room."""
    sender = message["sender"]["id"]
    wanted = {uid: "mention" for uid in message.get("mentions", []) if uid != sender}
    if message.get("parentId"):
        present = {str(p) for p in room.participants}
        for uid in thread_members(message["parentId"]):
            if uid != sender and uid in present:
                wanted.setdefault(uid, "thread_reply")
    if room.type == "direct":
        peers = [str(p) for p in room.participants if str(p) != sender]
        offline = set(peers) - online_ids(peers)
        for uid in offline:
            wanted.setdefault(uid, "direct_message")
    if not wanted:
        return {}
    ids = [ObjectId(u) for u in wanted]
    for person in User._get_collection().find({"_id": {"$in": ids}}, {"blocked": 1}):
        if not reaches(sender, person):
            wanted.pop(str(person["_id"]), None)
    muted = NotificationPrefs.objects(user__in=ids, muted_rooms=room.id)
    for prefs in muted:
        wanted.pop(str(prefs.user), None)
    return wanted


def on_message_created(event: MessageCreated) -> list[Notification]:
    """Store, push live, and deliver out of band the notifications a message causes."""
    message = event.message
    quiet = not message.get("mentions") and not message.get("parentId")
    if quiet and event.room_type not in ("direct", ""):
        return []  # nobody to notify: no room to load
    room = Room.objects(id=message["roomId"]).first()
    if room is None or message.get("deleted"):
        return []
    created = []
    for user_id, kind in _recipients(message, room).items():
        note = Notification(
            user=ObjectId(user_id),
            type=kind,
            room=room.id,
            message=ObjectId(message["id"]),
            actor=ObjectId(message["sender"]["id"]),
        )
        note.save(force_insert=True)
        created.append(note)
        publish(NotificationCreated(str(room.id), user_id=user_id, notification=serialize(note)))
        _deliver(note, message, room)
    return created


def _deliver(note: Notification, message: dict, room: Room) -> None:
    """Webhook for every notification (a delivery of type `notification`); email to
    users offline now who allow it."""
    conf = settings()
    payload = {
        "notification": serialize(note),
        "message": message,
        "room": {"id": str(room.id), "name": room.name},
    }
    if conf.get("webhook_url"):  # stored, signed (Standard Webhooks) and retried
        deliver_webhook("notifications", conf["webhook_url"], conf["webhook_secret"],
                        "notification", payload)  # fmt: skip
    user_id = str(note.user)
    offline = not online_ids([user_id])
    if offline:  # no socket anywhere: their devices
        push_to_user(user_id, _push_payload(note, message, room))
    if conf["email"] and offline:
        prefs = NotificationPrefs.objects(user=note.user).first()
        user = User.objects(id=note.user).only("email", "email_verified").first()
        # only a verified address (none: the one given at sign-up was another account's)
        if user and user.email and user.email_verified and (prefs is None or prefs.email):
            send_email(user.email, *_email_text(note, message, room))  # the server's SMTP


def _push_payload(note: Notification, message: dict, room: Room) -> dict:
    """Ids only, unless the server's PUSH_INCLUDE_CONTENT allows the text."""
    payload = {
        "type": note.type,
        "notificationId": str(note.id),
        "roomId": str(room.id),
        "messageId": message["id"],
    }
    if current_app.config["PUSH_INCLUDE_CONTENT"]:
        payload["title"] = f"{message['sender']['username']} in {room.name}"
        payload["body"] = message["content"][:200]
    return payload


def _email_text(note: Notification, message: dict, room: Room) -> tuple[str, str]:
    who = message["sender"]["username"]
    what = {"mention": "mentioned you", "thread_reply": "replied in a thread you follow"}.get(
        note.type, "sent you a message"
    )
    subject = f"{who} {what} in {room.name}"[:200]
    return subject, f"{who} {what} in {room.name}:\n\n{message['content']}\n"


def list_notifications(actor: Actor, unread: bool, limit: int) -> list[Notification]:
    query = {"user": actor.id, **({"read": False} if unread else {})}
    return list(Notification.objects(**query).order_by("-created_at", "-id").limit(limit))


def mark_read(actor: Actor, ids: list[str]) -> int:
    """Mark the actor's own notifications read; other ids are ignored."""
    oids = [ObjectId(i) for i in ids]
    return Notification.objects(user=actor.id, id__in=oids).update(set__read=True)


def get_prefs(actor: Actor) -> NotificationPrefs:
    return NotificationPrefs.objects(user=actor.id).first() or NotificationPrefs(user=actor.id)


def update_prefs(
    actor: Actor, muted_rooms: list[str] | None, email: bool | None
) -> NotificationPrefs:
    """Change what the actor is notified about. Muting needs membership of the room."""
    prefs = get_prefs(actor)
    if muted_rooms is not None:
        prefs.muted_rooms = [
            get_member_room(actor, r, "mute_room").id for r in dict.fromkeys(muted_rooms)
        ]
    if email is not None:
        prefs.email = email
    prefs.save()
    return prefs


def serialize_prefs(prefs: NotificationPrefs) -> dict:
    return {"mutedRooms": [str(r) for r in prefs.muted_rooms], "email": prefs.email}

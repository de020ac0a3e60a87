"""The wire format: every outward shape of the core (user, message, reaction, room,
page of messages) is built here and only here, for REST bodies, socket acks and
broadcasts alike (a socket event's envelope is its `payload()` in chat/events.py,
documented by its `schema`). docs/openapi.json and docs/asyncapi.yaml document these shapes;
tests fail when a key sent is not documented there (tests/test_openapi_document.py,
tests/test_asyncapi_document.py).

A send builds its message once (`chat.services.messages.Posted.wire`); plugins add
fields through `extend_message`, which runs here, once per shape built.
"""

from datetime import UTC, datetime

from chat import plugin_manager
from chat.models import Message, Room, User
from chat.models.base import isoformat
from chat.models.user import Status


def user(account: User, *, private: bool = False) -> dict:
    """The contract's `user`; `private=True` adds the email and settings (the caller's
    own profile)."""
    data = {
        "id": str(account.id),
        "username": account.username,
        "displayName": account.display_name or account.username,
        "avatarUrl": account.avatar_url,
        "status": status(account.status),
        "bot": account.bot,
        "deactivated": account.deactivated,
        "createdAt": isoformat(account.created_at),
    }
    if private:
        data["email"] = account.email or account.unclaimed_email
        data["emailVerified"] = bool(account.email and account.email_verified)
        data["settings"] = {"readReceipts": account.read_receipts}
    return data


def sender(stored: Message) -> dict:
    """A message's sender: {id, username}, and `bot: true` for a bot (with the
    `displayName` a webhook delivery asked for)."""
    shown = {"id": str(stored.sender), "username": stored.sender_name}
    if stored.sender_bot:
        shown["bot"] = True
        if "username" in stored.data:  # a webhook delivery's `username`
            shown["displayName"] = stored.data["username"]
    return shown


def status(current: Status | None) -> dict | None:
    """A user's status, or None (none set, or past its `expiresAt`)."""
    if current is None:
        return None
    if current.expires_at is not None:
        expires = current.expires_at.replace(tzinfo=current.expires_at.tzinfo or UTC)
        if expires <= datetime.now(UTC):
            return None
    return {
        "text": current.text,
        "emoji": current.emoji,
        "expiresAt": isoformat(current.expires_at),
    }


QUOTE_LENGTH = 200  # characters of a quoted message shown with the quote


def message(stored: Message, quoted: Message | None = None) -> dict:
    """The contract's `message`, with the fields plugins add (`extend_message`).

    Args:
        quoted: the message it quotes, when the caller has it (read otherwise).
    """
    data = {
        "id": str(stored.id),
        "roomId": str(stored.room),
        "seq": stored.seq,
        "sender": sender(stored),
        "content": stored.content,
        "messageType": stored.message_type,
        "timestamp": isoformat(stored.timestamp),
        "edited": stored.edited,
        "mentions": [str(m) for m in stored.mentions],
    }
    if stored.edited_at:
        data["editedAt"] = isoformat(stored.edited_at)
    if stored.client_id is not None:
        data["clientId"] = stored.client_id
    if stored.deleted:
        data["deleted"] = True
        data["deletedAt"] = isoformat(stored.deleted_at)
    if stored.quoted_id:
        data["quoted"] = quote(stored.quoted_id, quoted)
    if stored.pinned_at:
        data["pinned"] = {"by": str(stored.pinned_by), "at": isoformat(stored.pinned_at)}
    if stored.data.get("command"):  # posted by a slash command (`/me`)
        data["command"] = stored.data["command"]
    if stored.parent_id:
        data["parentId"] = str(stored.parent_id)
        data["alsoInRoom"] = not stored.thread_only
    if stored.thread_counted:
        data["thread"] = thread(stored)
    for extra in plugin_manager.call("extend_message", message=stored):
        data.update(extra)
    return data


def thread(parent: Message) -> dict:
    """A thread's summary, as counted last (services/threads)."""
    return {
        "replyCount": parent.reply_count or 0,
        "lastReplyAt": isoformat(parent.last_reply_at),
        "participants": [str(p) for p in parent.thread_participants],
    }


def quote(message_id, quoted: Message | None = None) -> dict:
    """What a quote shows of the message it quotes, as it is now: the start of its
    content, or nothing once it was deleted."""
    if quoted is None or quoted.id != message_id:
        quoted = (
            Message.objects(id=message_id)
            .only("id", "sender", "sender_name", "content", "deleted")
            .first()
        )
    if quoted is None or quoted.deleted:
        return {"id": str(message_id), "sender": None, "content": "", "deleted": True}
    sender = {"id": str(quoted.sender), "username": quoted.sender_name}
    content = quoted.content[:QUOTE_LENGTH]
    return {"id": str(message_id), "sender": sender, "content": content, "deleted": False}


def message_page(page: list[Message], more: bool) -> dict:
    """A page of history, oldest first (`get_messages` and `GET /api/messages/:room`);
    the messages it quotes are read at once."""
    ids = [m.quoted_id for m in page if m.quoted_id]
    fields = ("id", "sender", "sender_name", "content", "deleted")
    quoted = {q.id: q for q in Message.objects(id__in=ids).only(*fields)} if ids else {}
    return {
        "messages": [message(m, quoted.get(m.quoted_id)) for m in page],
        "hasMore": more,
    }


def room(stored: Room, unread: int | None = None) -> dict:
    """The contract's `room`, plus `type`, `owners` and (for members) `unreadCount`."""
    data = {
        "id": str(stored.id),
        "name": stored.name,
        "description": stored.description,
        "type": stored.type,
        "participants": [str(p) for p in stored.participants],
        "admins": [str(a) for a in stored.admins],
        "owners": [str(o) for o in stored.owners],
        "settings": {
            "isPrivate": stored.settings.is_private,
            "maxParticipants": stored.settings.max_participants,
            "allowFileSharing": stored.settings.allow_file_sharing,
            "membersCanPin": stored.settings.members_can_pin,
            "slowModeSeconds": stored.settings.slow_mode_seconds or 0,
            "retentionDays": stored.settings.retention_days or 0,
        },
        "createdAt": isoformat(stored.created_at),
        "lastActivity": isoformat(stored.last_activity),
    }
    if unread is not None:
        data["unreadCount"] = unread
    return data

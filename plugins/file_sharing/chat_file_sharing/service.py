"""File sharing: upload into a room as an image/file message, download as a member."""

import secrets
import unicodedata
from typing import BinaryIO

from flask import current_app

from chat.plugin_api import (
    Action,
    Actor,
    Forbidden,
    Message,
    NotFound,
    PayloadTooLarge,
    Posted,
    Room,
    User,
    ValidationError,
    authorize,
    get_member_room,
    get_room,
    post_message,
    set_avatar,
)

from .models import Attachment
from .sniff import INLINE_SAFE, sniff


def _sharing_on(actor: Actor, room: Room | None, _resource) -> bool:
    return room is not None and room.settings.allow_file_sharing


ACTIONS = [
    Action("upload_file", "messages:write", "member", contact="message", rule=_sharing_on,
           rule_text="File sharing is off in this room.", summary="upload into a room"),
    Action("read_file", "messages:read", "member", summary="download a room's file"),
]  # fmt: skip
SNIFF_BYTES = 4096
AVATAR_BYTES = 1024 * 1024


def settings() -> dict:
    return current_app.extensions["file_sharing"]


def max_bytes() -> int:
    return int(settings()["max_bytes"])


def check_can_upload(actor: Actor, room_id: str) -> Room:
    """Members of rooms that allow file sharing. Checked before the body is read."""
    return get_member_room(actor, room_id, "upload_file")


def clean_name(name: str | None) -> str:
    """A display name: no directories, no control characters, at most 255 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    return (name or "file")[:255]


def _size(stream: BinaryIO) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def upload_file(
    actor: Actor, room: Room, stream: BinaryIO, filename: str | None, caption: str = ""
) -> Posted:
    """Store the bytes under a random id, then post an image/file message about them.

    Raises:
        PayloadTooLarge: over the limit. ValidationError: empty or a type not allowed.
    """
    size = _size(stream)
    if size > max_bytes():
        raise PayloadTooLarge(f"Files are limited to {max_bytes()} bytes.")
    content_type = sniff(stream.read(SNIFF_BYTES))
    stream.seek(0)
    if size == 0 or content_type is None:
        raise ValidationError(fields={"file": ["This file type is not allowed."]})
    key = secrets.token_hex(16)
    store = current_app.extensions["file_storage"]
    store.save(key, stream, content_type)
    attachment = Attachment(
        id=key,
        room=room.id,
        uploader=actor.id,
        name=clean_name(filename),
        size=size,
        content_type=content_type,
    )
    kind = "image" if content_type in INLINE_SAFE else "file"
    data = {
        "attachment": {
            "id": key,
            "name": attachment.name,
            "size": size,
            "contentType": content_type,
        }
    }
    try:
        posted = post_message(actor, str(room.id), caption, kind, data=data)
    except Exception:
        store.delete(key)
        raise
    attachment.message = posted.message.id
    attachment.save(force_insert=True)
    return posted


def upload_avatar(actor: Actor, stream: BinaryIO) -> User:
    """Store an image (PNG, JPEG, GIF or WebP, up to AVATAR_BYTES) as the actor's
    avatar; the one it replaces is deleted.

    Raises:
        PayloadTooLarge: over the limit. ValidationError: empty or not such an image.
    """
    size = _size(stream)
    limit = min(AVATAR_BYTES, max_bytes())
    if size > limit:
        raise PayloadTooLarge(f"Avatars are limited to {limit} bytes.")
    content_type = sniff(stream.read(SNIFF_BYTES))
    stream.seek(0)
    if size == 0 or content_type not in INLINE_SAFE:
        raise ValidationError(fields={"file": ["An avatar is a PNG, JPEG, GIF or WebP image."]})
    key = secrets.token_hex(16)
    current_app.extensions["file_storage"].save(key, stream, content_type)
    Attachment(
        id=key, avatar_of=actor.id, uploader=actor.id, name="avatar", size=size,
        content_type=content_type,
    ).save(force_insert=True)  # fmt: skip
    _forget_avatars(actor, keep=key)
    return set_avatar(actor, f"/api/files/{key}")


def remove_avatar(actor: Actor) -> User:
    _forget_avatars(actor)
    return set_avatar(actor, None)


def _forget_avatars(actor: Actor, keep: str | None = None) -> None:
    for old in Attachment.objects(avatar_of=actor.id, deleted=False, id__ne=keep):
        Attachment.objects(id=old.id).update_one(set__deleted=True)
        current_app.extensions["file_storage"].delete(old.id)


def open_file(actor: Actor, file_id: str) -> tuple[Attachment, BinaryIO]:
    """The file and its bytes: an avatar for anyone signed in; a message's file for
    members of its room while its message exists.

    Raises:
        NotFound: unknown id, not a member (even of a public room), or deleted.
    """
    attachment = (
        Attachment.objects(id=file_id, deleted=False).first() if file_id.isalnum() else None
    )
    if attachment is None:
        raise NotFound("File not found.")
    if attachment.avatar_of:
        return attachment, current_app.extensions["file_storage"].open(attachment.id)
    try:
        authorize(actor, "read_file", room=get_room(actor, attachment.room))
    except (NotFound, Forbidden):
        raise NotFound("File not found.") from None
    message = Message.objects(id=attachment.message).only("deleted").first()
    if message is None or message.deleted:
        raise NotFound("File not found.")
    return attachment, current_app.extensions["file_storage"].open(attachment.id)


def forget_message_files(message_id: str) -> None:
    """After a message is deleted: hide its attachment and drop the bytes."""
    for attachment in Attachment.objects(message=message_id, deleted=False):
        Attachment.objects(id=attachment.id).update_one(set__deleted=True)
        current_app.extensions["file_storage"].delete(attachment.id)

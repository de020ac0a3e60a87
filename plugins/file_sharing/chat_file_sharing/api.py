"""File sharing over REST: multipart upload into a room, member-only download."""

from urllib.parse import quote

from flask import Response, request, stream_with_context
from flask.views import MethodView
from marshmallow import fields
from werkzeug.exceptions import RequestEntityTooLarge

from chat.plugin_api import (
    BEARER,
    Blueprint,
    MessageOut,
    PayloadTooLarge,
    Schema,
    UserOut,
    ValidationError,
    login_required,
    serialize_user,
)

from . import service
from .sniff import INLINE_SAFE

bp = Blueprint("files", __name__, url_prefix="/api", description="File sharing")


class AttachmentOut(Schema):
    """A message's file (the `attachment` field file sharing adds to messages)."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    size = fields.Integer(required=True)
    contentType = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "Members download it here."})


FORM_OVERHEAD = 64 * 1024  # multipart boundaries, headers and the caption
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "content": {"type": "string", "description": "Optional caption."},
                },
            }
        }
    },
}


@bp.route("/rooms/<room_id>/files")
class Upload(MethodView):
    accepts_multipart = True

    @bp.doc(security=BEARER, requestBody=UPLOAD_BODY)
    @login_required(action="upload_file")
    @bp.response(201, MessageOut)
    def post(self, room_id, actor):
        """Upload a file into a room: it becomes an image or file message."""
        room = service.check_can_upload(actor, room_id)
        limit = service.max_bytes() + FORM_OVERHEAD
        if request.content_length is not None and request.content_length > limit:
            raise PayloadTooLarge(f"Files are limited to {service.max_bytes()} bytes.")
        request.max_content_length = limit  # also stops a chunked body at the limit
        try:
            upload = request.files.get("file")
            caption = request.form.get("content", "")
        except RequestEntityTooLarge:
            raise PayloadTooLarge(f"Files are limited to {service.max_bytes()} bytes.") from None
        if set(request.form) - {"content"}:
            raise ValidationError(fields={"_form": ["Only 'file' and 'content' are accepted."]})
        _check_form(upload)
        return service.upload_file(actor, room, upload.stream, upload.filename, caption).wire


def _check_form(upload) -> None:
    if upload is None or request.mimetype != "multipart/form-data":
        raise ValidationError(fields={"file": ["Send the file as multipart/form-data."]})
    if set(request.files) != {"file"}:
        raise ValidationError(fields={"_form": ["Only the fields named here are accepted."]})


AVATAR_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    },
}


@bp.route("/users/me/avatar")
class Avatar(MethodView):
    accepts_multipart = True

    @bp.doc(security=BEARER, requestBody=AVATAR_BODY)
    @login_required(action="update_self")
    @bp.response(200, UserOut)
    def put(self, actor):
        """Set your avatar (PNG, JPEG, GIF or WebP, up to 1 MiB): the user's `avatarUrl`
        serves it to anyone signed in; the rooms you are in get `user_updated`."""
        limit = service.AVATAR_BYTES + FORM_OVERHEAD
        too_large = f"Avatars are limited to {service.AVATAR_BYTES} bytes."
        if request.content_length is not None and request.content_length > limit:
            raise PayloadTooLarge(too_large)
        request.max_content_length = limit
        try:
            upload = request.files.get("file")
            extra = set(request.form)
        except RequestEntityTooLarge:
            raise PayloadTooLarge(too_large) from None
        if extra:
            raise ValidationError(fields={"_form": ["Only 'file' is accepted."]})
        _check_form(upload)
        return serialize_user(service.upload_avatar(actor, upload.stream), private=True)

    @bp.doc(security=BEARER)
    @login_required(action="update_self")
    @bp.response(200, UserOut)
    def delete(self, actor):
        """Remove your avatar."""
        return serialize_user(service.remove_avatar(actor), private=True)


def _disposition(name: str, inline: bool) -> str:
    ascii_name = name.encode("ascii", "ignore").decode().replace('"', "") or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@bp.get("/files/<file_id>")
@bp.doc(
    security=BEARER,
    responses={"200": {"description": "The file's bytes", "content": {"*/*": {}}}},
)
@login_required(action="read_file")
def download(file_id, actor):
    """Download a file (room members only; avatars: anyone signed in)."""
    attachment, stream = service.open_file(actor, file_id)

    def chunks():
        try:
            while chunk := stream.read(64 * 1024):
                yield chunk
        finally:
            stream.close()

    response = Response(stream_with_context(chunks()), mimetype=attachment.content_type)
    response.headers["Content-Length"] = str(attachment.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    inline = attachment.content_type in INLINE_SAFE
    response.headers["Content-Disposition"] = _disposition(attachment.name, inline)
    return response

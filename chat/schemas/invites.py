"""Invite link bodies."""

from marshmallow import fields, validate

from chat.schemas.base import ObjectIdField, OutSchema, Schema

YEAR = 366 * 24 * 3600
MAX_ROOMS = 50


class InviteIn(Schema):
    rooms = fields.List(
        ObjectIdField(),
        load_default=list,
        validate=validate.Length(max=MAX_ROOMS),
        metadata={"description": "Rooms the new accounts join (none: site admins only)."},
    )
    max_uses = fields.Integer(
        data_key="maxUses", load_default=1, strict=True, validate=validate.Range(min=1, max=1000)
    )
    expires_in = fields.Integer(
        data_key="expiresIn",
        load_default=None,
        strict=True,
        validate=validate.Range(min=60, max=YEAR),
        metadata={"description": "Seconds until it stops working (absent: 7 days)."},
    )


class InviteOut(OutSchema):
    id = fields.String(required=True)
    rooms = fields.List(fields.String(), required=True)
    maxUses = fields.Integer(required=True)
    uses = fields.Integer(required=True)
    createdBy = fields.String(required=True)
    createdAt = fields.String(required=True)
    expiresAt = fields.String(required=True)


class NewInviteOut(InviteOut):
    token = fields.String(required=True, metadata={"description": "Shown once."})
    url = fields.String(required=True, metadata={"description": "The web client's sign-up."})


class InvitesOut(OutSchema):
    invites = fields.List(fields.Nested(InviteOut), required=True)


class PreviewRoomOut(OutSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class InvitePreviewOut(OutSchema):
    rooms = fields.List(fields.Nested(PreviewRoomOut), required=True)
    expiresAt = fields.String(required=True)

"""Moderation and administration bodies: reports, the admin's user list, the audit log."""

from marshmallow import fields, validate

from chat.models.moderation import REPORT_REASONS, REPORT_STATES
from chat.schemas.auth import UserOut
from chat.schemas.base import ObjectIdField, OutSchema, Schema, Text


class ReportIn(Schema):
    reason = Text(required=True, validate=validate.OneOf(REPORT_REASONS))
    note = Text(load_default="", validate=validate.Length(max=500))


class ReportOut(OutSchema):
    id = fields.String(required=True)
    messageId = fields.String(required=True)
    roomId = fields.String(required=True)
    reporterId = fields.String(required=True)
    reason = fields.String(required=True, metadata={"enum": list(REPORT_REASONS)})
    note = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(REPORT_STATES)})
    createdAt = fields.String(required=True)
    resolvedBy = fields.String(required=True, allow_none=True)
    resolvedAt = fields.String(required=True, allow_none=True)


class PageQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    cursor = ObjectIdField(load_default=None)


class ReportsQuery(PageQuery):
    status = Text(load_default=None, validate=validate.OneOf(REPORT_STATES))


class ReportsOut(OutSchema):
    reports = fields.List(fields.Nested(ReportOut), required=True)
    nextCursor = fields.String(required=True, allow_none=True)


class ResolveIn(Schema):
    status = Text(required=True, validate=validate.OneOf(REPORT_STATES[1:]))


class AdminUsersQuery(Schema):
    q = Text(load_default="", validate=validate.Length(max=64))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class AdminUserOut(UserOut):
    email = fields.String(allow_none=True)
    siteAdmin = fields.Boolean(required=True)


class AdminUsersOut(OutSchema):
    users = fields.List(fields.Nested(AdminUserOut), required=True)


class AuditEntryOut(OutSchema):
    id = fields.String(required=True)
    actorId = fields.String(required=True, allow_none=True, metadata={"description": "null: CLI"})
    action = fields.String(required=True, metadata={"description": "e.g. member.kick"})
    target = fields.String(required=True, metadata={"description": "The id acted on."})
    roomId = fields.String(required=True, allow_none=True)
    details = fields.Dict(required=True)
    at = fields.String(required=True)


class AuditOut(OutSchema):
    entries = fields.List(fields.Nested(AuditEntryOut), required=True)
    nextCursor = fields.String(required=True, allow_none=True)

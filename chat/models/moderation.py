"""Moderation: reports on messages and the audit log of moderation and admin actions."""

from mongoengine import DateTimeField, DictField, Document, ObjectIdField, StringField

from chat.models.base import NO_AUTO_INDEX, utcnow

REPORT_REASONS = ("spam", "abuse", "other")
REPORT_STATES = ("open", "resolved", "dismissed")


class Report(Document):
    """A member's report of a message; one per reporter and message."""

    message = ObjectIdField(required=True)
    room = ObjectIdField(required=True)
    reporter = ObjectIdField(required=True)
    reason = StringField(required=True, choices=REPORT_REASONS)
    note = StringField(default="", max_length=500)
    status = StringField(default="open", choices=REPORT_STATES)
    created_at = DateTimeField(default=utcnow)
    resolved_by = ObjectIdField()
    resolved_at = DateTimeField()

    meta = {"collection": "reports", **NO_AUTO_INDEX}


class AuditEntry(Document):
    """Who did what to what, when: appended, never changed (no route edits or deletes)."""

    actor = ObjectIdField()  # None: the command line
    action = StringField(required=True)  # "member.kick", "user.deactivate", ...
    target = StringField(required=True)  # the id of the user, message, report, ...
    room = ObjectIdField()
    details = DictField()
    at = DateTimeField(default=utcnow)

    meta = {"collection": "audit", **NO_AUTO_INDEX}

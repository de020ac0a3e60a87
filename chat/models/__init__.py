"""MongoEngine documents. Indexes are created by chat/migrations/, never at import time."""

from chat.models.integration import ApiToken, Delivery, Device, IncomingWebhook, Subscription
from chat.models.message import Message, ThreadState
from chat.models.moderation import AuditEntry, Report
from chat.models.room import ReadState, Room
from chat.models.user import (
    EmailCheck,
    Invite,
    LoginThrottle,
    PasswordReset,
    Session,
    User,
)

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Delivery",
    "Device",
    "EmailCheck",
    "IncomingWebhook",
    "Invite",
    "LoginThrottle",
    "Message",
    "PasswordReset",
    "ReadState",
    "Report",
    "Room",
    "Session",
    "Subscription",
    "ThreadState",
    "User",
]

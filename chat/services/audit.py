"""The audit log: every moderation and admin action, appended by the service that does
it (room moderation, reports, site admins, the command line); never changed."""

from chat.actor import Actor
from chat.models import AuditEntry


def record(actor: Actor | None, action: str, target, room=None, **details) -> None:
    """Append who (None: the command line) did `action` to `target`, in `room`."""
    AuditEntry(
        actor=actor.id if actor else None,
        action=action,
        target=str(target),
        room=room,
        details=details,
    ).save(force_insert=True)

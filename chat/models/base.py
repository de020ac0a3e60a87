"""Helpers shared by the documents: server time with millisecond precision."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC, truncated to milliseconds (what MongoDB stores)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def isoformat(value: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds and a Z: 2026-11-24T10:15:30.123Z."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


# Every collection's meta (plugins' too, through chat.plugin_api): indexes are the
# migrations' own, never created on the fly; and a stored field the model does not
# know (a newer release's, rolled back) is kept and passed over instead of failing
# every read of its document.
NO_AUTO_INDEX = {"auto_create_index": False, "auto_create_index_on_save": False, "strict": False}

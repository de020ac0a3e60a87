"""Domain errors with stable codes; each transport translates them once."""

from pymongo.errors import OperationFailure, PyMongoError


class ChatError(Exception):
    """Base class: a stable `code`, an HTTP-like `status` and a human message."""

    code = "internal_error"
    status = 500
    default_message = "Internal server error."

    def __init__(self, message: str | None = None, *, fields: dict | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.fields = fields

    def to_dict(self) -> dict:
        """The contract's error object: {code, message, fields?}."""
        return error_body(self.code, self.message, self.fields)


class ValidationError(ChatError):
    code, status, default_message = "validation_error", 422, "Invalid input."


class Unauthorized(ChatError):
    code, status, default_message = "unauthorized", 401, "Authentication required."


class Forbidden(ChatError):
    code, status, default_message = "forbidden", 403, "You are not allowed to do that."


class InsufficientScope(ChatError):
    """An API token used outside its scopes or its rooms."""

    code, status, default_message = "insufficient_scope", 403, "This token may not do that."


class RegistrationClosed(ChatError):
    """No account may be made here (REGISTRATION), or not without a valid invite."""

    code, status, default_message = "registration_closed", 403, "Registration is closed."


class NotFound(ChatError):
    code, status, default_message = "not_found", 404, "Not found."


class Conflict(ChatError):
    code, status, default_message = "conflict", 409, "Conflict."


class SyncExpired(ChatError):
    """A sync cursor older than the changes kept (SYNC_RETENTION_DAYS): start over."""

    code, status = "sync_expired", 410
    default_message = "This cursor is older than the changes kept; sync from scratch."


class PayloadTooLarge(ChatError):
    code, status, default_message = "payload_too_large", 413, "Payload too large."


class RateLimited(ChatError):
    code, status, default_message = "rate_limited", 429, "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))

    def to_dict(self) -> dict:
        body = super().to_dict()
        body["retryAfter"] = self.retry_after
        return body


class Unavailable(ChatError):
    """The database (or another backing service) cannot be reached right now."""

    code, status, default_message = "unavailable", 503, "Temporarily unavailable; retry."

    def __init__(self, message: str | None = None, *, retry_after: int = 2):
        super().__init__(message)
        self.retry_after = retry_after


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    """Build {code, message, fields?} without Flask."""
    body: dict[str, object] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return body


def translate(error: Exception) -> "ChatError | None":
    """The ChatError an exception stands for: itself, Unavailable for a database that
    cannot be reached, or None for a bug (the transports answer internal_error).
    """
    if isinstance(error, ChatError):
        return error
    if isinstance(error, PyMongoError) and not isinstance(error, OperationFailure):
        return Unavailable()
    return None

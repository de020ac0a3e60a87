"""The socket a piece of work came from. The transport marks it (the /chat event
decorator, connect, upkeep); publishing reads it, so that the socket that sent a
message, started typing or just connected is not told of it. Services never see it.
"""

import contextlib
import contextvars
from collections.abc import Iterator

_origin: contextvars.ContextVar[str | None] = contextvars.ContextVar("origin", default=None)


def current() -> str | None:
    """The socket id of the work in progress (None: REST, CLI, background)."""
    return _origin.get()


@contextlib.contextmanager
def socket(sid: str) -> Iterator[None]:
    """Work done inside comes from socket `sid` (green threads each have their own)."""
    token = _origin.set(sid)
    try:
        yield
    finally:
        _origin.reset(token)

"""A plugin that fails in every isolated hook: the core must not notice."""

from chat import hookimpl


@hookimpl
def track_event(event):
    raise RuntimeError("track_event exploded")


@hookimpl
def extend_message(message):
    raise RuntimeError("extend_message exploded")


@hookimpl
def validate_message(draft):
    raise RuntimeError("validate_message exploded (not a ChatError: ignored)")

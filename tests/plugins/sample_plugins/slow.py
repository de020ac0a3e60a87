"""A plugin whose track_event takes seconds: sends must not wait for it."""

import time

from chat import hookimpl

SEEN = []


@hookimpl
def track_event(event):
    time.sleep(1.5)
    SEEN.append(type(event).__name__)

"""The sockets connected to this process: their state (user, session, token expiry,
typing, budgets) and what the upkeep loop checks every second, kept apart so that it
never walks every socket."""

import heapq
from dataclasses import dataclass, field

from flask import Flask, current_app

from chat.actor import Actor
from chat.events import TypingChanged
from chat.live import origin
from chat.live.limits import TokenBucket
from chat.live.publish import publish


@dataclass
class SocketState:
    """What the server remembers about one live socket (this process only)."""

    sid: str
    actor: Actor  # who is connected, with the credential they connected with
    expires: float
    typing: dict[str, float] = field(default_factory=dict)  # room id -> deadline
    typing_bucket: TokenBucket = field(default_factory=lambda: TokenBucket(2, 5))
    refusals: int = 0  # rate-limit refusals in a row


class Sockets(dict[str, SocketState]):
    """sid -> SocketState on this process, with what the upkeep loop checks every second
    kept apart, so that it never walks every socket: token expiries in a heap, and the
    sockets typing now (a walk of 10,000 sockets stalled the process ~20 ms a second).
    """

    def __init__(self):
        super().__init__()
        self.expiries: list[tuple[float, str]] = []
        self.typing: set[str] = set()

    def add(self, state: SocketState) -> None:
        self[state.sid] = state
        heapq.heappush(self.expiries, (state.expires, state.sid))
        if len(self.expiries) > 2 * len(self) + 1000:  # sockets gone before expiring
            self.expiries = [(s.expires, s.sid) for s in self.values()]
            heapq.heapify(self.expiries)

    def expired(self, now: float) -> list[SocketState]:
        """Live sockets whose token expired by `now` (each returned once)."""
        found = []
        while self.expiries and self.expiries[0][0] <= now:
            _, sid = heapq.heappop(self.expiries)
            state = self.get(sid)
            if state is not None and state.expires <= now:
                found.append(state)
        return found


def states() -> Sockets:
    return current_app.extensions["sockets"]


def stop_typing(sid: str, state: SocketState, rooms: list[str] | None = None) -> None:
    """End the socket's typing in `rooms` (default: all), telling those rooms (not it)."""
    for room_id in list(state.typing if rooms is None else rooms):
        if state.typing.pop(room_id, None) is not None:
            user = state.actor
            with origin.socket(sid):
                publish(TypingChanged(room_id, str(user.id), user.username, False))
    if not state.typing:
        states().typing.discard(sid)


def init_app(app: Flask) -> None:
    app.extensions["sockets"] = Sockets()

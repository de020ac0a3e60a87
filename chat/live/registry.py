"""Presence: which users have live sockets, counted over every process.

Each socket is registered under its user, its login session and its server
process. A user is online while they have at least one socket anywhere. With
Redis (REDIS_URL) the registry is shared by all processes, and a process that
dies without cleaning up (SIGKILL) is reaped by the others once its heartbeat
key expires. Without Redis a per-process registry serves a single process.
"""

import os
import uuid
from collections import defaultdict

from flask import current_app


class MemoryRegistry:
    """Single-process registry (no Redis configured)."""

    def __init__(self):
        self.sockets: dict[str, tuple[str, str]] = {}
        self.by_user: dict[str, set[str]] = defaultdict(set)
        self.by_session: dict[str, set[str]] = defaultdict(set)

    def add(self, sid: str, user_id: str, session: str) -> int:
        self.sockets[sid] = (user_id, session)
        self.by_user[user_id].add(sid)
        self.by_session[session].add(sid)
        return len(self.by_user[user_id])

    def remove(self, sid: str) -> tuple[str | None, int]:
        if sid not in self.sockets:
            return None, 0
        user_id, session = self.sockets.pop(sid)
        self.by_user[user_id].discard(sid)
        self.by_session[session].discard(sid)
        left = len(self.by_user[user_id])
        if not left:
            del self.by_user[user_id]
        if not self.by_session[session]:
            del self.by_session[session]
        return user_id, left

    def user_sockets(self, user_id: str) -> set[str]:
        return set(self.by_user.get(user_id, ()))

    def session_sockets(self, session: str) -> set[str]:
        return set(self.by_session.get(session, ()))

    def counts(self, user_ids: list[str]) -> list[int]:
        return [len(self.by_user.get(u, ())) for u in user_ids]

    def heartbeat(self) -> list[str]:
        return []


class RedisRegistry:
    """Registry shared by every process through Redis."""

    def __init__(self, client, prefix: str, process_ttl: int):
        self.r = client
        self.p = prefix
        self.ttl = process_ttl  # seconds without a heartbeat before a process is reaped
        self.process = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def _k(self, *parts: str) -> str:
        return ":".join((self.p, *parts))

    def add(self, sid: str, user_id: str, session: str) -> int:
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(self._k("sock", sid), mapping={"user": user_id, "session": session})
        pipe.sadd(self._k("user", user_id), sid)
        pipe.sadd(self._k("session", session), sid)
        pipe.sadd(self._k("proc", self.process), sid)
        pipe.scard(self._k("user", user_id))
        return pipe.execute()[-1]

    def remove(self, sid: str, process: str | None = None) -> tuple[str | None, int]:
        info = {k.decode(): v.decode() for k, v in self.r.hgetall(self._k("sock", sid)).items()}
        if not info:
            return None, 0
        pipe = self.r.pipeline(transaction=True)
        pipe.srem(self._k("user", info["user"]), sid)
        pipe.srem(self._k("session", info["session"]), sid)
        pipe.srem(self._k("proc", process or self.process), sid)
        pipe.delete(self._k("sock", sid))
        pipe.scard(self._k("user", info["user"]))
        return info["user"], pipe.execute()[-1]

    def _members(self, key: str) -> set[str]:
        return {m.decode() for m in self.r.smembers(key)}

    def user_sockets(self, user_id: str) -> set[str]:
        return self._members(self._k("user", user_id))

    def session_sockets(self, session: str) -> set[str]:
        return self._members(self._k("session", session))

    def counts(self, user_ids: list[str]) -> list[int]:
        pipe = self.r.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.scard(self._k("user", user_id))
        return pipe.execute()

    def heartbeat(self) -> list[str]:
        """Mark this process alive; reap dead processes. Returns users who went offline."""
        self.r.set(self._k("alive", self.process), 1, ex=self.ttl)
        self.r.sadd(self._k("procs"), self.process)
        offline = []
        for process in self._members(self._k("procs")):
            if process == self.process or self.r.exists(self._k("alive", process)):
                continue
            for sid in self._members(self._k("proc", process)):
                user_id, left = self.remove(sid, process)
                if user_id and not left:
                    offline.append(user_id)
            self.r.delete(self._k("proc", process))
            self.r.srem(self._k("procs"), process)
        return offline


def init_app(app) -> None:
    """Attach the registry: Redis-backed when REDIS_URL is set."""
    client = app.extensions.get("redis")
    prefix, ttl = app.config["REDIS_PREFIX"], app.config["PRESENCE_PROCESS_TTL"]
    app.extensions["presence"] = RedisRegistry(client, prefix, ttl) if client else MemoryRegistry()


def registry():
    return current_app.extensions["presence"]

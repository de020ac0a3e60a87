"""Retention: message bodies (and their files) older than the room's `retentionDays`,
or `MESSAGE_RETENTION_DAYS` for rooms without one, are purged: each such message becomes
a tombstone the way a delete makes one (it keeps its seq, takes a rev, leaves search,
its files go with the `message_deleted` event), so paging, sync and search stay
consistent. One process at a time runs it (a lease in MongoDB), a batch per run."""

import os
import socket
from datetime import timedelta

from flask import current_app
from pymongo.errors import DuplicateKeyError

from chat.extensions import mongo_db
from chat.models import Message, Room
from chat.models.base import utcnow
from chat.services import messages

BATCH = 500
LEASE_SECONDS = 120
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def _lease(name: str) -> bool:
    """Hold the named lease for LEASE_SECONDS (or renew ours); False while another holds it."""
    now = utcnow()
    try:
        mongo_db()["leases"].find_one_and_update(
            {"_id": name, "$or": [{"until": {"$lt": now}}, {"holder": HOLDER}]},
            {"$set": {"holder": HOLDER, "until": now + timedelta(seconds=LEASE_SECONDS)}},
            upsert=True,
        )
    except DuplicateKeyError:  # held by another process, and not expired
        return False
    return True


def run() -> int:
    """Purge what is due, at most BATCH messages; how many were purged."""
    if not _lease("retention"):
        return 0
    now, purged = utcnow(), 0
    own = {r.id: r.settings.retention_days for r in Room.objects(settings__retention_days__gt=0)}
    for room_id, days in own.items():
        purged += _purge({"room": room_id}, now - timedelta(days=days), BATCH - purged)
    days = current_app.config["MESSAGE_RETENTION_DAYS"]
    if days and purged < BATCH:
        purged += _purge({"room": {"$nin": list(own)}}, now - timedelta(days=days), BATCH - purged)
    return purged


def _purge(where: dict, cutoff, limit: int) -> int:
    if limit <= 0:
        return 0
    query = {**where, "deleted": False, "timestamp": {"$lt": cutoff}}
    due = list(Message._get_collection().find(query).sort("timestamp", 1).limit(limit))
    for doc in due:
        messages.erase(Message._from_son(doc))
    return len(due)

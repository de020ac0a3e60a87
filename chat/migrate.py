"""Apply the numbered scripts of `migrations/` once each, recording what ran.

The scripts live in the checkout's top-level `migrations/` folder, installed as the
package `chat.migrations` (pyproject.toml's package-dir), so a checkout and an
installed wheel find them the same way.
"""

import importlib.util
import re
from pathlib import Path

import chat.migrations
from chat.models.base import utcnow

MIGRATIONS_DIR = Path(next(iter(chat.migrations.__path__)))
NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.py$")


def discover(directory: Path = MIGRATIONS_DIR) -> list[Path]:
    """Migration scripts in order of their number."""
    return sorted(p for p in directory.iterdir() if NAME.match(p.name))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"chat_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def apply_migrations(db, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Run every script not yet recorded in `schema_migrations`; return the names that ran.

    Scripts are idempotent, so two processes releasing at once do no harm.
    """
    done = {doc["_id"] for doc in db["schema_migrations"].find({}, {"_id": 1})}
    ran = []
    for path in discover(directory):
        if path.stem in done:
            continue
        _load(path).upgrade(db)
        db["schema_migrations"].update_one(
            {"_id": path.stem}, {"$setOnInsert": {"applied_at": utcnow()}}, upsert=True
        )
        ran.append(path.stem)
    return ran

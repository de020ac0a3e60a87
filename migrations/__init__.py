"""Numbered, idempotent migration scripts; each exposes `upgrade(db)`."""

"""Logs: every logger of the process (the app's, the libraries', gunicorn's error and
access logs) writes one JSON object per line to standard error, through one
configuration. gunicorn applies it in its master (`logconfig_dict` in
chat/gunicorn_conf.py); other entry points (`flask --app wsgi ...`) through
`setup()`.

Rules kept for every line: no tokens and no message bodies. The security log
(`chat.security`) passes only its known fields; an access line carries the method,
the path without its query string (Socket.IO puts session ids there), the status,
the size, the duration and the peer address, never a header.
"""

import logging
import logging.config
from typing import Any

from pythonjsonlogger.json import JsonFormatter

# gunicorn's access atoms -> field names (everything else gunicorn offers, such as the
# request headers and the query string, is left out on purpose)
ACCESS_FIELDS = {"m": "method", "U": "path", "s": "status", "B": "bytes", "h": "remote"}
# the security log's fields: whatever else a caller attaches is not written
SECURITY_FIELDS = {"event", "reason", "path", "key", "user", "login", "remote"}
STANDARD = {"time", "level", "logger", "message", "exc_info", "stack_info"}


class LineFormatter(JsonFormatter):
    """time, level, logger, message and the record's extra fields; for gunicorn's access
    log the request's safe atoms instead of its text."""

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_data, record, message_dict)
        if record.name == "chat.security":
            for key in set(log_data) - SECURITY_FIELDS - STANDARD:
                del log_data[key]
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            atoms = record.args
            log_data.update({name: atoms.get(atom) for atom, name in ACCESS_FIELDS.items()})
            log_data["ms"] = round(int(atoms.get("D", 0)) / 1000, 1)
            log_data["message"] = "request"


def formatter() -> LineFormatter:
    return LineFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def config(level: str = "INFO", access_log: bool = True) -> dict[str, Any]:
    """The one logging configuration (a `logging.config.dictConfig` dict)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {
                "level": "INFO" if access_log else "WARNING",
                "handlers": [],
                "propagate": True,
            },
        },
    }


def setup(level: str = "INFO", access_log: bool = True) -> None:
    logging.config.dictConfig(config(level, access_log))

"""Logs are JSON lines: one object per line, for the host's log collector.

Structured fields travel in ``extra={"fields": {...}}``; callers put ids, codes, statuses and
durations there, never names, phones, free text, instanceIDs or tokens (design.md safety rules).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            # Only the exception's type: its text may quote submitted values.
            line["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str) -> None:
    """JSON lines on stderr for the app's own loggers (gunicorn keeps its own error log)."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "sahakum_json", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLineFormatter())
        handler.sahakum_json = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    # The development server's access lines print whole URLs, and OpenRosa URLs hold the
    # collector's token; gunicorn's access log is off for the same reason (server/cli.py).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # /readyz reads the migration state through Alembic, which announces its plugins at INFO.
    logging.getLogger("alembic").setLevel(logging.WARNING)

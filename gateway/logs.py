"""Structured logs: one JSON object per line for the ``carbonlink`` loggers.

Fields: ``ts``, ``level``, ``logger``, ``event`` (the message), and whatever the call passed in
``extra`` (``message_id``, ``sender``, ``receiver``, ``kind``, ``outcome``, ``code``, ``status`` ...),
so every line of an exchange can be found by its message id.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        doc.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode("utf-8")


def configure(level: str = "info") -> None:
    """Send ``carbonlink.*`` records to stderr as JSON lines (idempotent)."""
    logger = logging.getLogger("carbonlink")
    logger.setLevel(level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO")
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.propagate = False

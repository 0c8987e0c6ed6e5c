"""The relay's wire protocol, shared by the gateway and the sandbox registry: header names and the
syntax of message ids (docs/transfers.md)."""

from __future__ import annotations

import re

__all__ = ["KIND_HEADER", "MAX_ID_CHARS", "MESSAGE_ID", "MESSAGE_ID_HEADER", "MESSAGE_ID_PATTERN", "MESSAGE_ID_RULE",
           "SENDER_HEADER", "id_problem"]

MESSAGE_ID_HEADER = "Carbonlink-Message-Id"
SENDER_HEADER = "Carbonlink-Sender"
KIND_HEADER = "Carbonlink-Message-Kind"
#: A message id (also a participant id in the sender header): 1-200 characters, a letter or digit first.
MESSAGE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$"
MESSAGE_ID = re.compile(MESSAGE_ID_PATTERN)
MESSAGE_ID_RULE = "1-200 characters of A-Z a-z 0-9 . _ : @ / + = -"
#: The longest sender or message id the stores keep (evidence log, idempotency store).
MAX_ID_CHARS = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def id_problem(value: object) -> str | None:
    """What is wrong with a stored identifier (sender, receiver, message id), or None if nothing."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > MAX_ID_CHARS:
        return f"is longer than {MAX_ID_CHARS} characters"
    if _CONTROL.search(value):
        return "contains control characters"
    return None

"""The relay's wire protocol, shared by the gateway and the sandbox registry: header names and the
syntax of message ids (docs/transfers.md)."""

from __future__ import annotations

import re

__all__ = ["KIND_HEADER", "MESSAGE_ID", "MESSAGE_ID_HEADER", "MESSAGE_ID_PATTERN", "MESSAGE_ID_RULE",
           "SENDER_HEADER"]

MESSAGE_ID_HEADER = "Carbonlink-Message-Id"
SENDER_HEADER = "Carbonlink-Sender"
KIND_HEADER = "Carbonlink-Message-Kind"
#: A message id (also a participant id in the sender header): 1-200 characters, a letter or digit first.
MESSAGE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$"
MESSAGE_ID = re.compile(MESSAGE_ID_PATTERN)
MESSAGE_ID_RULE = "1-200 characters of A-Z a-z 0-9 . _ : @ / + = -"

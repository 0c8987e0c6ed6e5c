"""Structured JSON logs carry the message id of every exchange."""

from __future__ import annotations

import json
import logging

from gateway.logs import JsonFormatter


def test_json_lines_carry_the_extra_fields() -> None:
    record = logging.makeLogRecord({"name": "carbonlink.transfers", "levelname": "INFO", "msg": "relayed",
                                    "message_id": "m-1", "sender": "gha", "outcome": "accepted"})
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "relayed" and line["message_id"] == "m-1" and line["sender"] == "gha"
    assert line["level"] == "info" and line["ts"].endswith("Z")

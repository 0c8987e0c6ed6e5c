"""Evidence records: what one exchange leaves behind, and how its hash is defined.

A record's ``hash`` is the lower-case hex SHA-256 of the JCS bytes (RFC 8785, :mod:`gateway.evidence.jcs`)
of the object made of the fields in :data:`HASHED_FIELDS`.
``prev_hash`` of the first record is :data:`GENESIS_PREV_HASH` (64 zeros). ``signature`` is a
compact JWS by the gateway whose payload is the 64 ASCII characters of ``hash``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.digests import is_sha256_hex, sha256_hex
from gateway.evidence.errors import InvalidEntry, NotJcs
from gateway.evidence.jcs import jcs_bytes
from gateway.protocol import id_problem

RECORD_VERSION = 1
GENESIS_PREV_HASH = "0" * 64
HASHED_FIELDS = ("v", "seq", "ts", "kind", "sender", "receiver", "message_id", "inbound_sha256",
                 "outbound_sha256", "receipt", "verdicts", "prev_hash")
ALL_FIELDS = (*HASHED_FIELDS, "hash", "signature")

MAX_JSON_BYTES = 1024 * 1024

_KIND = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


#: ``(whole second, its text up to the seconds)`` of the last :func:`utc_timestamp` without a moment:
#: the date and time are formatted once per second, only the microseconds per call.
_last_second: tuple[int, str] = (-1, "")


def utc_timestamp(moment: datetime | None = None) -> str:
    """RFC 3339 UTC time with microseconds and ``Z``, e.g. ``2026-11-25T22:00:52.123456Z``."""
    global _last_second
    if moment is not None:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    second, micro = divmod(time.time_ns() // 1000, 1_000_000)
    cached = _last_second  # one read: another thread may replace it (a tuple, swapped whole)
    if cached[0] != second:
        cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        _last_second = cached
    return f"{cached[1]}.{micro:06d}Z"


def is_digest(value: object) -> bool:
    return is_sha256_hex(value)


def _check_id(name: str, value: object) -> str:
    problem = id_problem(value)
    if problem is not None:
        raise InvalidEntry(f"{name} {problem}")
    return str(value)


def _check_digest(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not is_digest(value):
        raise InvalidEntry(f"{name} must be 64 lower-case hex characters (SHA-256) or null")
    assert isinstance(value, str)
    return value


def _check_json(name: str, value: object, *, nullable: bool) -> dict[str, Any] | None:
    if value is None and nullable:
        return None
    if not isinstance(value, Mapping):
        raise InvalidEntry(f"{name} must be a JSON object" + (" or null" if nullable else ""))
    try:
        size = len(jcs_bytes(dict(value)))
    except NotJcs as exc:
        raise InvalidEntry(f"{name}: {exc.message}") from exc
    if size > MAX_JSON_BYTES:
        raise InvalidEntry(f"{name} is {size} bytes of JSON, over the limit of {MAX_JSON_BYTES}")
    return dict(value)


@dataclass(frozen=True, slots=True)
class Exchange:
    """What the gateway records about one exchange; :meth:`EvidenceLog.append` adds the rest.

    ``inbound_sha256`` / ``outbound_sha256`` are SHA-256 hex digests of the exact bodies
    received and sent (``None`` when there was none, e.g. a message refused before translation).
    ``verdicts`` summarises the decisions, e.g. ``{"validation": {"error": 0, "warning": 1},
    "receiver": "ACCEPTED"}``.
    """

    kind: str
    sender: str
    receiver: str
    message_id: str
    inbound_sha256: str | None
    outbound_sha256: str | None
    receipt: Mapping[str, Any] | None
    verdicts: Mapping[str, Any]

    def checked(self) -> Exchange:
        """This exchange after checking every field; :class:`InvalidEntry` names the first bad one."""
        if not isinstance(self.kind, str) or not _KIND.fullmatch(self.kind):
            raise InvalidEntry("kind must be 1-64 characters of letters, digits and . _ : -")
        return Exchange(
            kind=self.kind,
            sender=_check_id("sender", self.sender),
            receiver=_check_id("receiver", self.receiver),
            message_id=_check_id("message_id", self.message_id),
            inbound_sha256=_check_digest("inbound_sha256", self.inbound_sha256),
            outbound_sha256=_check_digest("outbound_sha256", self.outbound_sha256),
            receipt=_check_json("receipt", self.receipt, nullable=True),
            verdicts=_check_json("verdicts", self.verdicts, nullable=False) or {},
        )


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    """One stored record (see the module docstring for how ``hash`` and ``signature`` are made)."""

    seq: int
    ts: str
    kind: str
    sender: str
    receiver: str
    message_id: str
    inbound_sha256: str | None
    outbound_sha256: str | None
    receipt: dict[str, Any] | None
    verdicts: dict[str, Any]
    prev_hash: str
    hash: str
    signature: str
    v: int = RECORD_VERSION

    def hashed_body(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in HASHED_FIELDS}

    def computed_hash(self) -> str:
        """SHA-256 of the JCS bytes of the hashed fields, as they are now."""
        return sha256_hex(jcs_bytes(self.hashed_body()))

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ALL_FIELDS}

    def to_line(self) -> bytes:
        """The record as one JCS line (the export format)."""
        return jcs_bytes(self.as_dict())

    @classmethod
    def from_dict(cls, data: Any) -> EvidenceRecord:
        """Rebuild a record read back from a file; :class:`InvalidEntry` when a field is missing or
        of the wrong type (the values themselves are judged by verification, not here)."""
        if not isinstance(data, dict):
            raise InvalidEntry("a record is a JSON object")
        missing = [n for n in ALL_FIELDS if n not in data]
        if missing:
            raise InvalidEntry(f"the record lacks {', '.join(missing)}")
        extra = sorted(set(data) - set(ALL_FIELDS))
        if extra:
            raise InvalidEntry(f"the record has unknown fields {', '.join(extra)}")
        types: dict[str, tuple[type, ...]] = {
            "v": (int,), "seq": (int,), "ts": (str,), "kind": (str,), "sender": (str,), "receiver": (str,),
            "message_id": (str,), "inbound_sha256": (str, type(None)), "outbound_sha256": (str, type(None)),
            "receipt": (dict, type(None)), "verdicts": (dict,), "prev_hash": (str,), "hash": (str,),
            "signature": (str,),
        }
        for name, allowed in types.items():
            value = data[name]
            if isinstance(value, bool) or not isinstance(value, allowed):
                raise InvalidEntry(f"field {name} has the wrong type ({type(value).__name__})")
        return cls(**{name: data[name] for name in ALL_FIELDS})

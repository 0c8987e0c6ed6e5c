"""The digest of an MRV document: SHA-256 of its JCS bytes (RFC 8785).

A document is dumped in JSON mode (decimals become strings, dates ISO 8601 strings), so its JSON
holds only objects with the models' ASCII field names, arrays, strings, integers, booleans and
nulls. For such values JCS is the compact JSON with object members sorted by key, which is what
:func:`jcs_bytes` writes; the result is byte-for-byte the evidence log's JCS
(``gateway.evidence.jcs_bytes``, a test compares them), so the gateway and an offline verifier
compute the same digest. Documents that cite one another cite this digest.
"""

from __future__ import annotations

from typing import Any

import orjson

from standards.digests import sha256_hex
from standards.errors import InvalidValue
from standards.mrv.model import IssuanceNotice, IssuanceRequest, MonitoringReport, VerificationStatement

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
_LEAVES = (str, int, bool, type(None))


def _check(value: Any, depth: int = 0) -> None:
    if depth > 32:
        raise InvalidValue("an MRV document nests deeper than 32 levels", code="MRV.NOT_JCS")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise InvalidValue(f"object key {key!r} is not an ASCII string", code="MRV.NOT_JCS")
            _check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check(item, depth + 1)
    elif not isinstance(value, _LEAVES) or isinstance(value, float):
        raise InvalidValue(f"a {type(value).__name__} has no place in an MRV document's JSON", code="MRV.NOT_JCS")


def document_json(doc: MonitoringReport | VerificationStatement | IssuanceRequest | IssuanceNotice) -> dict[str, Any]:
    """The document as JSON data (every field, decimals as strings)."""
    return doc.model_dump(mode="json")


def jcs_bytes(data: Any) -> bytes:
    """The JCS bytes of MRV document JSON (ASCII keys; strings, integers, booleans, nulls)."""
    _check(data)
    try:
        return orjson.dumps(data, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:  # a lone surrogate or an integer outside the I-JSON range
        raise InvalidValue(f"not representable as JCS: {exc}", code="MRV.NOT_JCS") from exc


def document_digest(doc: MonitoringReport | VerificationStatement | IssuanceRequest | IssuanceNotice) -> str:
    """SHA-256 (lowercase hex) of the document's JCS bytes: what citing documents put in their digest field."""
    return sha256_hex(jcs_bytes(document_json(doc)))

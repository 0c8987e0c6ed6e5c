"""Canonical JSON for evidence records: the byte string every hash is computed over.

The rules (RFC 8785, JSON Canonicalization Scheme, restricted to the values evidence holds):

* objects: members sorted by their keys compared as UTF-16 code units (RFC 8785 §3.2.3),
  no duplicate keys, keys are strings;
* no insignificant whitespace; ``,`` and ``:`` as separators;
* strings: UTF-8, escaping only ``"``, ``\\`` and U+0000..U+001F (``\\b \\f \\n \\r \\t`` by
  name, the others as ``\\u00xx`` with lower-case hex); lone surrogates are refused;
* numbers: integers in the I-JSON safe range ±(2**53 - 1) only, written in plain decimal.
  Non-integer numbers are refused: quantities and decimals travel as strings, so their
  serialization can never differ between implementations;
* ``true``, ``false``, ``null`` as literals.

:func:`canonical_json` returns those bytes; :func:`sha256_hex` hashes them.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from gateway.evidence.errors import NotCanonical

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 64


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _normalise(value: Any, where: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise NotCanonical(f"{where or '/'}: nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise NotCanonical(f"{where or '/'}: integer {value} is outside the I-JSON safe range")
        return value
    if isinstance(value, float):
        raise NotCanonical(f"{where or '/'}: non-integer number {value!r}; write decimals as strings")
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise NotCanonical(f"{where or '/'}: object key {key!r} is not a string")
        # for keys below U+10000 (always the case for ASCII) code-point order is UTF-16 order
        ordered = sorted(value) if all(k.isascii() for k in value) else sorted(value, key=_utf16_key)
        return {k: _normalise(value[k], f"{where}/{k}", depth + 1) for k in ordered}
    if isinstance(value, list | tuple):
        return [_normalise(v, f"{where}/{i}", depth + 1) for i, v in enumerate(value)]
    raise NotCanonical(f"{where or '/'}: a {type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 bytes of ``value`` (see the module docstring for the rules)."""
    normal = _normalise(value, "", 0)
    try:
        return orjson.dumps(normal)
    except orjson.JSONEncodeError as exc:  # lone surrogates
        raise NotCanonical(f"not representable as UTF-8 JSON: {exc}") from None


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()

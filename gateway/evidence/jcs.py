"""JCS bytes of evidence records: the byte string every hash is computed over.

"JCS" is the JSON Canonicalization Scheme of RFC 8785; in carbonlink "canonical" names the
canonical data model (:mod:`standards.model`), so these bytes are called JCS bytes.

The rules (RFC 8785, JSON Canonicalization Scheme, restricted to the values evidence holds):

* objects: members sorted by their keys compared as UTF-16 code units (RFC 8785 §3.2.3),
  no duplicate keys, keys are strings;
* no insignificant whitespace; ``,`` and ``:`` as separators;
* strings: UTF-8, escaping only ``"``, ``\\`` and U+0000..U+001F (``\\b \\f \\n \\r \\t`` by
  name, the others as ``\\u00xx`` with lower-case hex); lone surrogates are refused;
* numbers: Python integers in the I-JSON safe range ±(2**53 - 1), written in plain decimal
  (larger integers are refused); floats written as ECMAScript ``Number.prototype.toString``
  does (RFC 8785 §3.2.2.3): shortest round-trip digits, plain notation for decimal exponents
  -6 < n <= 21, else ``d.ddde+NN``; ``-0`` is ``0``; NaN and infinities are refused.
  Quantities should still travel as strings: a float is only as exact as its binary value;
* ``true``, ``false``, ``null`` as literals.

:func:`jcs_bytes` returns those bytes; :func:`gateway.digests.sha256_hex` hashes them.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import orjson

from gateway.evidence.errors import NotJcs

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 64


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _normalise(value: Any, where: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise NotJcs(f"{where or '/'}: nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise NotJcs(f"{where or '/'}: integer {value} is outside the I-JSON safe range")
        return value
    if isinstance(value, float):
        return _RawNumber(es_number(value, where))
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise NotJcs(f"{where or '/'}: object key {key!r} is not a string")
        # for keys below U+10000 (always the case for ASCII) code-point order is UTF-16 order
        ordered = sorted(value) if all(k.isascii() for k in value) else sorted(value, key=_utf16_key)
        return {k: _normalise(value[k], f"{where}/{k}", depth + 1) for k in ordered}
    if isinstance(value, list | tuple):
        return [_normalise(v, f"{where}/{i}", depth + 1) for i, v in enumerate(value)]
    raise NotJcs(f"{where or '/'}: a {type(value).__name__} is not a JSON value")


class _RawNumber(str):
    """A float already rendered in ECMAScript form (written unquoted by :func:`jcs_bytes`)."""


def es_number(value: float, where: str = "") -> str:
    """``value`` as ECMAScript's Number.prototype.toString writes it (RFC 8785 §3.2.2.3)."""
    if not math.isfinite(value):
        raise NotJcs(f"{where or '/'}: {value!r} is not a JSON number")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits_tuple = Decimal(repr(abs(value))).as_tuple()  # repr: the shortest digits that round-trip
    digits = "".join(map(str, digits_tuple.digits)).rstrip("0")
    exponent = int(digits_tuple.exponent) + len(digits_tuple.digits) - len(digits)
    k = len(digits)
    n = exponent + k  # value = 0.d1d2...dk x 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text


def _has_raw(value: Any) -> bool:
    if isinstance(value, _RawNumber):
        return True
    if isinstance(value, dict):
        return any(_has_raw(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_raw(v) for v in value)
    return False


def _dumps_with_raw(value: Any) -> bytes:
    if isinstance(value, _RawNumber):
        return str.encode(value)
    if isinstance(value, dict):
        return b"{" + b",".join(orjson.dumps(k) + b":" + _dumps_with_raw(v) for k, v in value.items()) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(_dumps_with_raw(v) for v in value) + b"]"
    return orjson.dumps(value)


#: Leaf types the fast path takes as they are (exact types: subclasses, floats and the rest take the full path).
_PLAIN_LEAVES = frozenset({str, int, bool, type(None)})
_FAST_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def _plain(value: Any, depth: int) -> bool:
    """True when orjson's sorted-key output of ``value`` is already its JCS bytes: only dicts with ASCII
    string keys (sorted by code point, which is UTF-16 order for them), lists and plain strings,
    integers, booleans and nulls, nested no deeper than :data:`MAX_DEPTH` (no floats: orjson does not
    write them as ECMAScript does). Integers outside the safe range and lone surrogates make orjson
    raise, and :func:`jcs_bytes` then takes the full path, which reports them."""
    if depth >= MAX_DEPTH:  # near the limit the full path decides (it counts leaves as a level too)
        return False
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return False
            if type(item) not in _PLAIN_LEAVES and not _plain(item, depth + 1):
                return False
        return True
    if kind is list:
        return all(type(item) in _PLAIN_LEAVES or _plain(item, depth + 1) for item in value)
    return kind in _PLAIN_LEAVES


def jcs_bytes(value: Any) -> bytes:
    """The JCS UTF-8 bytes of ``value`` (see the module docstring for the rules)."""
    if _plain(value, 0):  # the common case: one orjson call, no normalised copy
        try:
            return orjson.dumps(value, option=_FAST_OPTIONS)
        except orjson.JSONEncodeError:
            pass  # an integer out of range or a lone surrogate: the full path says which and where
    normal = _normalise(value, "", 0)
    try:
        return _dumps_with_raw(normal) if _has_raw(normal) else orjson.dumps(normal)
    except orjson.JSONEncodeError as exc:  # lone surrogates
        raise NotJcs(f"not representable as UTF-8 JSON: {exc}") from exc




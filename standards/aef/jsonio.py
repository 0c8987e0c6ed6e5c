"""AEF V2 as JSON: one object, a key per table, rows keyed by Common Nomenclature names.

    {"format": "carbonlink/aef-json", "aefVersion": "2",
     "Submission": {...}, "Authorizations": [...], "Actions": [...],
     "Holdings": [...], "AuthorizedEntities": [...]}

Numbers are read as exact decimals (never binary floats); dates are ISO 8601 (``yyyy-mm-dd``;
T3 action date-times ``yyyy-mm-ddThh:mm:ssZ``). The whole shape, with its JSON Schema
(``schema/aef-v2.schema.json``), is documented in docs/aef-media.md, section "AEF JSON".
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import chain
from typing import Any

import orjson

from standards.aef._submission import lift_instructions
from standards.aef.tables import ROW_TABLES, TABLES, AefTables
from standards.errors import MalformedInput
from standards.safeio import bounded_decimal, bounded_int, decode_text

FORMAT_TAG = "carbonlink/aef-json"
DOCUMENT_KEYS = {table_id: spec.key for table_id, spec in TABLES.items()}
_KEY_TO_TABLE = {key: table_id for table_id, key in DOCUMENT_KEYS.items()}
_META_KEYS = {"format", "aefVersion"}


def _number(text: str) -> Decimal:
    return bounded_decimal(text, what="AEF JSON")


def _int(text: str) -> int:
    return bounded_int(text, what="AEF JSON")


#: deeper than this (an AEF document is three levels deep) the exact reader decides, as it always did
_FAST_DEPTH = 32


def _needs_exact_reader(value: Any) -> bool:
    """Whether orjson's reading may differ from the exact reader's: a number read as a binary float, or
    nesting deep enough for the exact reader's own limit. The containers are walked a level at a time,
    each level's values typed in one pass (a list of objects - a table's rows - as one run of values)."""
    if value.__class__ is float:
        return True
    stack = [(value, 1)] if value.__class__ in (dict, list) else []
    while stack:
        item, depth = stack.pop()
        values = list(item.values()) if item.__class__ is dict else item
        kinds = set(map(type, values))
        if kinds == {dict} and depth < _FAST_DEPTH:  # rows: the values of every row at once
            rows, depth = values, depth + 1
            kinds = set(map(type, chain.from_iterable(map(dict.values, rows))))
            if dict in kinds or list in kinds:
                values = list(chain.from_iterable(map(dict.values, rows)))
        if float in kinds:
            return True
        if dict in kinds or list in kinds:
            if depth >= _FAST_DEPTH:
                return True
            stack.extend((v, depth + 1) for v in values if v.__class__ is dict or v.__class__ is list)
    return False


#: Byte-order marks: such a file is decoded to text before it is parsed (orjson reads UTF-8 bytes only).
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _loads(source: str | bytes) -> Any:
    """The JSON value of ``source`` (text, or bytes without a byte-order mark: UTF-8), numbers exact.
    orjson reads it when that gives what the exact reader gives (no fraction or exponent, integers within
    64 bits, shallow: the usual AEF file, whose quantities are whole tonnes); anything else - a decimal, a
    longer integer, deep nesting, input orjson refuses - goes to the exact reader, which decodes the text
    (refusing what is not UTF-8 with a coded error), bounds numbers and words errors as before."""
    try:
        raw = orjson.loads(source)
    except orjson.JSONDecodeError:
        pass
    else:
        if not _needs_exact_reader(raw):
            return raw
    text = source if isinstance(source, str) else decode_text(source, what="AEF JSON")
    return json.loads(text, parse_float=_number, parse_int=_int)


def read_json(data: bytes) -> AefTables:
    """Parse AEF JSON into tables; anything that is not that shape is a coded input error."""
    source = decode_text(data, what="AEF JSON") if data.startswith(_BOMS) else data
    try:
        raw = _loads(source)
    except json.JSONDecodeError as exc:
        raise MalformedInput(f"AEF JSON is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                             code="INPUT.JSON") from exc
    except RecursionError as exc:
        raise MalformedInput("AEF JSON nests too deeply", code="INPUT.JSON") from exc
    if not isinstance(raw, dict):
        raise MalformedInput("AEF JSON must be an object with the keys Submission, Authorizations, Actions, "
                             "Holdings, AuthorizedEntities", code="AEF.JSON_SHAPE")
    unknown = sorted(set(raw) - set(_KEY_TO_TABLE) - _META_KEYS)
    if unknown:
        raise MalformedInput(f"AEF JSON has unknown top-level keys: {', '.join(unknown)}",
                             code="AEF.JSON_SHAPE")
    if raw.get("format", FORMAT_TAG) != FORMAT_TAG:
        raise MalformedInput(f"AEF JSON format {raw.get('format')!r} is not {FORMAT_TAG!r}", code="AEF.JSON_SHAPE")
    if raw.get("aefVersion", "2") not in ("2", 2):
        raise MalformedInput(f"AEF JSON version {raw.get('aefVersion')!r} is not supported (2)",
                             code="AEF.JSON_SHAPE")
    tables = AefTables()
    submission = raw.get(DOCUMENT_KEYS["T1"])
    if submission is not None:
        if not isinstance(submission, dict):
            raise MalformedInput("AEF JSON 'Submission' must be an object", code="AEF.JSON_SHAPE")
        tables.submission = dict(submission)
    for table_id in ROW_TABLES:
        rows = raw.get(DOCUMENT_KEYS[table_id], [])
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise MalformedInput(f"AEF JSON '{DOCUMENT_KEYS[table_id]}' must be a list of objects",
                                 code="AEF.JSON_SHAPE")
        tables.rows[table_id] = rows  # parsed here: nobody else holds them
    lift_instructions(tables)
    return tables


def _jsonable(value: Any, token: str) -> Any:
    if isinstance(value, datetime):
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond // 1000:03d}"
        return text + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{token}{value:f}{token}"
    return value


def dumps_exact(obj: Any, token: str, **kwargs: Any) -> str:
    """``json.dumps`` where strings ``<token>number<token>`` become bare JSON numbers (exact decimals)."""
    text = json.dumps(obj, ensure_ascii=False, **kwargs)
    return re.sub(f'"{token}(-?[0-9.]+){token}"', r"\1", text)


def write_json(tables: AefTables) -> bytes:
    """Serialize tables as AEF JSON (exact decimals, ISO dates, keys in template order)."""
    token = f"@@{secrets.token_hex(8)}@@"
    out: dict[str, Any] = {"format": FORMAT_TAG, "aefVersion": "2"}
    if tables.submission is not None:
        out[DOCUMENT_KEYS["T1"]] = {f.cn: _jsonable(tables.submission.get(f.cn), token)
                                    for f in TABLES["T1"].fields}
    for table_id in ROW_TABLES:
        spec = TABLES[table_id]
        out[DOCUMENT_KEYS[table_id]] = [{f.cn: _jsonable(row.get(f.cn), token) for f in spec.fields}
                                        for row in tables.rows[table_id]]
    return (dumps_exact(out, token, indent=1) + "\n").encode("utf-8")

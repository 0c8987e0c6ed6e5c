"""AEF JSON numbers are exact: orjson reads a file only when that gives what the exact reader gives
(integers within 64 bits, no fraction or exponent); anything else is read by the exact reader."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from standards.aef.jsonio import _int, _loads, _number, read_json
from standards.errors import MalformedInput


def _exact(text: str) -> Any:
    return json.loads(text, parse_float=_number, parse_int=_int)


def _typed(value: Any) -> Any:
    """The value with every scalar paired with its type (1 == 1.0 == Decimal(1) must not pass)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, repr(value))


@pytest.mark.parametrize("text", [
    '{"Actions": [{"QuantityCO2": 20000, "FirstID": 1, "LastID": 20000}]}',
    '{"Actions": [{"QuantityCO2": 0.1}]}',
    '{"Actions": [{"QuantityCO2": 1e3}]}',
    '{"Actions": [{"QuantityCO2": -0}], "x": [[1, [2.50]]]}',
    '{"SubmissionVersion": "1.0", "n": 12345678901234567890123}',
    '{"big": -9223372036854775809, "ok": 9223372036854775807}',
    '{"nan": NaN}',
    '{"a": 1, "a": 2.0}',
    '  [1, 2, 3]  ',
    '"text"',
    '3.25',
])
def test_the_fast_reader_gives_what_the_exact_reader_gives(text: str) -> None:
    assert _typed(_loads(text)) == _typed(_exact(text))


def test_a_decimal_quantity_stays_exact() -> None:
    tables = read_json(b'{"Actions": [{"QuantityCO2": 0.1, "FirstID": 18446744073709551617}]}')
    row = tables.rows["T3"][0]
    assert row["QuantityCO2"] == Decimal("0.1") and isinstance(row["QuantityCO2"], Decimal)
    assert row["FirstID"] == 18446744073709551617


@pytest.mark.parametrize(("data", "code", "words"), [
    (b'{"Actions": [{"QuantityCO2": ' + b"9" * 101 + b"}]}", "INPUT.JSON_NUMBER", "out of range"),
    (b'{"Actions": [{"QuantityCO2": 1e999}]}', "INPUT.JSON_NUMBER", "out of range"),
    (b'{"Actions": [\n{"QuantityCO2": }]}', "INPUT.JSON", "line 2, column 17"),
    (b'{"Actions": "\x01"}', "INPUT.JSON", "Invalid control character"),
])
def test_what_orjson_refuses_is_refused_with_the_exact_readers_words(data: bytes, code: str, words: str) -> None:
    with pytest.raises(MalformedInput) as caught:
        read_json(data)
    assert caught.value.code == code and words in caught.value.message


@pytest.mark.parametrize("depth", [40, 1000, 5000])
def test_deep_nesting_is_left_to_the_exact_reader(depth: int) -> None:
    """orjson reads 1,000 levels; the exact reader's limit decides, as before (coded, never a traceback)."""
    text = '{"Actions": [{"GWPValues": ' + "[" * depth + "]" * depth + "}]}"
    try:
        expected: Any = _exact(text)
    except RecursionError:
        expected = RecursionError
    try:
        got: Any = _loads(text)
    except RecursionError:
        got = RecursionError
    assert got == expected
    if expected is RecursionError:
        with pytest.raises(MalformedInput) as caught:
            read_json(text.encode())
        assert caught.value.code == "INPUT.JSON"

"""Canonical JSON (RFC 8785 rules, integers only): exact bytes, refusals, order independence."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.evidence import NotJcs, jcs_bytes
from gateway.evidence.jcs import es_number


def test_keys_sort_by_utf16_code_units_as_in_rfc8785() -> None:
    # RFC 8785 §3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33, unlike code-point order
    doc = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
           "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control",
           "\u00f6": "Latin Small Letter O With Diaeresis"}
    keys = list(json.loads(jcs_bytes(doc)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_exact_bytes_for_nesting_literals_and_escapes() -> None:
    doc = {"b": [1, -2, 0, True, False, None], "a": {"z": "", "y": "q\"\\/\b\f\n\r\t\x01\x1f\x7fé\u2028"}}
    expected = ('{"a":{"y":"q\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7fé\u2028","z":""},'
                '"b":[1,-2,0,true,false,null]}').encode()
    assert jcs_bytes(doc) == expected


@pytest.mark.parametrize(("value", "fragment"), [
    ({"x": float("nan")}, "not a JSON number"), ({"x": float("-inf")}, "not a JSON number"),
    ({"x": 2**53}, "safe range"),
    ({"x": -(2**53)}, "safe range"), ({1: "x"}, "not a string"), ({"x": "\udc00"}, "UTF-8"),
    ({"x": {1, 2}}, "set"), ({"x": b"bytes"}, "bytes"),
])
def test_values_without_one_canonical_form_are_refused(value: Any, fragment: str) -> None:
    with pytest.raises(NotJcs, match=fragment) as info:
        jcs_bytes(value)
    assert info.value.code == "EVIDENCE.NOT_CANONICAL"


def test_absurd_nesting_is_refused() -> None:
    doc: Any = "leaf"
    for _ in range(100):
        doc = [doc]
    with pytest.raises(NotJcs, match="deeper"):
        jcs_bytes(doc)


def test_the_largest_safe_integers_are_kept() -> None:
    assert jcs_bytes([2**53 - 1, -(2**53 - 1)]) == b"[9007199254740991,-9007199254740991]"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20)


@given(st.dictionaries(st.text(max_size=6), json_values, max_size=8), st.randoms())
def test_insertion_order_never_changes_the_bytes_and_the_bytes_parse_back(doc: dict[str, Any],
                                                                          rnd: random.Random) -> None:
    items = list(doc.items())
    rnd.shuffle(items)
    encoded = jcs_bytes(doc)
    assert jcs_bytes(dict(items)) == encoded
    assert json.loads(encoded) == doc


def test_numbers_follow_ecmascript_as_in_rfc8785() -> None:
    # RFC 8785 §3.2.2.3 and its sample input
    doc = {"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001]}
    assert jcs_bytes(doc) == b'{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}'
    cases = {1e21: "1e+21", 1e20: "100000000000000000000", 1e-7: "1e-7", 1e-6: "0.000001", -0.0: "0",
             5e-324: "5e-324", 1.7976931348623157e308: "1.7976931348623157e+308", 100.0: "100",
             9007199254740992.0: "9007199254740992", -1.5: "-1.5",
             295147905179352830000.0: "295147905179352830000"}
    for value, text in cases.items():
        assert es_number(value) == text, value
        assert jcs_bytes([value]) == f"[{text}]".encode()


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_round_trips_through_its_canonical_text(value: float) -> None:
    text = es_number(value)
    assert float(text) == value
    assert jcs_bytes({"v": value, "s": "x"}) == b'{"s":"x","v":' + text.encode() + b"}"

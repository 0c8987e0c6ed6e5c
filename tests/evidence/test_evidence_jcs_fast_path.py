"""The one-call JCS fast path (plain JSON through orjson with sorted keys) gives exactly the bytes of the
full RFC 8785 path, and leaves everything else (floats, non-ASCII keys, depth, bad integers) to it."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.evidence import jcs
from gateway.evidence.errors import NotJcs


def full_path(value: Any) -> bytes:
    normal = jcs._normalise(value, "", 0)
    return jcs._dumps_with_raw(normal) if jcs._has_raw(normal) else orjson.dumps(normal)


leaves = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=12)
plain = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=6), inner, max_size=4),
                     max_leaves=30)
anything = st.recursive(leaves | st.floats(allow_nan=False, allow_infinity=False),
                        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                     max_size=4), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(plain)
def test_plain_values_take_the_fast_path_with_the_same_bytes(value: Any) -> None:
    assert jcs._plain(value, 0)
    assert jcs.jcs_bytes(value) == full_path(value)


@settings(max_examples=300, deadline=None)
@given(anything)
def test_any_value_gets_the_full_paths_bytes(value: Any) -> None:
    assert jcs.jcs_bytes(value) == full_path(value)


def test_floats_and_non_ascii_keys_take_the_full_path() -> None:
    assert not jcs._plain({"a": 1.5}, 0) and jcs.jcs_bytes({"a": 1.0}) == b'{"a":1}'
    assert not jcs._plain({"é": 1, "z": 2}, 0)
    assert jcs.jcs_bytes({"\u20ac": 1, "\U0001f600": 2}) == full_path({"\u20ac": 1, "\U0001f600": 2})


@pytest.mark.parametrize("bad", [{"a": 2**53}, {"a": "\ud800"}, {"a": {1, 2}}])
def test_bad_values_are_refused_by_the_full_path(bad: Any) -> None:
    with pytest.raises(NotJcs):
        jcs.jcs_bytes(bad)


def test_the_depth_limit_is_the_full_paths() -> None:
    value: Any = 1
    for _ in range(jcs.MAX_DEPTH):
        value = [value]
    assert jcs.jcs_bytes(value) == full_path(value)  # a leaf inside 64 arrays is at the limit
    with pytest.raises(NotJcs):
        jcs.jcs_bytes([value])

"""Hostile input: whatever JSON arrives, the CAD Trust codecs and adapter answer with coded findings
or a coded error, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.cadt import CadtAdapter
from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.picklists import bundled
from standards.codec import Medium
from standards.errors import CarbonlinkError

ROOT = Path(__file__).resolve().parents[2]
BASES = {"v1": json.loads((ROOT / "conformance/cases/cadt-v1-messages/bases/v1.json").read_text(encoding="utf-8")),
         "v2": json.loads((ROOT / "standards/examples/cadt-v2-aef.json").read_text(encoding="utf-8"))}
CODECS = {"v1": CadtV1Codec(picklists=bundled("v1")), "v2": CadtV2Codec(picklists=bundled("v2"))}
ADAPTER = CadtAdapter(v1=CODECS["v1"], v2=CODECS["v2"])  # type: ignore[arg-type]

_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False,
                  allow_infinity=False), st.text(max_size=12),
                  st.sampled_from(["", "NA", "GHC", "2024-02-30", "1e309", "-1", "0", "CA0001", "VU", "12.345"]))
_json = st.recursive(_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                     max_leaves=12)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    version = draw(st.sampled_from(["v1", "v2"]))
    doc = json.loads(json.dumps(BASES[version]))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        node = doc
        for token in path[:-1]:
            node = node[token]
        if draw(st.booleans()):
            node[path[-1]] = draw(_json)
        elif isinstance(node, dict):
            del node[path[-1]]
    return version, doc


def _must_not_crash(call: Any) -> None:
    try:
        result = call()
    except CarbonlinkError:
        return
    assert result is not None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_documents_give_findings_not_tracebacks(case: tuple[str, Any]) -> None:
    version, doc = case
    data = json.dumps(doc).encode()
    _must_not_crash(lambda: CODECS[version].parse(data, medium=Medium.JSON))
    _must_not_crash(lambda: ADAPTER.parse(data, medium=Medium.JSON))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json)
def test_arbitrary_json_gives_findings_not_tracebacks(value: Any) -> None:
    data = json.dumps(value).encode()
    for codec in CODECS.values():
        _must_not_crash(lambda c=codec: c.parse(data, medium=Medium.JSON))
    _must_not_crash(lambda: ADAPTER.parse(data, medium=Medium.JSON))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_coded_errors(data: bytes) -> None:
    for medium in (Medium.JSON, Medium.XLSX):
        _must_not_crash(lambda m=medium: ADAPTER.parse(data, medium=m))
    _must_not_crash(lambda: CODECS["v2"].parse(data, medium=Medium.JSON))


def test_every_list_field_given_a_scalar_or_object_is_a_finding_not_a_traceback() -> None:
    """Regression (found by the fuzz test above): a v1 project whose ``issuances`` was ``true`` crashed the
    reference check. Every list in both example documents is replaced in turn by a wrong type."""
    for version, base in BASES.items():
        lists = [p for p in _paths(base) if p and isinstance(_at(base, p), list)]
        assert lists
        for path in lists:
            for wrong in (True, 7, "x", {"id": "1"}):
                doc = json.loads(json.dumps(base))
                _at(doc, path[:-1])[path[-1]] = wrong
                data = json.dumps(doc).encode()
                result = CODECS[version].parse(data, medium=Medium.JSON)
                assert not result.valid, (version, path, wrong)
                assert any(f.is_error for f in result.findings)
                _must_not_crash(lambda: ADAPTER.parse(data, medium=Medium.JSON))  # noqa: B023


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for token in path:
        value = value[token]
    return value

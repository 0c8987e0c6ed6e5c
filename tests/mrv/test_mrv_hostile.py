"""Hostile MRV payloads: every one is a coded finding, never a traceback, never a partial document."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standards.errors import ValidationFailed
from standards.mrv import (
    MAX_DOCUMENT_BYTES,
    MAX_FINDINGS,
    MAX_PARAMETERS,
    RULES,
    MrvInvalid,
    document_json,
    example_report,
    read_document,
    validate_report,
)


def report_json(**changes: Any) -> dict[str, Any]:
    return document_json(example_report()) | changes


def rules_of(data: Any, **kw: Any) -> list[str]:
    result = read_document(data, **kw)
    assert all(f.rule in RULES for f in result.findings)
    return sorted({f.rule for f in result.findings})


def test_huge_parameter_arrays_are_refused_by_count_then_by_size() -> None:
    param = {"name": "p", "value": "1", "unit": "m"}
    over = json.dumps(report_json(parameters=[param] * (MAX_PARAMETERS + 1)))
    result = validate_report(over)
    assert result.document is None and [f.rule for f in result.findings] == ["MRV.TOO_MANY_ITEMS"]
    assert result.findings[0].location.pointer == "/parameters"
    assert validate_report(json.dumps(report_json(parameters=[param] * MAX_PARAMETERS))).valid
    huge = json.dumps(report_json(parameters=[1] * (MAX_DOCUMENT_BYTES // 2)))
    assert [f.rule for f in validate_report(huge).findings] == ["MRV.TOO_LARGE"]
    assert [f.rule for f in validate_report(huge.encode()).findings] == ["MRV.TOO_LARGE"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", '"NaN"', '"Infinity"', '"-inf"'])
def test_nan_and_infinity_are_refused_wherever_a_number_goes(literal: str) -> None:
    for field in ("emission_reductions", "buffer"):
        text = json.dumps(report_json(**{field: "__V__"})).replace('"__V__"', literal)
        result = validate_report(text)
        assert [(f.rule, f.location.pointer) for f in result.findings] == [("MRV.NOT_FINITE", f"/{field}")]
    param = {"name": "p", "value": "__V__", "unit": "m"}
    text = json.dumps(report_json(parameters=[param])).replace('"__V__"', literal)
    result = validate_report(text)
    assert result.document is None
    assert {f.location.pointer for f in result.findings} == {"/parameters/0/value"}


def test_nan_from_python_data_is_refused_too() -> None:
    data = report_json(parameters=[{"name": "p", "value": float("nan"), "unit": "m"}],
                       emission_reductions=float("inf"))
    assert rules_of(data, kind="monitoring-report") == ["MRV.NOT_FINITE"]


@pytest.mark.parametrize("unit", ["m**99999999", "kg/(m*s", '__import__("os").system("true")', "1e400 m", "m/0",
                                  "\u202e gk", "MWh\x00", "fortnight" * 7, "a" * 65, "  ", "banana", "5 m", "m^^2"])
def test_absurd_unit_strings_are_coded_findings(unit: str) -> None:
    data = report_json(parameters=[{"name": "p", "value": "1", "unit": unit}])
    result = validate_report(json.dumps(data))
    assert not result.valid
    assert {f.rule for f in result.findings} <= {"MRV.UNIT_UNKNOWN", "MRV.STRUCTURE"}
    assert all(f.location.pointer.startswith("/parameters/0") for f in result.findings)


def test_deep_nesting_is_refused() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    text = json.dumps(report_json()).replace('"evidence": [', f'"evidence": [{deep}, ', 1)
    assert rules_of(text, kind="monitoring-report") == ["MRV.NOT_JSON"]
    nested: Any = []
    for _ in range(5000):
        nested = [nested]
    assert rules_of(report_json(evidence=nested), kind="monitoring-report") == ["MRV.STRUCTURE"]


@pytest.mark.parametrize("data", [b"", b"\xff\xfe", "[]", "null", "42", '{"kind": "monitoring-report"', b"\x00" * 10,
                                  '{"kind": "no-such-kind"}', "{}", '{"kind": 7}'])
def test_not_a_document(data: str | bytes) -> None:
    result = read_document(data)
    assert result.document is None and result.findings
    assert {f.rule for f in result.findings} <= {"MRV.NOT_JSON", "MRV.STRUCTURE"}
    with pytest.raises(MrvInvalid) as err:
        result.require()
    assert isinstance(err.value, ValidationFailed) and err.value.code == "MRV.INVALID"


def test_unknown_kind_argument_and_findings_bound() -> None:
    assert rules_of("{}", kind="carbon-wish") == ["MRV.STRUCTURE"]
    params = [{"name": "", "value": "x", "unit": ""}] * 200
    result = validate_report(json.dumps(report_json(parameters=params)))
    assert len(result.findings) == MAX_FINDINGS + 1 and result.findings[-1].rule == "MRV.TOO_MANY_FINDINGS"


def test_control_characters_and_lone_surrogates_in_identifiers() -> None:
    assert "MRV.STRUCTURE" in rules_of(report_json(project_id="P\n1"), kind="monitoring-report")
    assert "MRV.NOT_JSON" in rules_of('{"kind": "monitoring-report", "project_id": "\\ud800"}') or \
        "MRV.STRUCTURE" in rules_of('{"kind": "monitoring-report", "project_id": "\\ud800"}')


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                     max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(sorted(report_json())), value=_json)
def test_any_json_in_any_field_gives_findings_or_a_valid_document(field: str, value: Any) -> None:
    data = report_json(**{field: value})
    result = read_document(data, kind="monitoring-report")
    assert result.document is not None or result.findings
    if result.document is not None:
        assert result.digest is not None and len(result.digest) == 64
    try:
        text = json.dumps(data, allow_nan=True)
    except (TypeError, ValueError):
        return
    again = validate_report(text)
    assert (again.document is None) == (result.document is None) or isinstance(value, float)


def test_quantities_and_measurements_are_bounded() -> None:
    assert "MRV.STRUCTURE" in rules_of(report_json(emission_reductions="1e30"), kind="monitoring-report")
    assert "MRV.STRUCTURE" in rules_of(report_json(emission_reductions="-1"), kind="monitoring-report")
    assert "MRV.STRUCTURE" in rules_of(report_json(emission_reductions="0.0000001"), kind="monitoring-report")
    ok = validate_report(report_json(emission_reductions=Decimal("123456789012345678.123456")))
    assert ok.document is not None

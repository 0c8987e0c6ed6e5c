"""The ITMO ledger replay (layer 4): interval arithmetic, date order, T4 reconciliation, severities."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from standards.aef.codec import AEF
from standards.aef.jsonio import read_json
from standards.aef.rules import CONFIGURABLE
from standards.aef.validate import validate_tables
from standards.aef.validate._intervals import IntervalMap
from standards.codec import Medium
from standards.errors import InvalidValue
from standards.findings import Severity

ROOT = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = json.loads((ROOT / "standards/examples/aef-v2-report.json").read_text())


def _use(first: int, last: int, when: str) -> dict[str, Any]:
    row = copy.deepcopy(BASE["Actions"][0])
    row.update({"ActionDateTime": when, "ActionType": "Use", "ActionSubtype": "Not yet defined",
                "FirstID": first, "LastID": last, "UnderlyingUnitFirstUnitID": first + 4500,
                "UnderlyingUnitLastUnitID": last + 4500, "QuantityCO2": last - first + 1,
                "AcquiringPartyID": "NA", "Using/cancellingPartyID": "GHA", "YearITMOUsedTowardsNDC": 2024})
    return row


def _findings(doc: dict[str, Any], **kwargs: Any) -> list[Any]:
    findings, _ = validate_tables(read_json(json.dumps(doc).encode()), **kwargs)
    return findings


def test_interval_map_assigns_splits_and_finds_gaps() -> None:
    m: IntervalMap[str] = IntervalMap()
    m.assign(1, 100, "a")
    m.assign(40, 60, "b")
    assert list(m) == [(1, 39, "a"), (40, 60, "b"), (61, 100, "a")]
    assert m.overlapping(50, 70) == [(50, 60, "b"), (61, 70, "a")]
    assert m.gaps(90, 120) == [(101, 120)]
    m.assign(30, 200, "c")
    assert list(m) == [(1, 29, "a"), (30, 200, "c")]
    assert m.gaps(0, 300) == [(0, 0), (201, 300)]


def test_use_after_transfer_away_points_at_the_use_row() -> None:
    doc = copy.deepcopy(BASE)
    doc["Actions"].append(_use(10, 20, "2024-07-01T00:00:00Z"))
    [finding] = _findings(doc)
    assert finding.rule == "AEF.LEDGER.NOT_HELD"
    assert finding.location.pointer == "/Actions/2/FirstID"
    assert "2024-02-20 (row 1)" in finding.message


def test_the_verdict_does_not_depend_on_row_order() -> None:
    doc = copy.deepcopy(BASE)
    doc["Actions"].append(_use(10, 20, "2024-07-01T00:00:00Z"))
    reversed_doc = copy.deepcopy(doc)
    reversed_doc["Actions"].reverse()
    assert [f.rule for f in _findings(doc)] == [f.rule for f in _findings(reversed_doc)]


def test_actions_after_31_december_are_left_out_of_the_replay() -> None:
    doc = copy.deepcopy(BASE)
    doc["Actions"][1]["ActionDateTime"] = "2025-01-02T00:00:00Z"
    doc["Holdings"][0].update({"FirstID": 20001, "UnderlyingUnitFirstUnitID": 24501, "QuantityCO2": 30000})
    assert {f.rule for f in _findings(doc)} == {"AEF.CROSS.ACTION_OUTSIDE_REPORTED_YEAR"}


def test_a_used_block_used_again_is_one_finding() -> None:
    doc = copy.deepcopy(BASE)
    doc["Holdings"][0].update({"FirstID": 32601, "UnderlyingUnitFirstUnitID": 37101, "QuantityCO2": 17400})
    doc["Actions"] += [_use(32501, 32600, "2024-07-01T00:00:00Z"), _use(32501, 32600, "2024-08-01T00:00:00Z")]
    assert [(f.rule, f.location.pointer) for f in _findings(doc)] == [
        ("AEF.LEDGER.NOT_HELD", "/Actions/3/FirstID")]


def test_severity_of_configurable_rules_can_be_overridden() -> None:
    doc = copy.deepcopy(BASE)
    doc["Actions"].append(_use(10, 20, "2024-07-01T00:00:00Z"))
    [finding] = _findings(doc, severities={"AEF.LEDGER.NOT_HELD": "warning"})
    assert finding.severity is Severity.WARNING
    assert "AEF.LEDGER.NOT_HELD" in CONFIGURABLE


@pytest.mark.parametrize("overrides", [{"AEF.LEDGER.SPENT_STILL_HELD": "warning"},
                                       {"AEF.LEDGER.NOT_HELD": "fatal"}])
def test_fixed_severities_and_unknown_severities_are_refused(overrides: dict[str, str]) -> None:
    with pytest.raises(InvalidValue):
        _findings(BASE, severities=overrides)


def test_without_table_1_the_holder_free_rules_still_run_and_the_rest_is_listed() -> None:
    doc = copy.deepcopy(BASE)
    del doc["Submission"]
    doc["Actions"][1].update({"FirstID": 19001, "QuantityCO2": 13500})
    report = AEF.validate(json.dumps(doc).encode(), medium=Medium.JSON)
    rules = {f.rule: f for f in report.findings}
    assert "AEF.LEDGER.FIRST_TRANSFER_TWICE" in rules
    listed = rules["AEF.T1.MISSING"].message
    for rule in ("AEF.CROSS.ACTION_OUTSIDE_REPORTED_YEAR", "AEF.LEDGER.NOT_HELD", "AEF.LEDGER.UNEXPLAINED_HOLDING"):
        assert rule in listed
    assert "AEF.LEDGER.FIRST_TRANSFER_TWICE" not in listed and "AEF.CROSS.AUTHORIZATION_UNKNOWN" not in listed


def test_an_actions_only_input_lists_the_joins_it_cannot_make() -> None:
    doc = {"format": "carbonlink/aef-json", "aefVersion": "2", "Actions": copy.deepcopy(BASE["Actions"])}
    report = AEF.validate(json.dumps(doc).encode(), medium=Medium.JSON)
    [finding] = report.findings
    assert finding.rule == "AEF.T1.MISSING" and not report.errors
    for rule in ("AEF.CROSS.AUTHORIZATION_UNKNOWN", "AEF.LEDGER.SPENT_STILL_HELD", "AEF.AUTH.METRIC_MISMATCH"):
        assert rule in finding.message


def test_ledger_scales_with_blocks_not_units() -> None:
    doc = copy.deepcopy(BASE)
    big = 10**12
    doc["Holdings"][0].update({"LastID": big, "UnderlyingUnitLastUnitID": big + 4500, "QuantityCO2": big - 32500})
    assert _findings(doc) == []

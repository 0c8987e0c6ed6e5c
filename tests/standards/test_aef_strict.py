"""Strict reading by default: NA only in conditional fields, no silent coercion, one finding per defect."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from standards.aef.codec import AEF, AefReport
from standards.codec import Medium
from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "standards/examples/aef-v2-report.json"
BASE: dict[str, Any] = json.loads(EXAMPLE.read_text())


def _report(doc: dict[str, Any], *, lenient: bool = False) -> AefReport:
    report = AEF.validate(json.dumps(doc).encode(), medium=Medium.JSON, lenient=lenient)
    assert isinstance(report, AefReport)
    return report


def _with(pointer: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    table, index, cn = pointer.strip("/").split("/")
    if value == "$absent":
        del doc[table][int(index)][cn]
    else:
        doc[table][int(index)][cn] = value
    return doc


@pytest.mark.parametrize("blank", [None, "", "   ", "$absent"])
def test_blanks_are_alike(blank: Any) -> None:
    findings = _report(_with("/Actions/0/ActionType", blank)).findings
    assert [(f.rule, f.location.pointer) for f in findings] == [
        ("AEF.STRUCTURE.REQUIRED", "/Actions/0/ActionType")]


def test_one_bad_cell_gives_one_finding() -> None:
    # "year or NA" is a union: pydantic reports one error per member, the report one finding
    findings = _report(_with("/Actions/0/YearITMOUsedTowardsNDC", "soon")).findings
    assert [(f.rule, f.location.pointer) for f in findings] == [
        ("AEF.FORMAT.YEAR", "/Actions/0/YearITMOUsedTowardsNDC")]


def test_na_in_a_required_field_is_an_error_that_says_so() -> None:
    [finding] = _report(_with("/Authorizations/0/Metric", "NA")).findings
    assert finding.rule == "AEF.STRUCTURE.REQUIRED" and "conditional" in finding.message


def test_an_alias_names_the_expected_value_and_is_a_warning_when_lenient() -> None:
    doc = _with("/Actions/0/Metric", "tCO2e")
    [strict] = _report(doc).findings
    assert strict.rule == "AEF.CODE_LIST.VALUE" and strict.is_error and "'GHG'" in strict.message
    [lenient] = _report(doc, lenient=True).findings
    assert lenient.rule == "AEF.CODE_LIST.SPELLING" and not lenient.is_error


def test_text_for_an_integer_is_refused_strictly_and_read_leniently() -> None:
    doc = _with("/Actions/0/Vintage", "2023")
    assert [f.rule for f in _report(doc).findings] == ["AEF.STRUCTURE.TYPE"]
    assert _report(doc, lenient=True).findings == []


def test_negative_quantity_is_one_error() -> None:
    assert [f.rule for f in _report(_with("/Authorizations/0/AuthorizedQuantity", -1)).findings] == [
        "AEF.QUANTITY.NEGATIVE"]


def test_every_report_shows_its_mode_and_the_rules_not_run() -> None:
    assert _report(BASE).as_dict()["mode"] == "strict"
    partial = {"format": "carbonlink/aef-json", "aefVersion": "2", "Actions": BASE["Actions"]}
    shown = _report(partial, lenient=True).as_dict()
    assert shown["mode"] == "lenient" and "AEF.CROSS.AUTHORIZATION_UNKNOWN" in shown["rulesNotRun"]


@pytest.mark.parametrize(("switch", "code", "mode"), [([], 1, "strict"), (["--lenient"], 0, "lenient")])
def test_cli_validate_switch(tmp_path: Path, switch: list[str], code: int, mode: str) -> None:
    path = tmp_path / "legacy.json"
    path.write_text(json.dumps(_with("/Actions/0/Metric", "tCO2e")))
    proc = run_cli("validate", str(path), *switch, cwd=ROOT)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert f"{mode} mode" in proc.stdout


def test_a_row_with_a_type_error_still_reports_its_blank_required_cells() -> None:
    doc = _with("/Actions/0/ActionType", "   ")
    doc["Actions"][0]["QuantityCO2"] = "lots"
    assert sorted(f.rule for f in _report(doc).findings) == ["AEF.STRUCTURE.REQUIRED", "AEF.STRUCTURE.TYPE"]

"""The case files' own checks: the schema refuses malformed files, the lint finds duplicate ids, unknown
rules and rules without a passing or a failing case; the built-in kits' files are clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import default_kits
from conformance.cases import CASES_ROOT, kit_cases, lint_cases, load_case_file
from conformance.errors import CaseFileInvalid

BASE = {"Actions": [{"AcquiringPartyID": "CHE"}]}


def _write(folder: Path, cases: list[dict[str, object]], **top: object) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "base.json").write_text(json.dumps(BASE))
    path = folder / "x.cases.json"
    path.write_text(json.dumps({"kit": "aef-messages", "base": "base.json", "cases": cases, **top}))
    return path


def _case(case_id: str, rule: str, expect: str) -> dict[str, object]:
    return {"id": case_id, "rule": rule, "expect": expect, "description": "d",
            "patch": [{"op": "replace", "path": "/Actions/0/AcquiringPartyID", "value": "CH"}]}


def test_the_schema_refuses_a_malformed_case_file(tmp_path: Path) -> None:
    bad = _case("c-a", "AEF.FORMAT.PARTY", "maybe")
    with pytest.raises(CaseFileInvalid, match="expect"):
        load_case_file(_write(tmp_path, [bad]))
    no_value = {**_case("c-a", "AEF.FORMAT.PARTY", "fail"), "patch": [{"op": "replace", "path": "/x"}]}
    with pytest.raises(CaseFileInvalid):
        load_case_file(_write(tmp_path, [no_value]))
    with pytest.raises(CaseFileInvalid, match="schema"):
        load_case_file(_write(tmp_path, [_case("c-a", "AEF.FORMAT.PARTY", "fail")], extra="field"))


def test_the_lint_finds_duplicates_unknown_rules_and_missing_cases(tmp_path: Path) -> None:
    path = _write(tmp_path, [_case("c-a", "AEF.FORMAT.PARTY", "fail"), _case("c-a", "AEF.FORMAT.PARTY", "fail"),
                             _case("c-b", "AEF.NO_SUCH_RULE", "pass")])
    problems = lint_cases(load_case_file(path), {"AEF.FORMAT.PARTY", "AEF.FORMAT.YEAR"})
    assert any("'c-a' already used" in p for p in problems)
    assert any("AEF.NO_SUCH_RULE" in p for p in problems)
    assert "rule AEF.FORMAT.PARTY has no passing case" in problems
    assert "rule AEF.FORMAT.YEAR has no passing case" in problems
    assert "rule AEF.FORMAT.YEAR has no failing case" in problems


def test_a_case_that_does_not_hold_is_reported(tmp_path: Path) -> None:
    kit = default_kits().get("aef-messages")
    base = CASES_ROOT / "aef-messages" / "bases" / "aef-v2-report.json"
    folder = tmp_path / "k"
    folder.mkdir()
    (folder / "base.json").write_text(base.read_text())
    wrong = _case("c-w", "AEF.FORMAT.PARTY", "pass")  # CH does fire AEF.FORMAT.PARTY
    (folder / "w.cases.json").write_text(json.dumps({"kit": "aef-messages", "base": "base.json", "cases": [wrong]}))
    (case,) = load_case_file(folder / "w.cases.json")
    holds, fired = case.holds(kit.fire)
    assert not holds and "AEF.FORMAT.PARTY" in fired


def test_every_message_kit_has_clean_cases() -> None:
    for kit in default_kits():
        cases_dir = getattr(kit, "cases_dir", None)
        if cases_dir is None:
            continue
        assert lint_cases(list(kit_cases(cases_dir)), kit.rule_ids) == [], kit.name


def test_progress_is_reported_per_message(aef_folder: Path) -> None:
    from conformance import Target, run_kit

    calls: list[tuple[int, int]] = []
    run_kit(default_kits().get("aef-messages"), Target(str(aef_folder)), progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]

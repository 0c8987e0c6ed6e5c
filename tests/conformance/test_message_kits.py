"""Message kits over files a vendor points at: one verdict per message and rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conformance import Target, Verdict, default_kits, run_kit
from conformance.errors import TargetUnusable
from tests.conformance.conftest import CADT_V2_EXAMPLE, ROOT


def _verdicts(run_results: list, subject: str) -> dict[str, Verdict]:
    return {r.test: r.verdict for r in run_results if r.subject == subject}


def test_aef_verdicts_per_message_and_rule(aef_folder: Path) -> None:
    run = run_kit(default_kits().get("aef-messages"), Target(str(aef_folder)))
    good, party, broken = (_verdicts(run.results, name) for name in ("good.json", "party.json", "broken.json"))
    assert set(good.values()) == {Verdict.PASS}
    assert [t for t, v in party.items() if v is Verdict.FAIL] == ["AEF.FORMAT.PARTY"]
    assert broken["READABLE"] is Verdict.FAIL
    assert {v for t, v in broken.items() if t != "READABLE"} == {Verdict.SKIP}
    assert not run.passed
    failed = next(r for r in run.results if r.subject == "party.json" and r.verdict is Verdict.FAIL)
    assert failed.observations[0].rule == "AEF.FORMAT.PARTY"
    assert "CH" in failed.observations[0].found and failed.observations[0].location


def test_aef_rules_that_cannot_run_are_omitted(tmp_path: Path) -> None:
    report = json.loads((ROOT / "standards/examples/aef-v2-report.json").read_text())
    del report["Submission"]
    (tmp_path / "no-t1.json").write_text(json.dumps(report))
    run = run_kit(default_kits().get("aef-messages"), Target(str(tmp_path / "no-t1.json")))
    omitted = [r.test for r in run.results if r.verdict is Verdict.OMIT]
    assert omitted, "rules that join Table 1 are omitted without it"
    assert all(r.reason for r in run.results if r.verdict is Verdict.OMIT)


def test_cadt_v2_node_document_passes_and_a_broken_one_fails(tmp_path: Path) -> None:
    kit = default_kits().get("cadt-v2-messages")
    assert run_kit(kit, Target(str(CADT_V2_EXAMPLE))).passed
    doc = json.loads(CADT_V2_EXAMPLE.read_text())
    first = next(iter(doc.values()))
    record = first[0] if isinstance(first, list) else first
    record["unexpectedField"] = "x"
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    run = run_kit(kit, Target(str(tmp_path / "bad.json")))
    assert "CADT.V2.UNKNOWN_KEY" in {r.test for r in run.results if r.verdict is Verdict.FAIL}


def test_registry_exports_conserve_quantities_and_serials(tmp_path: Path) -> None:
    kit = default_kits().get("registry-exports")
    run = run_kit(kit, Target(str(ROOT / "tests/fixtures/verra/transactions.csv")))
    assert run.passed
    verdicts = {r.test: r.verdict for r in run.results}
    assert verdicts["EXPORT.QUANTITY_CONSERVED"] is Verdict.PASS
    assert verdicts["EXPORT.SERIALS_CONSERVED"] is Verdict.PASS
    assert verdicts["EXPORT.BLOCK_LENGTH"] is Verdict.PASS


def test_registry_export_through_a_format_that_drops_units_fails_conservation() -> None:
    kit = default_kits().get("registry-exports")
    run = run_kit(kit, Target(str(ROOT / "tests/fixtures/verra/transactions.csv"), {"through": "cadt-v2"}))
    failed = {r.test for r in run.results if r.verdict is Verdict.FAIL}
    assert {"EXPORT.QUANTITY_CONSERVED", "EXPORT.SERIALS_CONSERVED"} <= failed


def test_a_missing_target_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(TargetUnusable):
        run_kit(default_kits().get("aef-messages"), Target(str(tmp_path / "absent")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(TargetUnusable, match="no message"):
        run_kit(default_kits().get("aef-messages"), Target(str(tmp_path / "empty")))


def test_a_folder_of_csv_tables_is_one_message(tmp_path: Path) -> None:
    from adapters import default_catalog
    from standards.codec import Medium

    aef = default_catalog().get("aef")
    parsed = aef.parse((ROOT / "standards/examples/aef-v2-report.json").read_bytes(), medium=Medium.JSON)
    written = aef.serialize(parsed.document, medium=Medium.CSV)
    folder = tmp_path / "submission"
    folder.mkdir()
    for name, data in (written.files or {}).items():
        (folder / name).write_bytes(data)
    if not written.files:
        shutil.copy(ROOT / "standards/examples/aef-v2-report.json", folder / "x.json")
        pytest.skip("the AEF writer gave one CSV file")
    run = run_kit(default_kits().get("aef-messages"), Target(str(tmp_path)))
    assert run.subjects() == ["submission"]
    assert run.passed


def test_cadt_v1_node_document_passes_and_linking_rules_are_left_out_of_the_run() -> None:
    kit = default_kits().get("cadt-v1-messages")
    run = run_kit(kit, Target(str(ROOT / "conformance/cases/cadt-v1-messages/bases/v1.json")))
    assert run.passed, [r for r in run.results if r.verdict is not Verdict.PASS]
    tested = {r.test for r in run.results}
    assert "CADT.V1.DERIVED" not in tested and "CADT.V1.DERIVED" in kit.rule_ids  # cased, not run on documents

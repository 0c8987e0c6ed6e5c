"""``carbonlink validate FILE`` without ``--format`` recognises registers of every bundled spreadsheet mapping,
not only the configured one, and says which mapping it chose."""

from __future__ import annotations

import json
from pathlib import Path

from adapters._detect_mapping import detect_spreadsheet_mapping
from standards import Medium
from tests.support.cli import run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "spreadsheet"


def test_a_register_of_a_bundled_mapping_is_detected_and_named() -> None:
    done = run_cli("validate", str(FIXTURES / "credit-blocks.csv"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "detected format spreadsheet (mapping credit-block-ledger)" in done.stderr
    assert "valid as spreadsheet (mapping credit-block-ledger) (5 records" in done.stdout


def test_json_report_of_a_detected_mapping(tmp_path: Path) -> None:
    done = run_cli("validate", str(FIXTURES / "credit-blocks.csv"), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["valid"] is True
    assert "mapping credit-block-ledger" in done.stderr


def test_the_mapping_is_chosen_by_content_not_by_name(tmp_path: Path) -> None:
    renamed = tmp_path / "export.csv"
    renamed.write_bytes((FIXTURES / "credit-blocks.csv").read_bytes())
    found = detect_spreadsheet_mapping(renamed.read_bytes(), medium=Medium.CSV)
    assert found is not None and found.mapping.spec.name == "credit-block-ledger"


def test_an_unknown_table_is_still_refused_with_one_message(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    assert detect_spreadsheet_mapping(other.read_bytes(), medium=Medium.CSV) is None
    done = run_cli("validate", str(other))
    assert done.returncode == 2 and "FORMAT.UNDETECTED" in done.stderr

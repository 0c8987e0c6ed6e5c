"""The UNDP AEF templates through the command line: ``--vocabulary-map`` on validate and translate."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook

from tests.standards.test_aef_undp_templates import FIRST_TRANSFER, USE, actions_workbook
from tests.support.cli import run_cli

REPORT = Path(__file__).resolve().parents[2] / "standards" / "examples" / "aef-v2-report.json"


def test_validate_takes_a_vocabulary_map_for_the_draft_aef(tmp_path: Path) -> None:
    book = tmp_path / "aef_actions.xlsx"
    book.write_bytes(actions_workbook([FIRST_TRANSFER, USE]))
    done = run_cli("validate", str(book), "--format", "aef-draft", "--vocabulary-map", "undp-ncr", "--json")
    report = json.loads(done.stdout)
    # read, and judged against AEF V2: the draft has no column for the authorization's version
    assert done.returncode == 1 and report["mode"] == "strict"
    assert {f["pointer"] for f in report["findings"]} >= {"/Authorizations/0/AuthorizationVersion"}


def test_translate_writes_the_template_layout_with_the_registry_labels(tmp_path: Path) -> None:
    out = tmp_path / "aef_actions.xlsx"
    done = run_cli("translate", str(REPORT), "--from", "aef", "--to", "aef-draft", "--vocabulary-map", "undp-ncr",
                   "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "loss: Actions.ActionSubtype" in done.stderr  # what the template has no column for is named
    sheet = load_workbook(out)["Actions"]
    first = json.loads(REPORT.read_bytes())["Actions"][0]
    assert (sheet["B3"].value, sheet["M11"].value) == ("GHA", "Energy")  # "Energy generation" as UNDP labels it
    assert sheet["I11"].value == first["QuantityCO2"] and sheet["I11"].data_type == "n"


def test_the_vocabulary_map_applies_to_the_draft_aef_only(tmp_path: Path) -> None:
    report = REPORT
    done = run_cli("validate", str(report), "--format", "aef", "--vocabulary-map", "undp-ncr")
    assert done.returncode == 2 and "--vocabulary-map applies to the draft AEF" in done.stderr
    missing = run_cli("translate", str(report), "--from", "aef", "--to", "aef-draft", "--vocabulary-map",
                      str(report.parent / "nothing.json"), "-o", str(tmp_path / "x.xlsx"))
    assert missing.returncode == 2 and "AEF.VOCABULARY_MAP" in missing.stderr

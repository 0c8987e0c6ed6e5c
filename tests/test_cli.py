"""The command line, driven in-process through its entry point: exit codes, JSON shapes, one-line errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.support.cli import CliResult, run_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "standards/examples/aef-v2-report.json"


def run(*args: str, env: dict[str, str] | None = None) -> CliResult:
    return run_cli(*args, env=env, cwd=ROOT)


def test_validate_valid_file_exits_0() -> None:
    proc = run("validate", str(EXAMPLE))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid as aef" in proc.stdout


def test_validate_json_output_shape_and_exit_1_on_errors(tmp_path: Path) -> None:
    doc = json.loads(EXAMPLE.read_text())
    doc["Actions"][0]["AcquiringPartyID"] = "NA"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    proc = run("validate", str(bad), "--json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["valid"] is False
    finding = next(f for f in report["findings"] if f["rule"] == "AEF.T3.ACQUIRING_PARTY_REQUIRED")
    assert set(finding) >= {"rule", "severity", "location", "message", "reference"}
    assert finding["severity"] == "error" and finding["location"] == "/Actions/0/AcquiringPartyID"


@pytest.mark.parametrize(("content", "code"), [
    (b"{not json", "INPUT.JSON"),
    (b"\xff\xfe\x00\xd8", "INPUT.ENCODING"),
    (b"[1, 2]", "AEF.JSON_SHAPE"),
    (b'{"Actions": {}}', "AEF.JSON_SHAPE"),
    ("{\"Submission\": {\"ParticipatingParty\": \"Gh\u00e2na\"}}".encode("latin-1"), "INPUT.ENCODING"),
])
def test_unreadable_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "in.json"
    path.write_bytes(content)
    # unreadable as JSON: every reader says so; JSON of the wrong shape is judged by the format named
    proc = run("validate", str(path), *(["--format", "aef"] if code.startswith("AEF.") else []))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and code in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_oversized_input_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2048 + EXAMPLE.read_bytes())
    proc = run("validate", str(path), env={"CARBONLINK_MAX_INPUT_BYTES": "1024"})
    assert proc.returncode == 2 and "INPUT.TOO_LARGE" in proc.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("validate").returncode == 2
    assert run("validate", str(EXAMPLE), "--standard", "nope").returncode == 2
    missing = run("validate", str(tmp_path / "absent.json"))
    assert missing.returncode == 2 and "INPUT.NOT_FOUND" in missing.stderr
    unknown_medium = run("validate", str(tmp_path / "x.docx"))
    assert unknown_medium.returncode == 2


def test_translate_aef_json_to_xlsx_and_back(tmp_path: Path) -> None:
    xlsx = tmp_path / "report.xlsx"
    proc = run("translate", str(EXAMPLE), "--from", "aef", "--to", "aef", "-o", str(xlsx))
    assert proc.returncode == 0, proc.stderr
    assert zipfile.is_zipfile(xlsx)
    back = run("translate", str(xlsx), "--from", "aef", "--to", "aef")
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout) == json.loads(EXAMPLE.read_text())


def test_translate_to_csv_folder(tmp_path: Path) -> None:
    out = tmp_path / "tables"
    proc = run("translate", str(EXAMPLE), "--from", "aef", "--to", "aef", "-o", str(out), "--medium", "csv")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["T1_Submission.csv", "T2_Authorizations.csv", "T3_Actions.csv",
                                                      "T4_Holdings.csv", "T5_AuthorizedEntities.csv"]
    again = run("validate", str(out))
    assert again.returncode == 0, again.stdout + again.stderr


def test_translate_refuses_invalid_source_with_findings(tmp_path: Path) -> None:
    doc = json.loads(EXAMPLE.read_text())
    doc["Actions"][0]["LastID"] = 19999
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    out = tmp_path / "out.xlsx"
    proc = run("translate", str(bad), "--from", "aef", "--to", "aef", "-o", str(out))
    assert proc.returncode == 1 and "AEF.BLOCK.QUANTITY" in proc.stdout
    assert not out.exists()


def test_rules_lists_the_catalogue() -> None:
    proc = run("rules", "--json")
    rules = json.loads(proc.stdout)
    ids = {r["rule"] for r in rules}
    assert "AEF.T3.ACQUIRING_PARTY_REQUIRED" in ids and "AEF.CROSS.BLOCK_OVERLAP" in ids
    assert all(r["reference"] and r["severity"] in ("error", "warning", "info") for r in rules)


def test_formats_lists_the_standards() -> None:
    proc = run("formats", "--json")
    names = {f["name"] for f in json.loads(proc.stdout)["formats"]}
    assert {"aef", "aef-draft", "canonical"} <= names


def test_no_command_runs_the_examples() -> None:
    proc = run()
    assert "aef-v2-report.json: valid as aef" in proc.stdout


def test_docs_rules_page_is_the_catalogue() -> None:
    proc = run("rules", "--markdown")
    assert proc.returncode == 0
    assert (ROOT / "docs/rules.md").read_text(encoding="utf-8") == proc.stdout, (
        "regenerate: carbonlink rules --markdown > docs/rules.md")

"""The command line a clerk expects: ``validate`` detects the format by header or shape and says so,
``--json`` answers on stdout, several output files go only into a folder or .zip archive named."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from adapters.translate import FormatNotDetected, detect_format
from standards.codec import Medium
from tests.support.cli import run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

#: An Isometric registry ``projects.csv`` (OffsetsDB shape): a projects file, not Verra's.
ISOMETRIC_PROJECTS = (b"id,name,short_code,description,country,supplier,protocol,status,created_at\r\n"
                      b"prj_1,Example removal,EXR,Biochar,US,Example Co,Biochar Production,ACTIVE,2024-01-02\r\n")


@pytest.mark.parametrize(("fixture", "expected"), [
    ("verra/transactions.csv", "verra"), ("verra/projects.csv", "verra"),
    ("gold-standard/issuances.csv", "gold-standard"), ("gold-standard/credits.json", "gold-standard"),
    ("apx/car-retirements.csv", "apx"), ("undp-ncr/aef-actions.csv", "undp-ncr"),
    ("undp-ncr/registry.json", "undp-ncr"), ("undp-ncr/golden-aef.json", "aef"),
    ("spreadsheet/itmo-ledger.xlsx", "spreadsheet"), ("des-xml/batch.xml", "des-xml"),
])
def test_formats_are_detected_by_header_or_shape(fixture: str, expected: str) -> None:
    path = FIXTURES / fixture
    assert detect_format(path.read_bytes(), medium=Medium.from_name(path)) == expected


def test_validate_without_format_names_what_it_detected() -> None:
    done = run_cli("validate", str(FIXTURES / "verra" / "transactions.csv"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "detected format verra" in done.stderr and "valid as verra" in done.stdout


def test_isometric_projects_is_not_taken_for_verra(tmp_path: Path) -> None:
    with pytest.raises(FormatNotDetected):
        detect_format(ISOMETRIC_PROJECTS, medium=Medium.CSV)
    path = tmp_path / "projects.csv"
    path.write_bytes(ISOMETRIC_PROJECTS)
    done = run_cli("validate", str(path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "FORMAT.UNDETECTED" in done.stderr and "--format" in done.stderr
    as_json = run_cli("validate", str(path), "--json")
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout)["error"]["code"] == "FORMAT.UNDETECTED"


def test_json_goes_to_stdout_on_success_and_refusal(tmp_path: Path) -> None:
    ok = run_cli("translate", str(FIXTURES / "verra" / "transactions.csv"), "--from", "verra", "--to", "canonical",
                 "-o", str(tmp_path / "c.json"), "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["records_written"] == 7
    refused = run_cli("translate", str(FIXTURES / "verra" / "transactions.csv"), "--from", "verra", "--to", "aef",
                      "-o", str(tmp_path / "a.json"), "--json")
    assert refused.returncode == 1 and "TRANSLATION.EMPTY" in json.loads(refused.stdout)["message"]
    valid = run_cli("validate", str(FIXTURES / "verra" / "transactions.csv"), "--json")
    assert valid.returncode == 0 and json.loads(valid.stdout)["valid"] is True
    without_output = run_cli("translate", str(FIXTURES / "verra" / "transactions.csv"), "--from", "verra",
                             "--to", "canonical", "--json")
    assert without_output.returncode == 2 and "-o FILE" in without_output.stderr


def _two_table_canonical(tmp_path: Path) -> Path:
    """A canonical document with Verra projects and units: written as Verra, it is two files."""
    parts = []
    for name in ("transactions", "projects"):
        out = tmp_path / f"{name}.json"
        assert run_cli("translate", str(FIXTURES / "verra" / f"{name}.csv"), "--from", "verra", "--to", "canonical",
                       "-o", str(out)).returncode == 0
        parts.append(json.loads(out.read_text(encoding="utf-8")))
    parts[0]["projects"] = parts[1]["projects"]
    both = tmp_path / "both.json"
    both.write_text(json.dumps(parts[0]), encoding="utf-8")
    return both


def test_several_files_need_a_folder_or_archive(tmp_path: Path) -> None:
    source = _two_table_canonical(tmp_path)
    args = ("translate", str(source), "--from", "canonical", "--to", "verra")
    one_file = run_cli(*args, "-o", str(tmp_path / "out.csv"))
    assert one_file.returncode == 2 and "CLI.OUTPUT_FILES" in one_file.stderr
    assert f"-o {tmp_path / 'out'}" in one_file.stderr and not (tmp_path / "out.csv").exists()
    assert run_cli(*args).returncode == 2  # nor on stdout
    folder = run_cli(*args, "-o", str(tmp_path / "out"))
    assert folder.returncode == 0, folder.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["projects.csv", "transactions.csv"]
    archive = run_cli(*args, "-o", str(tmp_path / "out.zip"))
    assert archive.returncode == 0, archive.stderr
    with zipfile.ZipFile(tmp_path / "out.zip") as opened:
        assert sorted(opened.namelist()) == ["projects.csv", "transactions.csv"]


def test_a_csv_no_reader_can_decode_says_why(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"ID,Name,Status\r\n1,Gh\xe2na,Registered\r\n")
    done = run_cli("validate", str(path))
    assert done.returncode == 2 and "INPUT.ENCODING" in done.stderr

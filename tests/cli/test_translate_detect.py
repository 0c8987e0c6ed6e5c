"""``carbonlink translate`` without ``--from`` detects the source format as ``validate`` does, says which it
chose (stderr and the ``--json`` summary), and refuses an input no format recognises with one coded message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize(("inputs", "expected"), [
    (["verra/transactions.csv"], "verra"),
    (["gold-standard/issuances.csv"], "gold-standard"),
    (["apx/car-issuances.csv", "apx/car-retirements.csv"], "apx"),
])
def test_translate_without_from_detects_and_names_the_format(tmp_path: Path, inputs: list[str],
                                                             expected: str) -> None:
    out = tmp_path / "c.json"
    done = run_cli("translate", *(str(FIXTURES / name) for name in inputs), "--to", "canonical", "-o", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"detected format {expected} (name another with --from)" in done.stderr
    named = run_cli("translate", *(str(FIXTURES / name) for name in inputs), "--from", expected, "--to",
                    "canonical", "-o", str(tmp_path / "named.json"))
    assert named.returncode == 0 and "detected format" not in named.stderr
    assert out.read_bytes() == (tmp_path / "named.json").read_bytes()  # the same translation as with --from


def test_the_json_summary_names_the_detected_format(tmp_path: Path) -> None:
    done = run_cli("translate", str(FIXTURES / "spreadsheet" / "credit-blocks.csv"), "--to", "canonical",
                   "-o", str(tmp_path / "c.json"), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert summary["from"] == "spreadsheet" and summary["detected"] == "spreadsheet (mapping credit-block-ledger)"
    assert summary["records_written"] == 5
    given = run_cli("translate", str(FIXTURES / "verra" / "transactions.csv"), "--from", "verra", "--to",
                    "canonical", "-o", str(tmp_path / "v.json"), "--json")
    assert json.loads(given.stdout)["detected"] is None


def test_an_unrecognised_input_is_refused_with_one_coded_message(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    out = tmp_path / "out.json"
    done = run_cli("translate", str(other), "--to", "cadt-v1", "-o", str(out))
    assert done.returncode == 2 and not out.exists()
    assert done.stderr.count("\n") == 1 and "FORMAT.UNDETECTED" in done.stderr and "--from" in done.stderr
    as_json = run_cli("translate", str(other), "--to", "cadt-v1", "-o", str(out), "--json")
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["error"]["code"] == "FORMAT.UNDETECTED"


def test_source_options_are_checked_against_the_detected_format(tmp_path: Path) -> None:
    done = run_cli("translate", str(FIXTURES / "verra" / "transactions.csv"), "--to", "canonical",
                   "--date-order", "dmy", "-o", str(tmp_path / "c.json"))
    assert done.returncode == 2 and "--date-order applies to APX input" in done.stderr

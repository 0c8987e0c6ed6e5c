"""``carbonlink translate`` writes nothing hollow: every output is validated, one file or several; the
summary counts records written and lost; losing records needs ``--accept-losses``; the documented
examples produce real output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
PROFILE = ROOT / "bench" / "cadt_operator_profile.yaml"


def test_the_old_readme_example_carries_nothing_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    done = run_cli("translate", str(FIXTURES / "verra" / "transactions.csv"), "--from", "verra", "--to", "aef",
                   "-o", str(out))
    assert done.returncode == 1
    assert "TRANSLATION.EMPTY" in done.stderr and "no record could be carried" in done.stderr
    assert "wrote" not in done.stderr and not out.exists()


def test_several_files_are_validated_before_any_is_written(tmp_path: Path) -> None:
    out = tmp_path / "gs"
    done = run_cli("translate", str(FIXTURES / "verra" / "transactions.csv"), "--from", "verra",
                   "--to", "gold-standard", "-o", str(out))
    assert done.returncode == 1
    assert "GOLD_STANDARD.GSID" in done.stdout and "retirements.csv: " in done.stdout
    assert not out.exists()


def test_aef_csv_tables_are_validated_together(tmp_path: Path) -> None:
    out = tmp_path / "tables"
    done = run_cli("translate", str(FIXTURES / "undp-ncr" / "aef-actions.csv"), "--from", "undp-ncr", "--to", "aef",
                   "--medium", "csv", "-o", str(out))
    assert done.returncode == 1 and "AEF.STRUCTURE.REQUIRED" in done.stdout
    assert not out.exists()


def test_losing_whole_records_needs_accept_losses(tmp_path: Path) -> None:
    out = tmp_path / "units.json"
    args = ("translate", str(FIXTURES / "verra" / "transactions.csv"), "--from", "verra", "--to", "cadt-v1",
            "--profile", str(PROFILE), "-o", str(out))
    refused = run_cli(*args)
    assert refused.returncode == 1 and not out.exists()
    accepted = run_cli(*args, "--accept-losses")
    assert accepted.returncode == 0, accepted.stderr
    assert "(6 of 7 records written, 1 lost)" in accepted.stderr
    assert len(json.loads(out.read_text(encoding="utf-8"))["units"]) == 6


def test_json_summary_counts_records_written_and_lost(tmp_path: Path) -> None:
    done = run_cli("translate", str(FIXTURES / "verra" / "transactions.csv"), "--from", "verra", "--to", "cadt-v1",
                   "--profile", str(PROFILE), "--accept-losses", "--json", "-o", str(tmp_path / "u.json"))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout or done.stderr)
    assert (summary["records"], summary["records_written"], summary["records_lost"]) == (7, 6, 1)


def test_accept_losses_applies_to_every_target(tmp_path: Path) -> None:
    done = run_cli("translate", str(FIXTURES / "verra" / "transactions.csv"), "--from", "verra", "--to",
                   "canonical", "--accept-losses", "-o", str(tmp_path / "c.json"))
    assert done.returncode == 0, done.stderr


EXAMPLES = [  # (document, fixture, arguments after the file)
    ("README.md", "spreadsheet/itmo-ledger.xlsx", ["--from", "spreadsheet", "--to", "aef", "-o", "report.xlsx"]),
    ("README.md", "verra/transactions.csv", ["--from", "verra", "--to", "cadt-v1", "--profile", "operator.yaml",
                                             "--accept-losses", "-o", "units.json"]),
    ("docs/adapters/apx.md", "apx/acr-retirements.csv", ["--from", "apx", "--to", "canonical", "-o", "units.json"]),
    ("docs/adapters/gold-standard.md", "gold-standard/issuances.csv",
     ["--from", "gold-standard", "--to", "canonical", "-o", "units.json"]),
    ("docs/adapters/verra.md", "verra/projects.csv", ["--from", "verra", "--to", "cadt-v1", "--profile",
                                                      "operator.yaml", "-o", "projects.json"]),
    ("docs/adapters/spreadsheet.md", "spreadsheet/itmo-ledger.xlsx", ["--from", "spreadsheet", "--to", "aef",
                                                                      "-o", "aef.json"]),
    ("docs/adapters/des-xml.md", "des-xml/batch.xml", ["--from", "des-xml", "--to", "canonical", "-o",
                                                       "archive.json"]),
    ("docs/adapters/undp-ncr.md", "undp-ncr/aef-actions.csv", ["--from", "undp-ncr", "--to", "cadt-v2", "-o",
                                                               "cadt.json"]),
]


@pytest.mark.parametrize(("document", "fixture", "args"), EXAMPLES, ids=[f"{d}:{f}" for d, f, _ in EXAMPLES])
def test_documented_examples_write_real_output(tmp_path: Path, document: str, fixture: str,
                                               args: list[str]) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    shown = " ".join(args)
    assert shown in text, f"{document} no longer shows `... {shown}`"
    argv = [str(PROFILE) if a == "operator.yaml" else str(tmp_path / a) if a == args[-1] else a for a in args]
    done = run_cli("translate", str(FIXTURES / fixture), *argv,
                   env={"CARBONLINK_UNDP_REGISTRY_SUFFIX": "01",
                        "CARBONLINK_UNDP_MITIGATION_TYPE": "Emission reductions"})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / args[-1]).stat().st_size > 0
    assert " of " in done.stderr and " 0 of " not in done.stderr


@pytest.mark.parametrize("layout", ["carbonlink", "peer"])
def test_aef_workbooks_are_written_in_either_layout_and_read_back_the_same(tmp_path: Path, layout: str) -> None:
    report = ROOT / "standards" / "examples" / "aef-v2-report.json"
    book = tmp_path / f"{layout}.xlsx"
    done = run_cli("translate", str(report), "--from", "aef", "--to", "aef", "--xlsx-layout", layout, "-o", str(book))
    assert done.returncode == 0, done.stderr
    back = tmp_path / "back.json"
    again = run_cli("translate", str(book), "--from", "aef", "--to", "aef", "-o", str(back))
    assert again.returncode == 0, again.stderr
    source, copy = json.loads(report.read_bytes()), json.loads(back.read_bytes())
    for table in ("Submission", "Authorizations", "Actions", "Holdings", "AuthorizedEntities"):
        assert source[table] and copy[table] == source[table], table
    from openpyxl import load_workbook

    first_sheet_header = [c.value for c in next(load_workbook(book).worksheets[-1].iter_rows(max_row=1))]
    assert (first_sheet_header[0] is None) == (layout == "peer")  # the peer template keeps column A empty


def test_the_workbook_layout_applies_to_aef_output_only(tmp_path: Path) -> None:
    done = run_cli("translate", str(FIXTURES / "verra" / "transactions.csv"), "--from", "verra", "--to", "canonical",
                   "--xlsx-layout", "peer", "-o", str(tmp_path / "x.json"))
    assert done.returncode == 2 and "--xlsx-layout applies to AEF output" in done.stderr


def test_legacy_aef_translates_only_when_read_leniently(tmp_path: Path) -> None:
    legacy = json.loads((ROOT / "standards" / "examples" / "aef-v2-report.json").read_bytes())
    legacy["Actions"][0]["Metric"] = "tCO2e"  # an alias of the controlled value GHG
    source = tmp_path / "legacy.json"
    source.write_text(json.dumps(legacy), encoding="utf-8")
    out = tmp_path / "out.json"
    strict = run_cli("translate", str(source), "--from", "aef", "--to", "canonical", "-o", str(out))
    assert strict.returncode == 1 and not out.exists()
    lenient = run_cli("translate", str(source), "--from", "aef", "--to", "canonical", "--lenient", "-o", str(out))
    assert lenient.returncode == 0, lenient.stderr
    metrics = {action["metric"] for action in json.loads(out.read_bytes())["actions"]}
    assert metrics == {"GHG"}  # the alias is read as the value it stands for
    refused = run_cli("translate", str(FIXTURES / "verra" / "transactions.csv"), "--from", "verra", "--to",
                      "canonical", "--lenient", "-o", str(tmp_path / "x.json"))
    assert refused.returncode == 2 and "--lenient applies to AEF input" in refused.stderr

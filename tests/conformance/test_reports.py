"""Reports: JSON valid against the published schema, JUnit XML, and the HTML page rendered in Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from jsonschema import Draft202012Validator

from conformance import Target, default_kits, run_kit
from conformance.reports import result_schema, write_reports

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def written(aef_folder: Path, tmp_path: Path) -> Path:
    run = run_kit(default_kits().get("aef-messages"), Target(str(aef_folder)))
    write_reports(run, tmp_path / "report", ["json", "junit", "html"])
    return tmp_path / "report"


def test_json_report_is_valid_against_the_published_schema(written: Path) -> None:
    document = json.loads((written / "results.json").read_text())
    Draft202012Validator.check_schema(result_schema())
    errors = list(Draft202012Validator(result_schema()).iter_errors(document))
    assert not errors, errors[:3]
    assert document["passed"] is False
    assert document["counts"]["fail"] == 2  # party.json's AEF.FORMAT.PARTY and broken.json's READABLE


def test_the_committed_schema_is_the_packaged_one() -> None:
    root = Path(__file__).resolve().parents[2]
    assert json.loads((root / "conformance/schema/result.schema.json").read_text()) == result_schema()


def test_junit_counts_and_names_failures(written: Path) -> None:
    root = ET.parse(written / "junit.xml").getroot()
    assert root.get("failures") == "2"
    failures = [case for case in root.iter("testcase") if case.find("failure") is not None]
    assert sorted(case.get("name") or "" for case in failures) == ["AEF.FORMAT.PARTY", "READABLE"]
    clause = failures[0].find("properties/property")
    assert clause is not None and clause.get("name") == "clause" and clause.get("value")


def test_html_is_self_contained_summary_and_failures_first(written: Path) -> None:
    page = (written / "report.html").read_text()
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    assert page.index('id="summary"') < page.index('id="failures"') < page.index('id="tests"')
    failures = page[page.index('id="failures"'):page.index('id="tests"')]
    assert failures.index("AEF.FORMAT.PARTY") < failures.index("AEF.STRUCTURE.REQUIRED")  # failures before skips


def test_html_renders_in_headless_chromium(written: Path, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    profile = tmp_path / "chromium-profile"
    shot = tmp_path / "report.png"
    page = (written / "report.html").as_uri()
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              f"--user-data-dir={profile}"]
    dom = subprocess.run([*common, "--dump-dom", page], capture_output=True, text=True, timeout=90, check=True)
    assert "NOT PASSED" in dom.stdout
    assert "AEF.FORMAT.PARTY" in dom.stdout and "party.json" in dom.stdout
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,900", page],
                   capture_output=True, timeout=90, check=True)
    assert shot.stat().st_size > 5_000  # a rendered page, not an empty canvas

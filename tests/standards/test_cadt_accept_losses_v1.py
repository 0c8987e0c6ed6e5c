"""``--accept-losses`` for ``cadt-v1``: a record without a serial block (an issuance row of a Cercarbono export
with no unit range: ``unitBlockStart`` is required) is named by the linker with the reason (``SOURCE_MISSING``) and
by the validator (``REQUIRED``), is left out and listed as a lost record instead of failing the whole translation;
each serial-less record left out is counted once."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
CERCARBONO = [str(ROOT / "tests" / "fixtures" / "cercarbono" / name)
              for name in ("projects.csv", "issuances.csv", "retirements.csv")]
PROFILE = str(ROOT / "bench" / "cadt_operator_profile_registries.yaml")


def test_records_only_the_validator_refuses_are_left_out(tmp_path: Path) -> None:
    out = tmp_path / "v1.json"
    refused = run_cli("translate", *CERCARBONO, "--from", "cercarbono", "--to", "cadt-v1", "--profile", PROFILE,
                      "-o", str(out), "--json")
    assert refused.returncode == 1 and not out.exists()
    errors = [f for f in json.loads(refused.stdout)["findings"] if f["severity"] == "error"]
    assert {f["rule"] for f in errors} == {"CADT.V1.REQUIRED", "CADT.V1.SOURCE_MISSING"}
    reasons = [f for f in errors if f["rule"] == "CADT.V1.SOURCE_MISSING"]
    assert reasons and all("gives no first and last unit" in f["message"] for f in reasons)
    assert {str(f["location"]).split("/")[2] for f in reasons} == {str(f["location"]).split("/")[2] for f in errors}
    refused_units = {str(f["location"]).split("/")[2] for f in errors}
    done = run_cli("translate", *CERCARBONO, "--from", "cercarbono", "--to", "cadt-v1", "--profile", PROFILE,
                   "--accept-losses", "-o", str(out), "--json")
    assert done.returncode == 0, done.stdout
    summary = json.loads(done.stdout)
    lost = [loss for loss in summary["losses"] if loss["field"] == "units.record"]
    assert len(lost) == 1 and len(lost[0]["records"]) == len(refused_units) == summary["records_lost"]
    assert "CADT.V1.SOURCE_MISSING" in lost[0]["reason"]
    doc = json.loads(out.read_bytes())
    assert all("unitBlockStart" in unit and "unitBlockEnd" in unit for unit in doc["units"])
    assert len(doc["units"]) + len(refused_units) == summary["records"] - len(doc["projects"])
    assert not any(f["severity"] == "error" for f in summary["findings"])

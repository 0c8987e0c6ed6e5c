"""The CAD Trust v1 vocabulary files of Cercarbono, Isometric and CARB: every value they map to is in the
node's picklists, and the command line writes a linked document from the exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from standards.cadt.spec import DATA
from tests.adapters.registry_samples import FIXTURES, PROFILE
from tests.support.cli import run_cli

LISTS = json.loads((DATA / "picklists-v1-1.7.24.json").read_text(encoding="utf-8"))["lists"]


@pytest.mark.parametrize("stem", ["cercarbono", "isometric", "carb"])
def test_every_mapped_value_is_in_the_node_picklists(stem: str) -> None:
    vocab = json.loads((DATA / "vocab" / f"{stem}.json").read_text(encoding="utf-8"))
    assert vocab["registry"] == stem and vocab["unitMetric"] in LISTS["unitMetric"]
    assert set(vocab["sector"].values()) <= set(LISTS["projectSector"])
    assert set(vocab["projectStatus"].values()) <= set(LISTS["projectStatusValues"])
    assert vocab["issuedProjectStatus"] in LISTS["projectStatusValues"]
    for table in ("unitTypeByMethodology", "unitTypeByProjectType"):
        assert set(vocab[table].values()) <= set(LISTS["unitType"])


def test_cercarbono_retirements_translate_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "projects.json"
    done = run_cli("translate", str(FIXTURES / "cercarbono" / "projects.csv"), "--from", "cercarbono",
                   "--to", "cadt-v1", "--profile", str(PROFILE), "-o", str(out))
    assert done.returncode == 0, done.stderr
    projects = json.loads(out.read_text(encoding="utf-8"))["projects"]
    assert [p["projectId"] for p in projects] == ["1", "7"]
    assert all(p["registryOfOrigin"] == "EcoRegistry" for p in projects)
    refused = run_cli("translate", str(FIXTURES / "cercarbono" / "retirements.csv"), "--from", "cercarbono",
                      "--to", "cadt-v1", "--profile", str(PROFILE), "-o", str(tmp_path / "units.json"))
    # alone, retirements give no project developer and no monitoring period: refused, nothing written
    assert refused.returncode == 1 and "nothing was written" in refused.stderr
    assert not (tmp_path / "units.json").exists()

"""Fixtures of the conformance suite's tests: message folders a vendor would point the suite at."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AEF_EXAMPLE = ROOT / "standards/examples/aef-v2-report.json"
CADT_V2_EXAMPLE = ROOT / "standards/examples/cadt-v2-aef.json"


def aef_report() -> dict[str, Any]:
    report: dict[str, Any] = json.loads(AEF_EXAMPLE.read_text(encoding="utf-8"))
    return report


@pytest.fixture
def aef_folder(tmp_path: Path) -> Path:
    """good.json (valid), party.json (an alpha-2 Party: AEF.FORMAT.PARTY only), broken.json (not JSON)."""
    folder = tmp_path / "messages"
    folder.mkdir()
    shutil.copy(AEF_EXAMPLE, folder / "good.json")
    bad = aef_report()
    bad["Actions"][0]["AcquiringPartyID"] = "CH"
    (folder / "party.json").write_text(json.dumps(bad), encoding="utf-8")
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    return folder


@pytest.fixture
def good_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "good"
    folder.mkdir()
    shutil.copy(AEF_EXAMPLE, folder / "good.json")
    return folder

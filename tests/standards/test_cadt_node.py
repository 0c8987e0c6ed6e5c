"""Against a real CADT 1.7.x node: every record carbonlink writes and does not itself flag is accepted,
and reads back with its serial block and quantity. Skipped unless ``CARBONLINK_CADT_NODE_URL`` names a
node (``CARBONLINK_CADT_API_KEY`` its key); see docs/cadtrust.md for running one locally."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.cadt_node_check import Node, request_body, run
from bench.verra_sample import write
from standards.cadt.operator import load_operator_profile, operator_profile_from
from tests.standards.test_cadt_linking import PROFILE

NODE_URL = os.environ.get("CARBONLINK_CADT_NODE_URL")
ROOT = Path(__file__).resolve().parents[2]


def test_request_body_drops_the_node_s_own_keys() -> None:
    body = request_body({"warehouseUnitId": "u", "issuanceId": "i", "unitCount": 3,
                         "issuance": {"id": "i", "warehouseProjectId": "p", "startDate": "2020-01-01"}})
    assert body == {"unitCount": 3, "issuance": {"startDate": "2020-01-01"}}


@pytest.mark.skipif(not NODE_URL, reason="no CADT node: set CARBONLINK_CADT_NODE_URL (and CARBONLINK_CADT_API_KEY)")
def test_a_real_node_accepts_every_record_carbonlink_does_not_flag(tmp_path: Path) -> None:
    assert NODE_URL is not None
    exports = list(write(tmp_path, rows=24, projects=8))
    node = Node(NODE_URL, os.environ.get("CARBONLINK_CADT_API_KEY", ""))
    report = run(exports[::-1], "verra", node, operator_profile_from(PROFILE, "test profile"), unchecked=False)
    assert report.counts("projects")["rejected"] == 0, report.as_dict()["rejected"]
    assert report.counts("units")["rejected"] == 0, report.as_dict()["rejected"]
    assert report.readback["serial_blocks_and_counts_conserved"]
    assert report.readback["units_linked_to_issuance"] == report.counts("units")["accepted"]


@pytest.mark.skipif(not NODE_URL, reason="no CADT node: set CARBONLINK_CADT_NODE_URL (and CARBONLINK_CADT_API_KEY)")
def test_a_real_node_accepts_linked_acr_units_and_issuances() -> None:
    assert NODE_URL is not None
    apx = ROOT / "tests" / "fixtures" / "apx"
    exports = [apx / "acr-projects.csv", apx / "acr-issuances.csv", apx / "acr-retirements.csv"]
    node = Node(NODE_URL, os.environ.get("CARBONLINK_CADT_API_KEY", ""))
    profile = load_operator_profile(ROOT / "bench" / "cadt_operator_profile_apx.yaml")
    report = run(exports, "apx", node, profile, unchecked=False)
    assert report.translation["carbonlink_errors"] == 0, report.translation
    assert report.counts("projects") == {"posted": 2, "accepted": 2, "rejected": 0}
    assert report.counts("units") == {"posted": 2, "accepted": 2, "rejected": 0}
    assert report.readback["serial_blocks_and_counts_conserved"]
    assert report.readback["units_linked_to_issuance"] == 2

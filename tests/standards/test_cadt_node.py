"""Against a real CADT 1.7.x node: every record carbonlink writes and does not itself flag is accepted,
and reads back with its serial block and quantity. Skipped unless ``CARBONLINK_CADT_NODE_URL`` names a
node (``CARBONLINK_CADT_API_KEY`` its key); see docs/cadtrust.md for running one locally."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from adapters import default_catalog
from bench.cadt_node_check import Node, carbonlink_document, request_body, run
from bench.verra_sample import write
from standards import Medium
from standards.cadt.codec import CadtV2Codec
from standards.cadt.operator import load_operator_profile, operator_profile_from
from tests.standards.test_cadt_linking import PROFILE
from tests.support.cli import run_cli

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


FIXTURES = ROOT / "tests" / "fixtures"
#: The bundled public exports (tests/fixtures, each shaped as the registry publishes it), read as
#: `carbonlink translate A B C --from SOURCE` reads them, with the operator profile of bench/.
BUNDLED_EXPORTS = {
    "verra": ("verra", ["verra/projects.csv", "verra/transactions.csv"], "cadt_operator_profile.yaml"),
    "gold-standard": ("gold-standard", ["gold-standard/projects.csv", "gold-standard/issuances.csv",
                                        "gold-standard/retirements.csv"], "cadt_operator_profile_gold_standard.yaml"),
    "acr": ("apx", ["apx/acr-projects.csv", "apx/acr-issuances.csv", "apx/acr-retirements.csv",
                    "apx/acr-cancellations.csv"], "cadt_operator_profile_apx.yaml"),
    "car": ("apx", ["apx/car-issuances.csv", "apx/car-retirements.csv"], "cadt_operator_profile_apx.yaml"),
    "art-trees": ("apx", ["apx/art-projects.csv", "apx/art-retirements.csv"], "cadt_operator_profile_apx.yaml"),
    "cercarbono": ("cercarbono", ["cercarbono/projects.csv", "cercarbono/issuances.csv",
                                  "cercarbono/retirements.csv"], "cadt_operator_profile_registries.yaml"),
    "isometric": ("isometric", ["isometric/projects.csv", "isometric/issuances.csv", "isometric/credit-batches.csv",
                                "isometric/retirements.csv"], "cadt_operator_profile_registries.yaml"),
    "carb": ("carb", ["carb/issuance-table.csv"], "cadt_operator_profile_registries.yaml"),
}


@pytest.mark.parametrize("export", sorted(BUNDLED_EXPORTS))
def test_every_bundled_export_translates_to_v1_with_its_flags_named(export: str) -> None:
    """In process (no node): what the node check posts, and that every record it leaves out has a coded finding."""
    source, names, profile = BUNDLED_EXPORTS[export]
    doc, summary = carbonlink_document([FIXTURES / n for n in names], source,
                                       load_operator_profile(ROOT / "bench" / profile), unchecked=False)
    assert summary["source_errors"] == 0
    assert len(doc["projects"]) == summary["projects_written"] - summary["projects_flagged"]
    assert len(doc["units"]) == summary["units_written"] - summary["units_flagged"]
    assert doc["projects"] or doc["units"], summary
    flagged = summary["projects_flagged"] + summary["units_flagged"]
    assert bool(flagged) == bool(summary["carbonlink_rules"]), summary
    assert all(rule.startswith("CADT.V1.") for rule in summary["carbonlink_rules"])


#: v2 links a record to the record it hangs on: (resource, its link field, the resource the link names).
V2_LINKS = [(r, "cadTrustProjectId", "project") for r in ("location", "stakeholder", "project-methodology",
                                                          "verification")] + [
    ("project-methodology", "cadTrustMethodologyId", "methodology"),
    ("issuance", "cadTrustVerificationId", "verification"), ("issuance", "cadTrustLocationId", "location"),
    ("issuance", "cadTrustProjectMethodologyId", "project-methodology"), ("unit", "cadTrustIssuanceId", "issuance")]
V2_KEYS = {"project": "cadTrustProjectId", "methodology": "cadTrustMethodologyId", "location": "cadTrustLocationId",
           "verification": "cadTrustVerificationId", "project-methodology": "cadTrustProjectMethodologyId",
           "issuance": "cadTrustIssuanceId"}


@pytest.mark.parametrize("export", sorted(BUNDLED_EXPORTS))
def test_every_bundled_export_translates_to_v2_linked_and_valid(export: str, tmp_path: Path) -> None:
    """No node has v2 routes: the v2 document is checked by carbonlink's validator (data dictionary v2.0.2).
    ``carbonlink translate ... --to cadt-v2 --accept-losses`` writes projects, every link names a record of the
    document, and what is left out is counted."""
    source, names, profile = BUNDLED_EXPORTS[export]
    out = tmp_path / "v2.json"
    done = run_cli("translate", *(str(FIXTURES / n) for n in names), "--from", source, "--to", "cadt-v2",
                   "--profile", str(ROOT / "bench" / profile), "--accept-losses", "-o", str(out), "--json")
    assert done.returncode == 0, done.stdout
    summary = json.loads(done.stdout)
    doc = json.loads(out.read_bytes())
    assert doc["project"] and summary["records_written"] > 0
    assert summary["records_written"] + summary["records_lost"] == summary["records"]
    for resource, link, target in V2_LINKS:
        known = {record[V2_KEYS[target]] for record in doc.get(target, [])}
        assert all(record[link] in known for record in doc.get(resource, [])), (resource, link)
    checked = CadtV2Codec().validate(out.read_bytes(), medium=Medium.JSON)
    assert not [f for f in checked.findings if f.is_error], checked.findings


@pytest.mark.skipif(not NODE_URL, reason="no CADT node: set CARBONLINK_CADT_NODE_URL (and CARBONLINK_CADT_API_KEY)")
@pytest.mark.parametrize("export", sorted(BUNDLED_EXPORTS))
def test_a_real_node_accepts_every_record_of_each_bundled_export_carbonlink_does_not_flag(export: str) -> None:
    assert NODE_URL is not None
    source, names, profile = BUNDLED_EXPORTS[export]
    node = Node(NODE_URL, os.environ.get("CARBONLINK_CADT_API_KEY", ""))
    report = run([FIXTURES / n for n in names], source, node, load_operator_profile(ROOT / "bench" / profile),
                 unchecked=False)
    assert report.counts("projects")["rejected"] == 0, report.as_dict()["rejected"]
    assert report.counts("units")["rejected"] == 0, report.as_dict()["rejected"]
    assert report.readback["projects_listed"] == report.counts("projects")["accepted"]
    assert report.readback["units_listed"] == report.counts("units")["accepted"]
    assert report.readback["serial_blocks_and_counts_conserved"]
    assert report.readback["quantity_read_back"] == report.readback["quantity_posted"]
    assert report.readback["units_linked_to_issuance"] == report.counts("units")["accepted"]


@pytest.mark.skipif(not NODE_URL, reason="no CADT node: set CARBONLINK_CADT_NODE_URL (and CARBONLINK_CADT_API_KEY)")
@pytest.mark.parametrize("resource", ["units", "projects"])
def test_the_node_s_xlsx_export_reads_as_its_json_pages(resource: str) -> None:
    assert NODE_URL is not None
    headers = {"x-api-key": os.environ.get("CARBONLINK_CADT_API_KEY", "")}
    with httpx.Client(base_url=NODE_URL.rstrip("/"), headers=headers, timeout=60.0) as http:
        workbook = http.get(f"/v1/{resource}", params={"xls": "true"})
        page = http.get(f"/v1/{resource}", params={"page": 1, "limit": 1000})
    assert workbook.status_code == 200 and page.status_code == 200
    cadt = default_catalog().get("cadt")
    from_xlsx = cadt.parse(workbook.content, medium=Medium.XLSX)
    from_json = cadt.parse(json.dumps({resource: page.json()}).encode(), medium=Medium.JSON)
    assert from_xlsx.valid, [f.message for f in from_xlsx.findings if f.is_error]
    if page.json()["pageCount"] > 1:
        pytest.skip("the node holds more records than one page; compare on a fresher node")
    records = getattr(from_xlsx.document, resource)
    assert len(records) == len(getattr(from_json.document, resource)) == len(page.json()["data"])
    if resource == "units":
        assert sum(u.quantity or 0 for u in records) == sum(u["unitCount"] for u in page.json()["data"])
        assert sorted(str(u.serial) for u in records) == sorted(str(u.serial) for u in from_json.document.units)

"""The MRV adapters: ``mrv`` (carbonlink MRV JSON) and ``undp-ncr-mrv`` (UNDP NCR v2 monitoring reports)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters import default_catalog
from adapters.mrv import MrvReadOnly, MrvSource
from adapters.translate import detect_format
from adapters.undp_ncr_mrv import UndpMrvProfile, UndpNcrMrvAdapter
from standards import CanonicalDocument, InputError, Medium
from standards.mrv import MonitoringReport, document_digest, document_json, example_chain

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "undp-ncr-mrv"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def native(name: str = "monitoring-report.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fixture(name))
    return data


def test_both_are_catalogued_mrv_sources() -> None:
    catalog = default_catalog()
    for name in ("mrv", "undp-ncr-mrv"):
        adapter = catalog.get(name)
        assert isinstance(adapter, MrvSource)
        assert adapter.media == (Medium.JSON,) and not adapter.writes
        with pytest.raises(MrvReadOnly):
            adapter.serialize(CanonicalDocument(), medium=Medium.JSON)


def test_undp_monitoring_report_reads_into_the_canonical_model() -> None:
    read = default_catalog().get("undp-ncr-mrv").read_mrv(fixture("monitoring-report.json"),  # type: ignore[attr-defined]
                                                          medium=Medium.JSON)
    assert read.valid and [f.rule for f in read.findings] == ["UNDP-MRV.EVIDENCE_UNHASHED"]
    [report] = read.documents
    assert isinstance(report, MonitoringReport)
    assert (report.project_id, report.sector, report.methodology.id, report.methodology.version) == (
        "P-0007", "Energy generation", "AMS-I.D", "18.0")
    assert (str(report.period.start), str(report.period.end), str(report.prepared_on)) == (
        "2024-01-01", "2024-12-31", "2025-01-20")
    assert report.emission_reductions == Decimal("13140.36")
    [param] = report.parameters
    assert (param.name, param.value, param.unit) == ("EG_facility_y", Decimal("18250.5"), "MWh")
    assert report.mrv_system == "undp-ncr" and report.evidence == []


def test_stored_documents_findings_point_at_the_native_fields() -> None:
    read = UndpNcrMrvAdapter().read_mrv(fixture("stored-documents.json"), medium=Medium.JSON)
    where = {(f.rule, f.location.pointer) for f in read.findings}
    assert ("UNDP-MRV.TOTALS", "/data/0/content/calcEmissionReductions/netGHGEmissionReductions/"
            "totalNetEmissionReductions") in where
    assert ("MRV.UNIT_UNKNOWN", "/data/0#/parameters/2/unit") in where
    assert ("UNDP-MRV.PERIOD_FROM_VINTAGES", "/data/0/content/projectDetails/bi_duration") in where
    assert ("UNDP-MRV.NOT_READ", "/data/1") in where
    [report] = read.documents
    assert (str(report.period.start), str(report.period.end)) == ("2025-01-01", "2026-12-31")
    assert report.sector == "Forestry and land use" and report.methodology.version == "not stated"


def test_profile_supplies_what_the_form_lacks() -> None:
    data = native()
    data["data"]["basicInformation"]["bi_sectoralScope"] = "ENERGY_DEMAND"
    body = json.dumps(data).encode()
    assert [f.rule for f in UndpNcrMrvAdapter().read_mrv(body, medium=Medium.JSON).findings
            if f.is_error] == ["UNDP-MRV.SECTOR"]
    adapter = UndpNcrMrvAdapter(UndpMrvProfile(mrv_system="lk-mrv", registry="lk-registry", sector="Energy generation"))
    [report] = adapter.read_mrv(body, medium=Medium.JSON).documents
    assert (report.mrv_system, report.registry, report.sector) == ("lk-mrv", "lk-registry", "Energy generation")


@pytest.mark.parametrize(("change", "rule"), [
    (lambda d: d["data"]["basicInformation"].pop("bi_completionDate"), "UNDP-MRV.DATE"),
    (lambda d: d["data"]["basicInformation"].update(bi_appliedMethodologies=""), "UNDP-MRV.METHODOLOGY"),
    (lambda d: d["data"]["dataAndParameterDetails"].update(dp_valueApplied="about ten"), "UNDP-MRV.PARAMETER"),
    (lambda d: d["data"].pop("calcEmissionReductions"), "UNDP-MRV.TOTALS"),
    (lambda d: d.update(documentType="PDD"), "UNDP-MRV.NOT_READ"),
    (lambda d: d.pop("documentType"), "UNDP-MRV.SHAPE"),
    (lambda d: d.update(data="not json {"), "UNDP-MRV.SHAPE"),
])
def test_refusals_are_coded(change: Any, rule: str) -> None:
    data = native()
    change(data)
    read = UndpNcrMrvAdapter().read_mrv(json.dumps(data).encode(), medium=Medium.JSON)
    assert rule in {f.rule for f in read.findings}


def test_unreadable_and_hostile_inputs_raise_input_errors_never_tracebacks() -> None:
    adapter = UndpNcrMrvAdapter()
    for data in (b"\xff\xfe\x00", b"{", b"[" * 100_000, b'{"a": NaN}'):
        with pytest.raises(InputError):
            adapter.read_mrv(data, medium=Medium.JSON)
    huge = native()
    row = {"dp_dataParameter": "p", "dp_dataUnit": "m", "dp_valueApplied": "1"}
    huge["data"]["dataAndParameterDetails"] = [row] * 5000
    read = adapter.read_mrv(json.dumps(huge).encode(), medium=Medium.JSON)
    assert not read.documents and "MRV.TOO_MANY_ITEMS" in {f.rule for f in read.findings}


def test_parse_gives_the_project_with_the_report_kept_whole() -> None:
    result = default_catalog().get("undp-ncr-mrv").parse(fixture("monitoring-report.json"), medium=Medium.JSON)
    [project] = result.document.projects
    assert (project.project_id, project.sector, project.methodology) == ("P-0007", "Energy generation", "AMS-I.D 18.0")
    assert MonitoringReport.model_validate(project.extra["mrv"]).project_id == "P-0007"


def test_mrv_adapter_reads_one_document_or_a_chain() -> None:
    adapter = default_catalog().get("mrv")
    chain = example_chain()
    one = adapter.validate(json.dumps(document_json(chain.report)).encode(), medium=Medium.JSON)
    assert one.valid and one.records == 1
    body = json.dumps([document_json(d) for d in chain] + [{"kind": "issuance-notice"}]).encode()
    read = adapter.read_mrv(body, medium=Medium.JSON)  # type: ignore[attr-defined]
    assert [document_digest(d) for d in read.documents] == [document_digest(d) for d in chain]
    assert read.findings and all(f.location.pointer.startswith("/4/") or f.location.pointer == "/4"
                                 for f in read.findings)


def test_format_detection_names_each_mrv_format() -> None:
    report = json.dumps(document_json(example_chain().report)).encode()
    assert detect_format(report, medium=Medium.JSON) == "mrv"
    assert detect_format(fixture("monitoring-report.json"), medium=Medium.JSON) == "undp-ncr-mrv"


def test_carbonlink_validate_reads_both_formats(tmp_path: Path) -> None:
    from tests.support.cli import run_cli

    good = tmp_path / "report.json"
    good.write_text(json.dumps(document_json(example_chain().report)), encoding="utf-8")
    done = run_cli("validate", str(good), "--format", "mrv")
    assert done.returncode == 0, done.stdout + done.stderr
    data = native("stored-documents.json")
    bad = tmp_path / "undp.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    done = run_cli("validate", str(bad), "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    rules = {f["rule"] for f in json.loads(done.stdout)["findings"]}
    assert {"UNDP-MRV.TOTALS", "MRV.UNIT_UNKNOWN"} <= rules

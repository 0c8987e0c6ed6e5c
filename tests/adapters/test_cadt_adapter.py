"""The cadt adapter: CADT node API answers (v1/v2, paged or plain) and XLSX exports."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from adapters import check_adapter, default_catalog
from adapters.cadt import RULES, CadtAdapter, adapter
from adapters.translate import RecordsLost, translate
from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.picklists import bundled
from standards.codec import Medium
from standards.errors import MalformedInput, UnknownFormat, UnsafeInput
from tests.support.edge import EdgeEnvironment

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "standards" / "examples" / "cadt-v2-aef.json"
V1_BASE = ROOT / "conformance" / "cases" / "cadt-v1-messages" / "bases" / "v1.json"
WID = "7e0c4b6a-1d2f-4a3b-9c5d-6e7f8a9b0c01"  # the v1 project's warehouseProjectId


def fresh() -> CadtAdapter:
    return CadtAdapter(v1=CadtV1Codec(picklists=bundled("v1")), v2=CadtV2Codec(picklists=bundled("v2")))


def v1_doc() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(V1_BASE.read_text(encoding="utf-8"))
    return loaded


def v2_doc() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return loaded


def parse_json(value: Any) -> Any:
    return fresh().parse(json.dumps(value).encode(), medium=Medium.JSON)


def rules_of(result: Any) -> list[str]:
    return [f.rule for f in result.findings]


# -- contract --------------------------------------------------------------------------------


def test_adapter_satisfies_the_contract_and_is_registered() -> None:
    check_adapter(adapter, "cadt")
    assert default_catalog().get("cadt").name == "cadt"
    assert adapter.media == (Medium.JSON, Medium.XLSX)
    assert {r.id for r in RULES} == {"CADT.NODE.SHAPE", "CADT.NODE.PARTIAL", "CADT.XLSX.BACKREF",
                                     "CADT.XLSX.SHEET", "CADT.XLSX.REPEATED_COLUMN"}


# -- API answers -----------------------------------------------------------------------------


def test_v1_paged_answers_per_resource() -> None:
    doc = v1_doc()
    answer = {"projects": {"page": 1, "pageCount": 1, "data": doc["projects"]},
              "units": [{"page": 1, "pageCount": 2, "data": doc["units"]}, {"page": 2, "pageCount": 2, "data": []}]}
    result = parse_json(answer)
    assert result.valid and rules_of(result) == []
    assert result.document.projects[0].project_id == "GS4567"
    assert result.document.units[0].project_id == "GS4567"  # reached through the unit's issuance


def test_bare_answers_are_recognised_by_their_keys() -> None:
    units = v1_doc()["units"]
    for answer in ({"page": 1, "pageCount": 1, "data": units}, units, units[0]):
        result = parse_json(answer)
        assert result.valid, rules_of(result)
        assert [u.serial for u in result.document.units] == ["1001-21000"]
    t5 = v2_doc()["aef-t5-authorized-entities"]
    result = parse_json(t5)
    assert result.valid and result.document.authorized_entities[0].entity_id == "CHE-101.234.567"


def test_missing_pages_are_reported_never_silent() -> None:
    units = v1_doc()["units"]
    result = parse_json({"units": [{"page": 1, "pageCount": 3, "data": units},
                                   {"page": 3, "pageCount": 3, "data": []}]})
    partial = [f for f in result.findings if f.rule == "CADT.NODE.PARTIAL"]
    assert len(partial) == 1 and "missing page 2" in partial[0].message and partial[0].location.pointer == "/units"
    assert result.valid  # a warning: the records that are there are fine
    assert len(result.document.units) == 1


@pytest.mark.parametrize(("answer", "expected"), [
    ({"projects": [], "project": []}, "mixes CAD Trust v1"),
    ({"colour": "blue"}, "cannot tell which CAD Trust resource"),
    ([], "cannot tell which CAD Trust resource"),
    ({"units": "none"}, "expected a list of records"),
    ({"units": {"page": "1", "pageCount": 1, "data": []}}, "integer page and pageCount"),
    ({"units": [], "unicorns": []}, "'unicorns' is not a CAD Trust v1 resource"),
])
def test_unrecognised_answers_are_coded(answer: Any, expected: str) -> None:
    result = parse_json(answer)
    shape = [f for f in result.findings if f.rule == "CADT.NODE.SHAPE"]
    assert shape and expected in shape[0].message
    assert not result.valid


def test_malformed_json_is_an_input_error() -> None:
    with pytest.raises(MalformedInput):
        fresh().parse(b"{'page': 1}", medium=Medium.JSON)
    with pytest.raises(UnknownFormat):
        fresh().parse(b"{}", medium=Medium.CSV)


# -- XLSX exports ----------------------------------------------------------------------------


def _workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _v1_export(location_parent: str = WID, unit_status: str = "Held") -> dict[str, list[list[Any]]]:
    """A CADT v1 project+unit export as the node writes it (child sheets carry projectId = warehouse id)."""
    p = v1_doc()["projects"][0]
    scalar = [k for k, v in p.items() if not isinstance(v, list)]
    loc = p["projectLocations"][0]
    iss = p["issuances"][0]
    unit = {k: v for k, v in v1_doc()["units"][0].items() if k != "issuance"}
    return {
        "projects": [scalar, [p[k] for k in scalar]],
        "projectLocations": [["projectId", *[k for k in loc if k != "warehouseProjectId"]],
                             [location_parent, *[v for k, v in loc.items() if k != "warehouseProjectId"]]],
        "issuances": [["projectId", *[k for k in iss if k != "warehouseProjectId"]],
                      [WID, *[v for k, v in iss.items() if k != "warehouseProjectId"]]],
        "units": [list(unit), [unit_status if k == "unitStatus" else int(v) if k == "unitCount" else v
                               for k, v in unit.items()]],
    }


def test_v1_xlsx_export_maps_back_references_to_their_parent() -> None:
    result = fresh().parse(_workbook(_v1_export()), medium=Medium.XLSX)
    assert result.valid, [f.as_dict() for f in result.findings]
    project = result.document.projects[0]
    assert project.project_id == "GS4567" and project.extra["warehouseProjectId"] == WID
    assert project.country == "GHA"  # from the projectLocations sheet row pointing at the warehouse id
    assert project.extra["projectLocations"][0]["geographicIdentifier"] == "9.4008, -0.8393"
    assert "projectId" not in project.extra["projectLocations"][0]
    unit = result.document.units[0]
    assert unit.project_id == "GS4567"  # units sheet issuanceId -> issuances sheet -> project
    assert unit.extra["issuance"]["warehouseProjectId"] == WID


def test_registry_id_in_the_back_reference_column_is_caught() -> None:
    """The trap: a child sheet's projectId holds the warehouseProjectId, not the registry projectId."""
    result = fresh().parse(_workbook(_v1_export(location_parent="GS4567")), medium=Medium.XLSX)
    backref = [f for f in result.findings if f.rule == "CADT.XLSX.BACKREF"]
    assert len(backref) == 1 and not result.valid
    assert backref[0].location.sheet == "projectLocations" and backref[0].location.cell == "A2"
    assert "warehouseProjectId" in backref[0].message


def test_xlsx_findings_point_at_sheet_and_cell() -> None:
    sheets = _v1_export(unit_status="held")
    result = fresh().parse(_workbook(sheets), medium=Medium.XLSX)
    picklist = [f for f in result.findings if f.rule == "CADT.V1.PICKLIST"]
    column = sheets["units"][0].index("unitStatus") + 1
    assert len(picklist) == 1 and picklist[0].location.sheet == "units"
    assert picklist[0].location.cell == f"{openpyxl.utils.get_column_letter(column)}2"
    assert picklist[0].location.render() == f"units!{picklist[0].location.cell}"


def test_unknown_sheets_and_workbooks_are_reported() -> None:
    sheets = _v1_export()
    sheets["notes"] = [["text"], ["exported by hand"]]
    result = fresh().parse(_workbook(sheets), medium=Medium.XLSX)
    assert [f.rule for f in result.findings] == ["CADT.XLSX.SHEET"] and result.valid
    other = fresh().parse(_workbook({"Sheet1": [["a"], [1]]}), medium=Medium.XLSX)
    assert rules_of(other) == ["CADT.NODE.SHAPE"] and not other.valid


def test_hostile_workbooks_are_refused_with_codes() -> None:
    with pytest.raises(MalformedInput):
        fresh().parse(b"PK\x03\x04 not really a zip", medium=Medium.XLSX)
    good = _workbook(_v1_export())
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(buffer, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr("xl/vbaProject.bin", b"\x00" * 64)
    with pytest.raises(UnsafeInput) as macro:
        fresh().parse(buffer.getvalue(), medium=Medium.XLSX)
    assert macro.value.code == "INPUT.XLSX_MACROS"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_xlsx_round_trip(version: str, edge_env: EdgeEnvironment) -> None:
    edge_env.setenv("CARBONLINK_CADT_VERSION", version)
    a = fresh()
    source = V1_BASE if version == "v1" else EXAMPLE
    parsed = a.parse(source.read_bytes(), medium=Medium.JSON)
    written = a.serialize(parsed.document, medium=Medium.XLSX)
    assert written.medium is Medium.XLSX and written.losses == []
    again = a.parse(written.data, medium=Medium.XLSX)
    assert again.valid, [f.as_dict() for f in again.findings if f.is_error]
    assert again.document == parsed.document
    sheets = openpyxl.load_workbook(io.BytesIO(written.data), read_only=True).sheetnames
    expected = {"projects", "projectLocations", "issuances", "labels", "estimations", "units"} \
        if version == "v1" else set(json.loads(EXAMPLE.read_text()))
    assert set(sheets) == expected


def test_serialize_follows_the_version_switch(edge_env: EdgeEnvironment) -> None:
    parsed = fresh().parse(EXAMPLE.read_bytes(), medium=Medium.JSON)
    assert "aef-t3-actions" in json.loads(fresh().serialize(parsed.document, medium=Medium.JSON).data)
    edge_env.setenv("CARBONLINK_CADT_VERSION", "v1")
    out = fresh().serialize(parsed.document, medium=Medium.JSON)
    assert set(json.loads(out.data)) == {"projects", "units"}
    assert "actions" in {loss.field for loss in out.losses}
    edge_env.setenv("CARBONLINK_CADT_VERSION", "v3")
    with pytest.raises(UnknownFormat):
        fresh().serialize(parsed.document, medium=Medium.JSON)


def test_translation_from_a_node_answer_to_aef() -> None:
    doc = v2_doc()
    answer = {resource: {"page": 1, "pageCount": 1, "data": records} for resource, records in doc.items()}
    data = json.dumps(answer).encode()
    with pytest.raises(RecordsLost):  # the AEF has no project table and no unit table outside actions
        translate(data, source="cadt", target="aef", source_medium=Medium.JSON, target_medium=Medium.JSON)
    result = translate(data, source="cadt", target="aef", source_medium=Medium.JSON,
                       target_medium=Medium.JSON, accept_losses=True)
    assert (result.records_read, result.records_written, result.records_lost) == (7, 5, 2)
    aef = json.loads(result.output.data)
    assert aef["Actions"][0]["ActionType"] == "First transfer" and aef["Actions"][0]["Metric"] == "GHG"
    assert aef["Submission"]["ParticipatingParty"] == "GHA"
    assert copy.deepcopy(answer) == answer  # the input is not modified


def test_v1_unit_export_with_unit_back_references() -> None:
    """A units export: issuances and labels sheets carry unitId, label_units links units to labels."""
    unit = {k: v for k, v in v1_doc()["units"][0].items() if k != "issuance"}
    iss = v1_doc()["projects"][0]["issuances"][0]
    label = v1_doc()["projects"][0]["labels"][0]
    sheets = {
        "units": [list(unit), list(unit.values())],
        "issuances": [["unitId", *iss], [unit["warehouseUnitId"], *iss.values()]],
        "labels": [["unitId", *label], [unit["warehouseUnitId"], *label.values()]],
        "label_units": [["warehouseUnitId", "labelId"], [unit["warehouseUnitId"], label["id"]]],
    }
    result = fresh().parse(_workbook(sheets), medium=Medium.XLSX)
    assert result.valid, [f.as_dict() for f in result.findings]
    block = result.document.units[0]
    assert block.extra["issuance"]["id"] == iss["id"] and "unitId" not in block.extra["issuance"]
    assert [x["label"] for x in block.extra["labels"]] == [label["label"]]
    assert block.first_id == 1001 and block.range_length == 20000


def test_child_rows_that_belong_nowhere_are_reported() -> None:
    sheets = _v1_export(location_parent="")
    result = fresh().parse(_workbook(sheets), medium=Medium.XLSX)
    backref = [f for f in result.findings if f.rule == "CADT.XLSX.BACKREF"]
    assert len(backref) == 1 and "belongs to no project row" in backref[0].message
    assert (backref[0].location.sheet, backref[0].location.cell) == ("projectLocations", "A2")
    del sheets["projects"]  # a child sheet without its parents: nothing may vanish silently
    orphaned = fresh().parse(_workbook(sheets), medium=Medium.XLSX)
    assert {f.location.sheet for f in orphaned.findings if f.rule == "CADT.XLSX.BACKREF"} == {"projectLocations"}


def test_a_column_given_twice_with_different_values_is_an_error_at_the_differing_cell() -> None:
    sheets = _v1_export()
    sheets["units"][0].append("unitStatus")
    sheets["units"][1].append("Retired")
    result = fresh().parse(_workbook(sheets), medium=Medium.XLSX)
    repeated = [f for f in result.findings if f.rule == "CADT.XLSX.REPEATED_COLUMN"]
    column = openpyxl.utils.get_column_letter(len(sheets["units"][0]))
    assert len(repeated) == 1 and (repeated[0].location.sheet, repeated[0].location.cell) == ("units", f"{column}2")
    assert not result.valid


def test_a_column_given_twice_with_equal_values_is_read_once() -> None:
    sheets = _v1_export()
    header = sheets["units"][0]
    status = header.index("unitStatus")
    header.append("unitStatus")
    for row in sheets["units"][1:]:
        row.append(row[status])
    result = fresh().parse(_workbook(sheets), medium=Medium.XLSX)
    assert result.valid, [f.message for f in result.findings]
    assert not [f for f in result.findings if f.rule == "CADT.XLSX.REPEATED_COLUMN"]


def test_mapping_findings_from_a_workbook_point_at_the_sheet_row() -> None:
    doc = v2_doc()
    doc["label"] = [{"cadTrustLabelId": "00000000-0000-4000-8000-000000000005", "labelName": "CORSIA eligible",
                     "labelType": "Certification"}]
    sheets = {resource: [list(records[0]), *[[_json_cell(r.get(k)) for k in records[0]] for r in records]]
              for resource, records in doc.items()}
    result = fresh().parse(_workbook(sheets), medium=Medium.XLSX)
    unplaced = [f for f in result.findings if f.rule == "CADT.V2.UNPLACED"]
    assert len(unplaced) == 1 and (unplaced[0].location.sheet, unplaced[0].location.cell) == ("label", "A2")
    assert result.valid and len(result.document.units) == 1


def _json_cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list) else value

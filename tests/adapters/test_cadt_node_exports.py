"""Workbooks a real CADT 1.7.24 node exported (``GET /v1/units?xls=true``, ``/v1/projects?xls=true``, in
tests/fixtures/cadt-node, with the node's JSON pages of the same records) read through ``--from cadt``:
the ``.bin`` default content type the node declares is no binary workbook, and the ``issuanceId``
column its units export writes twice is read once when both copies agree."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from adapters import default_catalog
from standards import Medium, read_workbook
from standards.errors import MalformedInput
from tests.support.cli import run_cli

NODE = Path(__file__).resolve().parents[1] / "fixtures" / "cadt-node"
CONTENT_TYPES = "[Content_Types].xml"


def _parse(data: bytes, medium: Medium) -> Any:
    return default_catalog().get("cadt").parse(data, medium=medium)


def test_the_node_declares_a_bin_default_and_repeats_issuance_id() -> None:
    """What the fixtures hold (so the tests below test what a node really writes)."""
    with zipfile.ZipFile(NODE / "units-export.xlsx") as archive:
        types = archive.read(CONTENT_TYPES).decode()
        assert 'Extension="bin"' in types and "binary.macroEnabled.main" in types
        assert not any(name.endswith(".bin") for name in archive.namelist())
    header = next(openpyxl.load_workbook(NODE / "units-export.xlsx", read_only=True)["units"].iter_rows(
        values_only=True))
    assert header.count("issuanceId") == 2


@pytest.mark.parametrize("resource", ["units", "projects"])
def test_node_workbooks_read_as_the_node_s_json_pages(resource: str) -> None:
    workbook = _parse((NODE / f"{resource}-export.xlsx").read_bytes(), Medium.XLSX)
    assert workbook.valid, [f.message for f in workbook.findings if f.is_error]
    page = json.loads((NODE / f"{resource}-page.json").read_text(encoding="utf-8"))
    pages = _parse(json.dumps({resource: page}).encode(), Medium.JSON)
    assert pages.valid, [f.message for f in pages.findings if f.is_error]
    records = getattr(workbook.document, resource)
    assert records and len(records) == len(page["data"])
    if resource == "units":
        key = [(u.serial, u.quantity, u.status, u.project_id) for u in workbook.document.units]
        assert sorted(key, key=repr) == sorted(((u.serial, u.quantity, u.status, u.project_id)
                                                for u in pages.document.units), key=repr)
        assert sum(u.quantity or 0 for u in records) == sum(u["unitCount"] for u in page["data"])
    else:
        assert {p.project_id for p in records} == {p["projectId"] for p in page["data"]}


def test_node_units_workbook_translates_to_cadt_v1_on_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "units.json"
    done = run_cli("translate", str(NODE / "units-export.xlsx"), "--from", "cadt", "--to", "cadt-v1", "-o", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    units = json.loads(out.read_text(encoding="utf-8"))["units"]
    page = json.loads((NODE / "units-page.json").read_text(encoding="utf-8"))["data"]
    assert {(u["warehouseUnitId"], u["issuanceId"]) for u in units} == {(u["warehouseUnitId"], u["issuanceId"])
                                                                       for u in page}


def _with_issuance_copy(value: str) -> bytes:
    workbook = openpyxl.load_workbook(NODE / "units-export.xlsx")
    sheet = workbook["units"]
    header = [cell.value for cell in sheet[1]]
    second = [i for i, name in enumerate(header, start=1) if name == "issuanceId"][1]
    sheet.cell(row=3, column=second, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_copies_that_differ_are_a_coded_error_at_the_cell() -> None:
    parsed = _parse(_with_issuance_copy("not-the-same-issuance"), Medium.XLSX)
    repeated = [f for f in parsed.findings if f.rule == "CADT.XLSX.REPEATED_COLUMN"]
    assert len(repeated) == 1 and repeated[0].is_error and not parsed.valid
    assert repeated[0].location.sheet == "units" and repeated[0].location.cell is not None
    assert repeated[0].location.cell.endswith("3") and "not-the-same-issuance" in repeated[0].message


def _rezip(data: bytes, add: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        for name, content in add.items():
            target.writestr(name, content)
    return out.getvalue()


def test_a_part_that_really_is_binary_is_still_refused_as_xlsb() -> None:
    data = _rezip((NODE / "units-export.xlsx").read_bytes(), {"xl/worksheets/sheet3.bin": b"\x00\x01binary"})
    with pytest.raises(MalformedInput, match=r"binary workbook \(\.xlsb\)"):
        read_workbook(data)


def test_the_node_workbook_opens_without_the_bin_default_too() -> None:
    workbook = read_workbook((NODE / "projects-export.xlsx").read_bytes())
    try:
        assert {"projects", "issuances"} <= set(workbook.sheetnames)
    finally:
        workbook.close()

"""Writing CADT records as the node's XLSX export (v1 project sheets with child sheets; v2 one sheet
per resource).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from adapters.cadt._rules import V1_PROJECT_CHILDREN
from standards import (
    XlsxWriter,
)
from standards.cadt.spec import EntitySpec, FieldSpec


def _columns(header: list[str]) -> dict[str, int]:
    return {name: i for i, name in enumerate(header, start=1) if name}


def _typed(entity: EntitySpec, header: Iterable[str], values: tuple[Any, ...]) -> dict[str, Any]:
    """A record from one sheet row, cell values converted to the JSON types of the API."""
    record: dict[str, Any] = {}
    for name, value in zip(header, values, strict=False):
        if not name or value is None or value == "":
            continue
        f = entity.by_name.get(name)
        record[name] = value if f is None else _cell_value(f, value)
    return record


def _cell_value(f: FieldSpec, value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if f.kind in ("integer", "year") and isinstance(value, float) and value.is_integer():
        return int(value)
    if f.kind in ("string", "text", "date", "datetime") and isinstance(value, int | float) \
            and not isinstance(value, bool):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if f.kind == "array<string>" and isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                return value
            return parsed
        return [text]
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _sheet(writer: XlsxWriter, title: str, rows: list[dict[str, Any]], first: tuple[str, ...] = ()) -> None:
    header = list(first)
    for row in rows:
        header.extend(k for k in row if k not in header)
    sheet = writer.add_sheet(title)
    writer.append(sheet, header)
    for row in rows:
        writer.append(sheet, [_cell(row.get(k)) for k in header])


def _write_v1_xlsx(native: dict[str, Any]) -> bytes:
    """The v1 export layout: projects and their child sheets (``projectId`` back-reference), units
    with ``issuanceId``, and ``label_units``. A unit's issuance or label that no project lists goes
    to the issuances/labels sheet too, with its own warehouseProjectId (empty when it has none)."""
    writer = XlsxWriter()
    children: dict[str, list[dict[str, Any]]] = {c: [] for c in V1_PROJECT_CHILDREN}
    flat = []
    for project in native.get("projects", []):
        flat.append({k: v for k, v in project.items() if k not in V1_PROJECT_CHILDREN})
        for child in V1_PROJECT_CHILDREN:
            for record in project.get(child) or []:
                children[child].append({"projectId": project.get("warehouseProjectId"), **record})
    units, links = [], []
    listed = {name: {str(r.get("id")) for r in children[name]} for name in ("issuances", "labels")}
    for unit in native.get("units", []):
        row = {k: v for k, v in unit.items() if k not in ("issuance", "labels")}
        issuance = unit.get("issuance")
        if isinstance(issuance, dict):
            row["issuanceId"] = issuance.get("id", row.get("issuanceId"))
            _list_once(children, listed, "issuances", issuance)
        for label in unit.get("labels") or []:
            links.append({"warehouseUnitId": unit.get("warehouseUnitId"), "labelId": label.get("id")})
            _list_once(children, listed, "labels", label)
        units.append(row)
    if flat:
        _sheet(writer, "projects", flat)
    for child, rows in children.items():
        if rows:
            _sheet(writer, child, rows, ("projectId",))
    if units:
        _sheet(writer, "units", units)
    if links:
        _sheet(writer, "label_units", links)
    return writer.to_bytes()


def _list_once(children: dict[str, list[dict[str, Any]]], listed: dict[str, set[str]], sheet: str,
               record: dict[str, Any]) -> None:
    key = str(record.get("id"))
    if key in listed[sheet]:
        return
    listed[sheet].add(key)
    children[sheet].append({"projectId": record.get("warehouseProjectId"),
                            **{k: v for k, v in record.items() if k != "warehouseProjectId"}})


def _write_v2_xlsx(native: dict[str, Any]) -> bytes:
    writer = XlsxWriter()
    for resource, rows in native.items():
        _sheet(writer, resource, rows)
    return writer.to_bytes()

"""The Cercarbono adapter: rows of the projects, issuances and retirements exports to canonical records."""

from __future__ import annotations

import ast
import re
from typing import Any

from adapters.cercarbono._layouts import (
    ISSUANCES,
    LAYOUTS,
    PREFIX,
    PROJECT_URL,
    PROJECTS,
    REGISTRY,
    RETIREMENTS,
    RULES,
)
from adapters.registry_exports import Record, RowFindings, check_serial
from adapters.role_exports import RoleExportAdapter, RoleLayout
from standards import Project, RecordKind, UnitBlock, UnitStatus

#: An issuance serial: standard code, then the project's numeric id (token 2 after a revision's ``R``).
_SERIAL = re.compile(r"([A-Z]{2,4})_(?:R_)?(\d+)(?:_[A-Z0-9]+)+")


def serial_project(serial: str) -> str | None:
    """The project id an issuance serial names (``CDC_7_1_1_321_14_CO_1_1`` -> ``7``), or None."""
    match = _SERIAL.fullmatch(serial.strip())
    return match[2] if match else None


def literal_list(text: str) -> list[dict[str, Any]] | None:
    """A list cell as the platform exports it (a Python/JSON list literal of objects); None when unreadable."""
    if not text.strip():
        return []
    try:
        value = ast.literal_eval(text.replace(": true", ": True").replace(": false", ": False"))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        return None
    return value


class CercarbonoAdapter(RoleExportAdapter):
    """Cercarbono exports: projects, issuances (per issuance serial) and retirements (unit ranges)."""

    name = "cercarbono"
    version = "1.0.0"
    description = "Cercarbono registry exports (EcoRegistry platform): projects, issuances, retirements"
    reads = frozenset({RecordKind.ISSUANCES, RecordKind.RETIREMENTS, RecordKind.UNIT_BLOCKS,
                       RecordKind.PROJECTS})
    rules = RULES
    registry = REGISTRY
    layouts = LAYOUTS
    prefix = PREFIX
    serial_schemes = ("cercarbono",)

    def map_row_records(self, layout: RoleLayout, values: dict[str, str], extra: dict[str, Any],
                        row: RowFindings) -> list[Record]:
        self.keep_other_cells(layout, values, extra)
        if layout is ISSUANCES:
            unit = self._issuance(values, extra, row)
        elif layout is RETIREMENTS:
            unit = self._retirement(values, extra, row)
        else:
            project = self._project(values, extra, row)
            return [project] if project is not None else []
        return [unit] if unit is not None else []

    def _issuance(self, values: dict[str, str], extra: dict[str, Any], row: RowFindings) -> UnitBlock | None:
        serial = self.required_text(ISSUANCES, "serial", values, row)
        quantity = self.quantity(ISSUANCES, values, extra, row)
        fields = self.unit_fields(ISSUANCES, values, extra, row)
        project_id = serial_project(serial) if serial else None
        if serial and project_id is None:
            row.add(f"{PREFIX}.SERIAL_INVALID", "serial",
                    f"serial {serial!r} is not a Cercarbono issuance serial "
                    "(CODE_<project>_..., e.g. CDC_1_1_1_321_14_1)")
        extra["serial"] = serial or ""
        buffer = values.get("is_buffer", "").strip().casefold() == "true"
        return UnitBlock(registry=REGISTRY, serial=serial, quantity=quantity,
                         vintage=self.vintage(ISSUANCES, values, extra, row),
                         status=UnitStatus.BUFFER if buffer else UnitStatus.ISSUED, project_id=project_id,
                         link=PROJECT_URL.format(id=project_id) if project_id else None, **fields, extra=extra)

    def _retirement(self, values: dict[str, str], extra: dict[str, Any], row: RowFindings) -> UnitBlock | None:
        layout = RETIREMENTS
        project_id = self.required_text(layout, "project_id", values, row)
        if project_id is not None and not project_id.isdigit():
            row.add(f"{PREFIX}.PROJECT_ID", "project_id", f"project_id {project_id!r} is not a number")
            project_id = None
        raw_serial = self.required_text(layout, "serial", values, row)
        quantity = self.quantity(layout, values, extra, row)
        first, last = values.get("from", "").strip(), values.get("to", "").strip()
        serial_text: str | None = None
        first_id = last_id = None
        if raw_serial and first.isdigit() and last.isdigit():
            serial_text = f"{raw_serial}:{first}-{last}"
            serial = check_serial(row, PREFIX, "serial", serial_text, "cercarbono", quantity)
            if serial is not None:
                first_id, last_id = serial.first, serial.last
                named = serial.part("project")
                if project_id is not None and named is not None and named != project_id:
                    row.add(f"{PREFIX}.SERIAL_MISMATCH", "serial",
                            f"the serial names project {named} but project_id is {project_id}")
        elif raw_serial:
            row.add(f"{PREFIX}.REQUIRED", "from", "from and to must give the retired unit range as numbers")
        extra["serial"] = raw_serial or ""
        for column in ("from", "to"):
            extra.pop(column, None)
        return UnitBlock(registry=REGISTRY, serial=serial_text, first_id=first_id, last_id=last_id,
                         quantity=quantity, vintage=self.vintage(layout, values, extra, row),
                         status=UnitStatus.RETIRED, project_id=project_id,
                         **self.unit_fields(layout, values, extra, row), extra=extra)

    def _project(self, values: dict[str, str], extra: dict[str, Any], row: RowFindings) -> Project | None:
        project_id = self.required_text(PROJECTS, "project_id", values, row)
        if project_id is not None and not project_id.isdigit():
            row.add(f"{PREFIX}.PROJECT_ID", "id", f"id {project_id!r} is not the platform's numeric project id")
            return None
        fields = self.project_fields(PROJECTS, values)
        country = None
        locations = literal_list(values.get("locations", ""))
        if locations is None:
            row.add(f"{PREFIX}.LIST_INVALID", "locations", "locations is not a list of places; no country read")
        elif locations:
            name = str(locations[0].get("country") or "")
            country = self.read_country(name, "locations", {}, row) if name else None
        sectors = literal_list(values.get("sector", ""))
        if sectors is None:
            row.add(f"{PREFIX}.LIST_INVALID", "sector", "sector is not a list of sectors; no project type read")
        elif sectors:
            fields["project_type"] = str(sectors[0].get("description") or "") or None
        if project_id is None:
            return None
        return Project(registry=REGISTRY, project_id=project_id, country=country,
                       link=PROJECT_URL.format(id=project_id), **fields, extra=extra)

    # --- writing

    def unit_implied(self, unit: UnitBlock) -> set[str]:
        return {"link"} if unit.project_id and unit.link == PROJECT_URL.format(id=unit.project_id) else set()

    def project_implied(self, project: Project) -> set[str]:
        implied = set()
        if project.link == PROJECT_URL.format(id=project.project_id):
            implied.add("link")
        sectors = literal_list(str(project.extra.get("sector") or ""))
        if sectors and project.project_type == str(sectors[0].get("description") or ""):
            implied.add("project_type")
        return implied

    def layout_for_unit(self, unit: UnitBlock) -> RoleLayout | None:
        if unit.status in (UnitStatus.ISSUED, UnitStatus.BUFFER, None):
            return ISSUANCES
        if unit.status is UnitStatus.RETIRED:
            return RETIREMENTS
        return None

    def unit_values(self, layout: RoleLayout, unit: UnitBlock) -> dict[str, str]:
        raw = unit.extra.get("serial")
        serial = raw if isinstance(raw, str) and raw else (unit.serial or "").split(":", 1)[0]
        out = {"serial": serial}
        if layout is RETIREMENTS:
            out["project_id"] = unit.project_id or serial_project(serial) or ""
            out["from"] = "" if unit.first_id is None else str(unit.first_id)
            out["to"] = "" if unit.last_id is None else str(unit.last_id)
        else:
            out["is_buffer"] = "True" if unit.status is UnitStatus.BUFFER else "False"
        return out



adapter = CercarbonoAdapter()

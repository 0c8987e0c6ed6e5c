"""Role layouts and the base adapter that reads and writes them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.registry_exports import (
    CsvExportAdapter,
    ExportFile,
    Record,
    RowFindings,
    keep_native,
    native_or,
    other_record_losses,
    parse_quantity,
    read_date,
    render_quantity,
    same_date,
    same_quantity,
)
from standards import (
    CanonicalDocument,
    CsvRecord,
    Finding,
    Loss,
    Medium,
    Project,
    UnitBlock,
    UnitStatus,
    collect_losses,
)

#: Unit roles and the canonical field each fills (quantity, vintage, serial and country are read apart).
UNIT_TEXT_ROLES = {"account": "account", "beneficiary": "beneficiary", "reason": "status_reason",
                   "name": "project_name", "link": "link", "owner": "owner"}
UNIT_DATE_ROLES = {"issued": "issuance_date", "status_date": "status_date"}
PROJECT_TEXT_ROLES = {"name": "name", "developer": "developer", "project_type": "project_type",
                      "methodology": "methodology", "status": "status", "link": "link",
                      "description": "description", "sector": "sector"}


@dataclass(frozen=True)
class RoleLayout:
    """One export file: its columns as the registry spells them, the roles some columns play, the
    columns a file must have to be recognised, and the status of its unit rows."""

    name: str
    kind: str  # "projects" or "units"
    columns: tuple[str, ...]
    roles: dict[str, str]
    required: tuple[str, ...]
    status: UnitStatus | None = None
    description: str = ""
    file: ExportFile = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "file", ExportFile(self.name, self.columns, self.required, self.kind,
                                                    self.description))

    def column(self, role: str) -> str | None:
        return self.roles.get(role)


def read_year(text: str) -> int | None:
    """A vintage year written ``2024``, ``2024.0`` (a spreadsheet's float) or as an ISO date; None otherwise."""
    raw = text.strip()
    if len(raw) >= 10 and raw[4] == "-" and raw[:4].isdigit():
        raw = raw[:4]
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    if value != value.to_integral_value() or not 1900 <= value <= 2100:
        return None
    return int(value)


class RoleExportAdapter(CsvExportAdapter):
    """Base of the role-layout adapters: per-row helpers, records from one row, writing back."""

    registry: str = ""
    layouts: tuple[RoleLayout, ...] = ()
    media = (Medium.CSV,)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass states its ``layouts`` and ``reads``; its files are its layouts' files, and it
        writes what it reads unless it says otherwise."""
        super().__init_subclass__(**kwargs)
        if "files" not in cls.__dict__:
            cls.files = tuple(layout.file for layout in cls.layouts)
        if "writes" not in cls.__dict__ and "reads" in cls.__dict__:
            cls.writes = cls.reads

    def layout_of(self, name: str) -> RoleLayout:
        return next(layout for layout in self.layouts if layout.name == name)

    # --- reading helpers

    def keep_other_cells(self, layout: RoleLayout, values: dict[str, str], extra: dict[str, Any]) -> None:
        roles = set(layout.roles.values())
        for column, raw in values.items():
            if column not in roles and raw:
                extra[column] = raw

    def required_text(self, layout: RoleLayout, role: str, values: dict[str, str], row: RowFindings) -> str | None:
        column = layout.roles[role]
        text = values.get(column, "").strip()
        if not text:
            row.add(f"{self.prefix}.REQUIRED", column, f"{column} is empty")
            return None
        return text

    def quantity(self, layout: RoleLayout, values: dict[str, str], extra: dict[str, Any], row: RowFindings,
                 role: str = "quantity", *, required: bool = True) -> Decimal | None:
        column = layout.roles[role]
        raw = values.get(column, "")
        if not raw.strip():
            if required:
                row.add(f"{self.prefix}.REQUIRED", column, f"{column} is empty")
            return None
        try:
            value = parse_quantity(raw)
        except ValueError:
            row.add(f"{self.prefix}.QUANTITY_INVALID", column, f"{column} {raw!r} is not a number of credits")
            return None
        keep_native(extra, column, raw, render_quantity(value))
        return value

    def vintage(self, layout: RoleLayout, values: dict[str, str], extra: dict[str, Any],
                row: RowFindings) -> int | None:
        column = layout.roles.get("vintage")
        raw = values.get(column, "").strip() if column else ""
        if not column or not raw:
            return None
        year = read_year(raw)
        if year is None:
            row.add(f"{self.prefix}.VINTAGE_INVALID", column, f"{column} {raw!r} is not a year")
            return None
        keep_native(extra, column, raw, str(year))
        return year

    def unit_fields(self, layout: RoleLayout, values: dict[str, str], extra: dict[str, Any],
                    row: RowFindings) -> dict[str, Any]:
        """The canonical unit fields of the text and date roles of ``layout``."""
        out: dict[str, Any] = {}
        for role, name in UNIT_TEXT_ROLES.items():
            column = layout.roles.get(role)
            if column and values.get(column, "").strip():
                out[name] = values[column].strip()
        for role, name in UNIT_DATE_ROLES.items():
            column = layout.roles.get(role)
            if column:
                out[name] = read_date(row, extra, values.get(column, ""), column, self.prefix, "dmy")
        column = layout.roles.get("country")
        if column:
            out["country"] = self.read_country(values.get(column, ""), column, extra, row)
        return out

    def project_fields(self, layout: RoleLayout, values: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for role, name in PROJECT_TEXT_ROLES.items():
            column = layout.roles.get(role)
            if column and values.get(column, "").strip():
                out[name] = values[column].strip()
        return out

    def many_records(self, rows: Iterator[CsvRecord], findings: list[Finding],
                     stop_on_error: bool) -> Iterator[Record]:
        """Records of ``rows`` where one row may give several (see :meth:`map_row_records`)."""
        first = next(rows, None)
        if first is None:
            return
        mapper = self.detect(first.cells, findings)
        if mapper is None:
            return
        row = RowFindings(self.rules, 0, findings)
        for record in rows:
            row.line = record.line
            values, extra = mapper.row(record.cells)
            before = len(findings)
            mapped = self.map_row_records(self.layout_of(mapper.file.name), values, extra, row)
            if not any(f.is_error for f in findings[before:]):
                yield from mapped
            elif stop_on_error:
                return

    def map_row_records(self, layout: RoleLayout, values: dict[str, str], extra: dict[str, Any],
                        row: RowFindings) -> list[Record]:
        raise NotImplementedError

    def _records(self, rows: Iterator[CsvRecord], findings: list[Finding], *,
                 stop_on_error: bool = False) -> Iterator[Record]:
        yield from self.many_records(rows, findings, stop_on_error)

    # --- writing

    def layout_for_unit(self, unit: UnitBlock) -> RoleLayout | None:
        """The layout a unit is written in (by its status); None: no layout holds it."""
        raise NotImplementedError

    def project_layout(self) -> RoleLayout | None:
        return next((layout for layout in self.layouts if layout.kind == "projects"), None)

    def write_rows(self, document: CanonicalDocument) -> tuple[dict[str, list[list[str]]], list[Loss]]:
        lost: dict[str, list[str]] = {}
        unplaced: dict[str, list[str]] = {}
        tables: dict[str, list[list[str]]] = {}
        for i, unit in enumerate(document.units):
            rid = f"units[{i}]"
            layout = self.layout_for_unit(unit)
            if layout is None or (unit.registry not in (None, self.registry)):
                unplaced.setdefault("units", []).append(rid)
                continue
            tables.setdefault(layout.name, [list(layout.columns)]).append(self.unit_row(layout, unit, rid, lost))
        projects = self.project_layout()
        for i, project in enumerate(document.projects):
            rid = f"projects[{i}]"
            if projects is None or project.registry not in (None, self.registry):
                unplaced.setdefault("projects", []).append(rid)
                continue
            tables.setdefault(projects.name, [list(projects.columns)]).append(
                self.project_row(projects, project, rid, lost))
        if not tables:
            tables[self.layouts[0].name] = [list(self.layouts[0].columns)]
        losses = collect_losses(lost, f"the {self.name} export for this record has no column for it")
        losses.extend(collect_losses(unplaced, f"no {self.name} export file holds this record (another registry, "
                                               "or a status the registry does not publish): not written"))
        losses.extend(other_record_losses(document))
        return tables, losses

    def unit_values(self, layout: RoleLayout, unit: UnitBlock) -> dict[str, str]:
        """Cells of the roles whose value is not a plain copy (serials, project ids); default none."""
        return {}

    def unit_implied(self, unit: UnitBlock) -> set[str]:
        """Canonical unit fields the export's other cells already say (derived on reading)."""
        return set()

    def unit_row(self, layout: RoleLayout, unit: UnitBlock, rid: str, lost: dict[str, list[str]]) -> list[str]:
        roles = layout.roles
        values = {k: v for k, v in unit.extra.items() if isinstance(v, str) and k in layout.columns}
        for key in unit.extra:
            if key not in layout.columns:
                lost.setdefault(f"extra.{key}", []).append(rid)
        implied = self.unit_implied(unit)
        for role, name in {**UNIT_TEXT_ROLES, **UNIT_DATE_ROLES}.items():
            value = getattr(unit, name)
            if value is None or (name in implied and role not in roles):
                continue
            if role not in roles:
                lost.setdefault(name, []).append(rid)
            elif isinstance(value, date):
                values[roles[role]] = native_or(unit.extra, roles[role], value.isoformat(), same_date(value, "dmy"))
            else:
                values[roles[role]] = str(value)
        if unit.quantity is not None:
            values[roles["quantity"]] = native_or(unit.extra, roles["quantity"], render_quantity(unit.quantity),
                                                  same_quantity(unit.quantity))
        if unit.vintage is not None and "vintage" in roles:
            raw = unit.extra.get(roles["vintage"])
            values[roles["vintage"]] = raw if isinstance(raw, str) and read_year(raw) == unit.vintage \
                else str(unit.vintage)
        if "country" in roles:
            values[roles["country"]] = self.write_country(unit.country, unit.extra, roles["country"])
        elif unit.country is not None:
            lost.setdefault("country", []).append(rid)
        for name in ("unit_type", "itmo_reference", "corresponding_adjustment"):
            if getattr(unit, name) is not None:
                lost.setdefault(name, []).append(rid)
        values.update(self.unit_values(layout, unit))
        return [values.get(c, "") for c in layout.columns]

    def project_values(self, layout: RoleLayout, project: Project) -> dict[str, str]:
        return {}

    def project_implied(self, project: Project) -> set[str]:
        """Canonical project fields the export's other cells already say (derived on reading)."""
        return set()

    def project_row(self, layout: RoleLayout, project: Project, rid: str,
                    lost: dict[str, list[str]]) -> list[str]:
        roles = layout.roles
        values = {k: v for k, v in project.extra.items() if isinstance(v, str) and k in layout.columns}
        for key in project.extra:
            if key not in layout.columns:
                lost.setdefault(f"projects.extra.{key}", []).append(rid)
        values[roles["project_id"]] = project.project_id
        implied = self.project_implied(project)
        for role, name in PROJECT_TEXT_ROLES.items():
            value = getattr(project, name)
            if value is None or (name in implied and role not in roles):
                continue
            if role in roles:
                values[roles[role]] = value
            else:
                lost.setdefault(f"projects.{name}", []).append(rid)
        for name in ("status_date", "origin_registry", "origin_project_id"):
            if getattr(project, name) is not None:
                lost.setdefault(f"projects.{name}", []).append(rid)
        values.update(self.project_values(layout, project))
        return [values.get(c, "") for c in layout.columns]

"""The APX adapter: rows of the registries' report layouts to canonical records and back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from adapters.apx._layouts import (
    _BY_FILE,
    _UNIT_ROLE_FIELDS,
    LAYOUTS,
    PERIOD_COLUMNS,
    PREFIX,
    REGISTRIES,
    ApxLayout,
    _rules,
    date_order,
    registry_of,
)
from adapters.registry_exports import (
    CsvExportAdapter,
    RowFindings,
    RowMapper,
    check_serial,
    country_from_name,
    country_name,
    keep_native,
    native_or,
    other_record_losses,
    parse_date,
    parse_quantity,
    read_date,
    same_date,
    same_quantity,
)
from standards import (
    CanonicalDocument,
    Loss,
    Medium,
    Project,
    RecordKind,
    Serial,
    UnitBlock,
    UnitStatus,
    collect_losses,
)


class ApxAdapter(CsvExportAdapter):
    """ACR, CAR and ART TREES report exports (one adapter: the platform and layouts are shared)."""

    name = "apx"
    version = "1.0.0"
    description = "APX-family registry reports: American Carbon Registry, Climate Action Reserve, ART TREES"
    reads = frozenset({RecordKind.ISSUANCES, RecordKind.RETIREMENTS, RecordKind.CANCELLATIONS,
                       RecordKind.UNIT_BLOCKS, RecordKind.PROJECTS})
    writes = reads
    media = (Medium.CSV,)
    rules = _rules()
    files = tuple(layout.file for layout in LAYOUTS)
    prefix = PREFIX
    serial_schemes = ("acr", "car", "art")

    def map_row(self, mapper: RowMapper, values: dict[str, str], extra: dict[str, Any],
                row: RowFindings) -> UnitBlock | Project | None:
        layout = _BY_FILE[mapper.file.name]
        roles = layout.roles
        role_columns = set(roles.values())
        for column, raw in values.items():
            if column not in role_columns and raw:
                extra[column] = raw
        project_id = self._project_id(layout, values.get(roles["project_id"], ""), row)
        country = self.read_country(values.get(roles["country"], ""), roles["country"], extra, row)
        if layout.kind == "projects":
            return self._project(layout, values, extra, project_id, country)
        return self._unit(layout, values, extra, row, project_id, country)

    def _project_id(self, layout: ApxLayout, raw: str, row: RowFindings) -> str | None:
        column = layout.roles["project_id"]
        text = raw.strip()
        if not text:
            row.add(f"{PREFIX}.REQUIRED", column, f"{column} is empty")
            return None
        prefixes = REGISTRIES[layout.registry][0]
        if not text.upper().startswith(prefixes) or not text[len(next(
                p for p in prefixes if text.upper().startswith(p))):].isdigit():
            row.add(f"{PREFIX}.PROJECT_ID", column,
                    f"{column} {raw!r} is not a {'/'.join(prefixes)} number such as {prefixes[0]}102")
            return None
        return text

    def _unit(self, layout: ApxLayout, values: dict[str, str], extra: dict[str, Any], row: RowFindings,
              project_id: str | None, country: str | None) -> UnitBlock | None:
        roles = layout.roles
        get = values.get
        qty_column = roles["quantity"]
        raw_qty = get(qty_column, "")
        quantity: Decimal | None = None
        if not raw_qty.strip():
            row.add(f"{PREFIX}.REQUIRED", qty_column, f"{qty_column} is empty")
        else:
            try:
                quantity = parse_quantity(raw_qty)
                keep_native(extra, qty_column, raw_qty, format(quantity, "f"))
            except ValueError:
                row.add(f"{PREFIX}.QUANTITY_INVALID", qty_column,
                        f"{qty_column} {raw_qty!r} is not a number of credits")
        vintage = None
        raw_vintage = get(roles["vintage"], "").strip()
        if raw_vintage:
            if raw_vintage.isdigit() and len(raw_vintage) == 4 and 1900 <= int(raw_vintage) <= 2100:
                vintage = int(raw_vintage)
            else:
                row.add(f"{PREFIX}.VINTAGE_INVALID", roles["vintage"], f"Vintage {raw_vintage!r} is not a year")
        serial: Serial | None = None
        serial_text = get(roles["serial"], "") if "serial" in roles else ""
        if "serial" in roles:
            if not serial_text:
                row.add(f"{PREFIX}.REQUIRED", roles["serial"], f"{roles['serial']} is empty")
            else:
                serial = check_serial(row, PREFIX, roles["serial"], serial_text, REGISTRIES[layout.registry][1],
                                      quantity)
        if serial is not None:
            self._cross_check(serial, project_id, country, vintage, roles["serial"], row)
        order = date_order()
        dates = {role: read_date(row, extra, get(roles[role], ""), roles[role], PREFIX, order)
                 for role in ("issued", "status_date") if role in roles}
        self._check_period(values, order, row)
        return UnitBlock(
            registry=layout.registry, serial=serial_text or None,
            first_id=serial.first if serial else None, last_id=serial.last if serial else None,
            quantity=quantity, vintage=vintage, status=layout.status, status_date=dates.get("status_date"),
            status_reason=get(roles.get("reason", ""), "") or None, account=get(roles.get("account", ""), "") or None,
            beneficiary=get(roles.get("beneficiary", ""), "") or None, project_id=project_id,
            project_name=get(roles["name"], "") or None, country=country, issuance_date=dates.get("issued"),
            corresponding_adjustment=get(roles.get("ca", ""), "") or None, extra=extra)

    @staticmethod
    def _check_period(values: dict[str, str], order: str, row: RowFindings) -> None:
        """Monitoring-period cells must be dates in the configured order (they stay as written in ``extra``)."""
        for column in PERIOD_COLUMNS:
            raw = values.get(column, "")
            if raw.strip():
                try:
                    parse_date(raw, order=order)
                except ValueError:
                    shown = "DD/MM/YYYY" if order == "dmy" else "MM/DD/YYYY"
                    row.add(f"{PREFIX}.DATE_INVALID", column,
                            f"{column} {raw!r} is not a date (YYYY-MM-DD or {shown}; the day and month order "
                            "is set by CARBONLINK_APX_DATE_ORDER)")

    def _cross_check(self, serial: Serial, project_id: str | None, country: str | None, vintage: int | None,
                     column: str, row: RowFindings) -> None:
        number = serial.part("project")
        if project_id is not None and number is not None:
            own = project_id.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ").lstrip("0")
            if number.lstrip("0") != own:
                row.add(f"{PREFIX}.SERIAL_MISMATCH", column,
                        f"the serial names project {number} but the project ID is {project_id}")
        code = serial.part("country")
        if country is not None and code is not None and country_from_name(code) not in (None, country):
            row.add(f"{PREFIX}.SERIAL_MISMATCH", column,
                    f"the serial names country {code} but the project country is {country_name(country)}")
        if vintage is not None and serial.vintage is not None and vintage != serial.vintage:
            row.add(f"{PREFIX}.SERIAL_MISMATCH", column,
                    f"the serial names vintage {serial.vintage} but Vintage is {vintage}")

    def _project(self, layout: ApxLayout, values: dict[str, str], extra: dict[str, Any],
                 project_id: str | None, country: str | None) -> Project | None:
        if project_id is None:
            return None
        roles = values.get
        r = layout.roles
        return Project(registry=layout.registry, project_id=project_id, name=roles(r["name"]) or None,
                       developer=roles(r["developer"]) or None, project_type=roles(r["project_type"]) or None,
                       methodology=roles(r.get("methodology", ""), "") or None,
                       status=roles(r["status"]) or None, country=country, extra=extra)

    # --- writing

    def write_rows(self, document: CanonicalDocument) -> tuple[dict[str, list[list[str]]], list[Loss]]:
        lost: dict[str, list[str]] = {}
        unplaced: dict[str, list[str]] = {}
        tables: dict[str, list[list[str]]] = {}
        for i, unit in enumerate(document.units):
            rid = f"units[{i}]"
            registry = registry_of(unit)
            kind = {UnitStatus.RETIRED: "retirements", UnitStatus.CANCELLED: "cancellations"}.get(
                unit.status or UnitStatus.ISSUED, "issuances")
            if registry is None:
                unplaced.setdefault("units", []).append(rid)
                continue
            layout = _BY_FILE[f"{REGISTRIES[registry][1]}-{kind}"]
            if unit.status not in (None, UnitStatus.ISSUED, UnitStatus.RETIRED, UnitStatus.CANCELLED):
                lost.setdefault("status", []).append(rid)
            tables.setdefault(layout.file.name, [list(layout.columns)]).append(
                self._unit_row(layout, unit, rid, lost))
        for i, project in enumerate(document.projects):
            rid = f"projects[{i}]"
            registry = project.registry if project.registry in REGISTRIES else registry_of(
                UnitBlock(project_id=project.project_id))
            if registry is None:
                unplaced.setdefault("projects", []).append(rid)
                continue
            layout = _BY_FILE[f"{REGISTRIES[registry][1]}-projects"]
            tables.setdefault(layout.file.name, [list(layout.columns)]).append(
                self._project_row(layout, project, rid, lost))
        if not tables:
            first = LAYOUTS[0]
            tables[first.file.name] = [list(first.columns)]
        losses = collect_losses(lost, "the APX report for this record has no column for it")
        losses.extend(collect_losses(unplaced, "no ACR/CAR/ART registry, project prefix or serial prefix: "
                                               "the record was not written"))
        losses.extend(other_record_losses(document))
        return tables, losses

    def _unit_row(self, layout: ApxLayout, unit: UnitBlock, rid: str, lost: dict[str, list[str]]) -> list[str]:
        roles = layout.roles
        extra = unit.extra
        for role, name in _UNIT_ROLE_FIELDS.items():
            if getattr(unit, name) is not None and role not in roles:
                lost.setdefault(name, []).append(rid)
        if unit.serial is None or "serial" not in roles:
            for name in ("first_id", "last_id"):
                if getattr(unit, name) is not None:
                    lost.setdefault(name, []).append(rid)
        for name in ("unit_type", "owner", "itmo_reference", "link"):
            if getattr(unit, name) is not None:
                lost.setdefault(name, []).append(rid)
        for key in extra:
            if key not in layout.columns:
                lost.setdefault(f"extra.{key}", []).append(rid)
        values = {k: v for k, v in extra.items() if isinstance(v, str)}
        values[roles["project_id"]] = unit.project_id or ""
        values[roles["name"]] = unit.project_name or ""
        values[roles["vintage"]] = "" if unit.vintage is None else str(unit.vintage)
        values[roles["country"]] = self.write_country(unit.country, extra, roles["country"])
        if unit.quantity is not None:
            quantity = unit.quantity
            values[roles["quantity"]] = native_or(extra, roles["quantity"], format(quantity, "f"),
                                                  same_quantity(quantity))
        else:
            values[roles["quantity"]] = ""
        for role, name in _UNIT_ROLE_FIELDS.items():
            if role not in roles:
                continue
            value = getattr(unit, name)
            if isinstance(value, date):
                values[roles[role]] = native_or(extra, roles[role], value.isoformat(), same_date(value, date_order()))
            else:
                values[roles[role]] = "" if value is None else str(value)
        return [values.get(c, "") for c in layout.columns]

    def _project_row(self, layout: ApxLayout, project: Project, rid: str, lost: dict[str, list[str]]) -> list[str]:
        roles = layout.roles
        for name in ("sector", "status_date", "link", "description", "origin_registry", "origin_project_id"):
            if getattr(project, name) is not None:
                lost.setdefault(f"projects.{name}", []).append(rid)
        if project.methodology is not None and "methodology" not in roles:
            lost.setdefault("projects.methodology", []).append(rid)
        for key in project.extra:
            if key not in layout.columns:
                lost.setdefault(f"projects.extra.{key}", []).append(rid)
        values = {k: v for k, v in project.extra.items() if isinstance(v, str)}
        for role, name in (("project_id", "project_id"), ("name", "name"), ("developer", "developer"),
                           ("project_type", "project_type"), ("methodology", "methodology"), ("status", "status")):
            if role in roles:
                values[roles[role]] = getattr(project, name) or ""
        values[roles["country"]] = self.write_country(project.country, project.extra, roles["country"])
        return [values.get(c, "") for c in layout.columns]


adapter = ApxAdapter()

"""The Isometric adapter: projects, issuances, credit batches and retirements to canonical records."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Any

from adapters.isometric._layouts import (
    BATCH_STATUS,
    CREDIT_BATCHES,
    ISSUANCE_URL,
    ISSUANCES,
    LAYOUTS,
    PREFIX,
    PROJECTS,
    REGISTRY,
    RETIREMENTS,
    RULES,
)
from adapters.registry_exports import Record, RowFindings
from adapters.role_exports import RoleExportAdapter, RoleLayout, read_year
from standards import (
    CanonicalDocument,
    Finding,
    InvalidSerial,
    Location,
    Project,
    RecordKind,
    UnitBlock,
    UnitStatus,
    parse_serial,
)

_THOUSAND = Decimal(1000)


class IsometricAdapter(RoleExportAdapter):
    """Isometric exports. Credits are tonnes with up to three decimals (the registry counts kilograms)."""

    name = "isometric"
    version = "1.0.0"
    description = "Isometric registry exports: projects, issuances, credit batches, retirements"
    reads = frozenset({RecordKind.ISSUANCES, RecordKind.RETIREMENTS, RecordKind.UNIT_BLOCKS,
                       RecordKind.PROJECTS})
    rules = RULES
    registry = REGISTRY
    layouts = LAYOUTS
    prefix = PREFIX
    serial_schemes = ("isometric",)

    def map_row_records(self, layout: RoleLayout, values: dict[str, str], extra: dict[str, Any],
                        row: RowFindings) -> list[Record]:
        self.keep_other_cells(layout, values, extra)
        if layout is PROJECTS:
            project = self._project(values, extra, row)
            return [project] if project is not None else []
        project_id = self._typed_id(layout, "project_id", "prj_", values, row)
        quantity = self.quantity(layout, values, extra, row)
        self._check_kgs(layout, values, quantity, row)
        fields = self.unit_fields(layout, values, extra, row)
        status = layout.status
        serial_text = None
        vintage = None
        if layout is CREDIT_BATCHES:
            status = self._batch_status(values, row)
            serial_text = self._serial(values, row)
            vintage = read_year(values.get("sequestered_on", ""))
            issuance = values.get("issuance_id", "").strip()
            if issuance.startswith("iss_"):
                fields.setdefault("link", ISSUANCE_URL.format(id=issuance))
        elif layout is RETIREMENTS:
            vintage = read_year(values.get("sequestered_on", ""))
        elif layout is ISSUANCES:
            own = self._typed_id(layout, "id", "iss_", values, row, column="id")
            if own is not None:
                fields.setdefault("link", ISSUANCE_URL.format(id=own))
        kgs_column = layout.roles["kgs"]
        if values.get(kgs_column):
            extra[kgs_column] = values[kgs_column]
        return [UnitBlock(registry=REGISTRY, serial=serial_text, quantity=quantity, vintage=vintage,
                          status=status, project_id=project_id, **fields, extra=extra)]

    def _typed_id(self, layout: RoleLayout, role: str, prefix: str, values: dict[str, str], row: RowFindings,
                  column: str | None = None) -> str | None:
        name = column or layout.roles[role]
        text = values.get(name, "").strip()
        if not text:
            row.add(f"{PREFIX}.REQUIRED", name, f"{name} is empty")
            return None
        if not text.startswith(prefix):
            row.add(f"{PREFIX}.ID_PREFIX", name, f"{name} {text!r} is not an Isometric {prefix}… id")
            return None
        return text

    def _check_kgs(self, layout: RoleLayout, values: dict[str, str], quantity: Decimal | None,
                   row: RowFindings) -> None:
        column = layout.roles["kgs"]
        raw = values.get(column, "").strip()
        if quantity is None or not raw:
            return
        if not raw.isdigit() or Decimal(raw) != quantity * _THOUSAND:
            row.add(f"{PREFIX}.KG_MISMATCH", column,
                    f"{column} {raw!r} is not {layout.roles['quantity']} {quantity} t in kilograms")

    def _batch_status(self, values: dict[str, str], row: RowFindings) -> UnitStatus | None:
        raw = values.get("status", "").strip()
        status = BATCH_STATUS.get(raw.casefold())
        if status is None:
            row.add(f"{PREFIX}.STATUS_UNKNOWN", "status",
                    f"credit batch status {raw!r} is not one of {', '.join(sorted(BATCH_STATUS))}")
        return status

    def _serial(self, values: dict[str, str], row: RowFindings) -> str | None:
        text = values.get("serial_number", "").strip()
        if not text:
            row.add(f"{PREFIX}.REQUIRED", "serial_number", "serial_number is empty")
            return None
        try:
            serial = parse_serial(text, "isometric")
        except InvalidSerial as exc:
            row.add(f"{PREFIX}.SERIAL_INVALID", "serial_number", exc.message)
            return text
        kgs = values.get("size.credit_kgs", "").strip()
        if kgs.isdigit() and serial.last - serial.first != int(kgs):
            row.add(f"{PREFIX}.SERIAL_QUANTITY", "serial_number",
                    f"serial {text} spans {serial.last - serial.first} kg (last - first) but size.credit_kgs is {kgs}")
        country = values.get("country_of_issue", "").strip()
        code = serial.part("country")
        if country and code and code != country:
            row.add(f"{PREFIX}.SERIAL_MISMATCH", "serial_number",
                    f"the serial names country {code} but country_of_issue is {country}")
        return text

    def _project(self, values: dict[str, str], extra: dict[str, Any], row: RowFindings) -> Project | None:
        project_id = self._typed_id(PROJECTS, "project_id", "prj_", values, row)
        fields = self.project_fields(PROJECTS, values)
        country = self.read_country(values.get("country_code", ""), "country_code", extra, row)
        if project_id is None:
            return None
        return Project(registry=REGISTRY, project_id=project_id, country=country, **fields, extra=extra)

    def check_document(self, document: CanonicalDocument) -> list[Finding]:
        """Credit batch ranges are kilograms with an exclusive end: two batches of one series overlap when
        one starts before the other ends."""
        rule = self.rules[f"{PREFIX}.SERIAL_OVERLAP"]
        spans: list[tuple[tuple[object, ...], int, int, int]] = []
        for i, unit in enumerate(document.units):
            try:
                serial = parse_serial(unit.serial or "", "isometric")
            except InvalidSerial:
                continue
            spans.append((serial.series, serial.first, serial.last, i))
        spans.sort(key=lambda s: (repr(s[0]), s[1]))
        out: list[Finding] = []
        for (series_a, _, end_a, i), (series_b, start_b, _, j) in pairwise(spans):
            if series_a == series_b and start_b < end_a:
                out.append(rule.finding(f"credit batches {document.units[i].serial} and {document.units[j].serial} "
                                        "overlap", Location(pointer=f"/units/{j}/serial")))
        return out

    # --- writing

    def layout_for_unit(self, unit: UnitBlock) -> RoleLayout | None:
        if unit.serial:
            return CREDIT_BATCHES
        if unit.status in (UnitStatus.ISSUED, None):
            return ISSUANCES
        if unit.status is UnitStatus.RETIRED:
            return RETIREMENTS
        return None

    def unit_values(self, layout: RoleLayout, unit: UnitBlock) -> dict[str, str]:
        out = {"project_id": unit.project_id or ""}
        if layout is CREDIT_BATCHES:
            out["serial_number"] = unit.serial or ""
            state = next((k for k, v in BATCH_STATUS.items() if v is unit.status), "")
            out["status"] = state
            if unit.country is not None:
                out["country_of_issue"] = unit.country
        if unit.quantity is not None:
            out[layout.roles["kgs"]] = format((unit.quantity * _THOUSAND).normalize(), "f")
        return out

    def unit_implied(self, unit: UnitBlock) -> set[str]:
        issuance = unit.extra.get("issuance_id") or unit.extra.get("id")
        return {"link"} if unit.link == ISSUANCE_URL.format(id=issuance) else set()

    def project_values(self, layout: RoleLayout, project: Project) -> dict[str, str]:
        return {"country_code": project.country or ""}


adapter = IsometricAdapter()

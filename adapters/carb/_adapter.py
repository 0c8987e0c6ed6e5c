"""The CARB adapter: each issuance row of the ARB offset credit issuance table becomes the unit blocks
its columns account for (held, buffer, retired per purpose, invalidated), and back."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from adapters.carb._layouts import (
    BUFFER,
    BUFFER_RETIRED,
    DISPOSITIONS,
    ISSUANCE_TABLE,
    ISSUED,
    LAYOUTS,
    PREFIX,
    REGISTRY,
    RULES,
)
from adapters.registry_exports import Record, RowFindings, other_record_losses, render_quantity
from adapters.role_exports import RoleExportAdapter, RoleLayout
from standards import CanonicalDocument, Loss, RecordKind, Severity, UnitBlock, UnitStatus, collect_losses

_PROJECT_ID = re.compile(r"CA[A-Z]{2}\d+")
_ZERO = Decimal(0)
#: ARB offset projects are located in the United States (the Compliance Offset Protocols' geographic
#: scope; the table's State column names the US state), so every block's country is the United States.
UNITED_STATES = "USA"
#: The canonical status and reason of each block kind a row yields ("" reason: the held remainder).
_HELD, _BUFFER_HELD = "", BUFFER


class CarbAdapter(RoleExportAdapter):
    """ARB compliance offset credits as CARB publishes their issuance (one wide row per issuance)."""

    name = "carb"
    version = "1.0.0"
    description = "California Air Resources Board: ARB offset credit issuance table (compliance offsets)"
    reads = frozenset({RecordKind.ISSUANCES, RecordKind.RETIREMENTS, RecordKind.CANCELLATIONS,
                       RecordKind.UNIT_BLOCKS})
    rules = RULES
    registry = REGISTRY
    layouts = LAYOUTS
    prefix = PREFIX

    def map_row_records(self, layout: RoleLayout, values: dict[str, str], extra: dict[str, Any],
                        row: RowFindings) -> list[Record]:
        self.keep_other_cells(layout, values, extra)
        project_id = self.required_text(layout, "project_id", values, row)
        if project_id is not None and not _PROJECT_ID.fullmatch(project_id):
            row.add(f"{PREFIX}.PROJECT_ID", layout.roles["project_id"],
                    f"CARB Project ID {project_id!r} is not CA + two letters + digits (CAOD1007)")
        issued = self.quantity(layout, values, extra, row, required=False)
        if issued is None or issued == _ZERO:
            row.add(f"{PREFIX}.NO_CREDITS", ISSUED, "no ARB offset credits were issued for this reporting period",
                    severity=Severity.INFO)
            return []
        issuance = self.required_text(layout, "issuance", values, row)
        amounts = {column: self.quantity(layout, values, extra, row, column, required=False) or _ZERO
                   for column in (BUFFER, BUFFER_RETIRED, *(c for c, _ in DISPOSITIONS))}
        disposed = sum((amounts[c] for c, _ in DISPOSITIONS), _ZERO)
        held = issued - amounts[BUFFER] - disposed
        buffer_held = amounts[BUFFER] - amounts[BUFFER_RETIRED]
        if held < 0 or buffer_held < 0:
            row.add(f"{PREFIX}.DISPOSITION_SUM", ISSUED,
                    f"{issued} credits issued, but {disposed} retired or invalidated and a buffer of "
                    f"{amounts[BUFFER]} ({amounts[BUFFER_RETIRED]} of it retired) account for more")
            return []
        extra["CARB Issuance ID"] = issuance or ""
        base = {"registry": REGISTRY, "project_id": project_id, "country": UNITED_STATES,
                "vintage": self.vintage(layout, values, extra, row),
                **self.unit_fields(layout, values, extra, row)}
        blocks = [(held, UnitStatus.ISSUED, None), (buffer_held, UnitStatus.BUFFER, None),
                  (amounts[BUFFER_RETIRED], UnitStatus.RETIRED, BUFFER_RETIRED),
                  *((amounts[c], status, c) for c, status in DISPOSITIONS)]
        return [UnitBlock(**base, quantity=quantity, status=status, status_reason=reason, extra=dict(extra))
                for quantity, status, reason in blocks if quantity > 0]

    # --- writing: the blocks of one issuance back into its row

    def write_rows(self, document: CanonicalDocument) -> tuple[dict[str, list[list[str]]], list[Loss]]:
        layout = ISSUANCE_TABLE
        rows: dict[str, dict[str, Any]] = {}
        unplaced: dict[str, list[str]] = {}
        lost: dict[str, list[str]] = {}
        for i, unit in enumerate(document.units):
            rid = f"units[{i}]"
            issuance = str(unit.extra.get("CARB Issuance ID") or "")
            column = self._column_of(unit)
            if not issuance or column is None or unit.quantity is None or unit.registry not in (None, REGISTRY) \
                    or unit.country not in (None, UNITED_STATES):
                unplaced.setdefault("units", []).append(rid)
                continue
            for name in ("serial", "first_id", "last_id", "unit_type", "owner", "account", "beneficiary",
                         "status_date", "itmo_reference", "corresponding_adjustment"):
                if getattr(unit, name) is not None:
                    lost.setdefault(name, []).append(rid)
            entry = rows.setdefault(issuance, {"unit": unit, "amounts": {}})
            amounts: dict[str, Decimal] = entry["amounts"]
            amounts[column] = amounts.get(column, _ZERO) + unit.quantity
        for i in range(len(document.projects)):
            unplaced.setdefault("projects", []).append(f"projects[{i}]")
        table = [list(layout.columns)]
        for entry in rows.values():
            table.append(self._row(entry["unit"], entry["amounts"]))
        losses = collect_losses(lost, "the CARB issuance table has no column for it")
        losses.extend(collect_losses(unplaced, "not an ARB offset credit block of a CARB issuance (no CARB "
                                               "Issuance ID, or a status the table does not hold): not written"))
        losses.extend(other_record_losses(document))
        return {layout.name: table}, losses

    @staticmethod
    def _column_of(unit: UnitBlock) -> str | None:
        if unit.status in (UnitStatus.ISSUED, UnitStatus.HELD):
            return _HELD
        if unit.status is UnitStatus.BUFFER:
            return _BUFFER_HELD
        for column, status in ((BUFFER_RETIRED, UnitStatus.RETIRED), *DISPOSITIONS):
            if unit.status is status and unit.status_reason == column:
                return column
        return None

    def _row(self, unit: UnitBlock, amounts: dict[str, Decimal]) -> list[str]:
        layout = ISSUANCE_TABLE
        values = {k: v for k, v in unit.extra.items() if isinstance(v, str) and k in layout.columns}
        values.update({"CARB Project ID": unit.project_id or "", "Offset Project Name": unit.project_name or "",
                       "Project Documentation": unit.link or "",
                       "Issuance Date": unit.issuance_date.isoformat() if unit.issuance_date else ""})
        if unit.vintage is not None and not values.get("Vintage"):
            values["Vintage"] = str(unit.vintage)
        issued = sum(amounts.values(), _ZERO)
        buffer = amounts.get(_BUFFER_HELD, _ZERO) + amounts.get(BUFFER_RETIRED, _ZERO)
        values[ISSUED] = render_quantity(issued)
        values[BUFFER] = render_quantity(buffer) if buffer else ""
        for column in (BUFFER_RETIRED, *(c for c, _ in DISPOSITIONS)):
            values[column] = render_quantity(amounts.get(column, _ZERO))
        return [values.get(c, "") for c in layout.columns]

    def layout_for_unit(self, unit: UnitBlock) -> RoleLayout | None:
        return ISSUANCE_TABLE if self._column_of(unit) is not None else None


adapter = CarbAdapter()

"""ACME national registry: a CSV export of credit blocks, one block per row.

This module stands for a third-party distribution: it imports nothing from carbonlink but the
public ``standards`` and ``adapters`` packages, and it is found through an entry point.

Columns: ``Project``, ``Country``, ``Vintage``, ``Quantity``, ``Status`` (Issued or Retired),
``Retired On`` (DD/MM/YYYY or ISO) and an optional ``Note`` kept in ``extra``.
"""

from __future__ import annotations

from typing import Any

from adapters import (
    CsvExportAdapter,
    ExportFile,
    RowFindings,
    RowMapper,
    declare_common_rules,
    iso_date,
    keep_native,
    native_or,
    other_record_losses,
    parse_quantity,
    read_date,
    render_quantity,
    rule_declarer,
    same_date,
    same_quantity,
)
from standards import (
    CanonicalDocument,
    Layer,
    Loss,
    Medium,
    RecordKind,
    RuleCatalogue,
    Severity,
    UnitBlock,
    UnitStatus,
    collect_losses,
)

PREFIX = "ACME"
REFERENCE = "ACME registry public export (example adapter)"
BLOCKS = ExportFile(
    "blocks",
    ("Project", "Country", "Vintage", "Quantity", "Status", "Retired On", "Note"),
    ("Project", "Quantity", "Status"),
    "units", "credit blocks, held or retired")
_STATUS_IN = {"issued": UnitStatus.ISSUED, "retired": UnitStatus.RETIRED}
_STATUS_OUT = {UnitStatus.ISSUED: "Issued", UnitStatus.RETIRED: "Retired"}


def _rules() -> RuleCatalogue:
    rules = RuleCatalogue("acme-export")
    declare_common_rules(rules, PREFIX, REFERENCE)
    declare = rule_declarer(rules)
    declare(f"{PREFIX}.STATUS", Severity.ERROR, Layer.CODE_LIST, "Status is Issued or Retired", REFERENCE)
    return rules


class AcmeExportAdapter(CsvExportAdapter):
    """ACME registry CSV exports of credit blocks."""

    name = "acme-export"
    version = "0.1.0"
    description = "ACME national registry CSV export (third-party example)"
    reads = frozenset({RecordKind.UNIT_BLOCKS})
    writes = reads
    media = (Medium.CSV,)
    rules = _rules()
    files = (BLOCKS,)
    prefix = PREFIX

    def map_row(self, mapper: RowMapper, values: dict[str, str], extra: dict[str, Any],
                row: RowFindings) -> UnitBlock | None:
        project = values.get("Project", "").strip()
        if not project:
            row.add(f"{PREFIX}.REQUIRED", "Project", "the Project is empty")
        quantity = None
        try:
            quantity = parse_quantity(values.get("Quantity", ""))
            keep_native(extra, "Quantity", values["Quantity"], render_quantity(quantity))
        except ValueError:
            row.add(f"{PREFIX}.QUANTITY_INVALID", "Quantity", f"{values.get('Quantity')!r} is not a quantity")
        status = _STATUS_IN.get(values.get("Status", "").strip().casefold())
        if status is None:
            row.add(f"{PREFIX}.STATUS", "Status", f"{values.get('Status')!r} is not Issued or Retired")
        vintage_text = values.get("Vintage", "").strip()
        vintage = int(vintage_text) if vintage_text.isdigit() and 1900 <= int(vintage_text) <= 2100 else None
        if vintage_text and vintage is None:
            row.add(f"{PREFIX}.VINTAGE_INVALID", "Vintage", f"{vintage_text!r} is not a year in 1900-2100")
        retired = read_date(row, extra, values.get("Retired On", ""), "Retired On", PREFIX, "dmy")
        country = self.read_country(values.get("Country", ""), "Country", extra, row)
        if values.get("Note"):
            extra["Note"] = values["Note"]
        if not project or quantity is None or status is None:
            return None
        return UnitBlock(registry=self.name, project_id=project, country=country, vintage=vintage,
                         quantity=quantity, status=status, status_date=retired, extra=extra)

    def write_rows(self, document: CanonicalDocument) -> tuple[dict[str, list[list[str]]], list[Loss]]:
        lost: dict[str, list[str]] = {}
        rows = [list(BLOCKS.columns)]
        for i, unit in enumerate(document.units):
            rid = f"units[{i}]"
            if unit.status not in (None, *_STATUS_OUT):
                lost.setdefault("status", []).append(rid)
            for name in ("serial", "owner", "account", "beneficiary"):
                if getattr(unit, name) is not None:
                    lost.setdefault(name, []).append(rid)
            extra = unit.extra
            quantity = "" if unit.quantity is None else native_or(
                extra, "Quantity", render_quantity(unit.quantity), same_quantity(unit.quantity))
            retired_on = native_or(extra, "Retired On", iso_date(unit.status_date), same_date(unit.status_date, "dmy"))
            rows.append([unit.project_id or "", self.write_country(unit.country, extra, "Country"),
                         "" if unit.vintage is None else str(unit.vintage), quantity,
                         _STATUS_OUT.get(unit.status or UnitStatus.ISSUED, "Issued"), retired_on,
                         str(extra.get("Note", ""))])
        losses = collect_losses(lost, "the ACME export has no column for this")
        losses.extend(other_record_losses(document))
        return {"blocks": rows}, losses


adapter = AcmeExportAdapter()

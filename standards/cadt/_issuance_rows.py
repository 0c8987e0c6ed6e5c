"""Issuance-report rows: rows of a registry's issuances report that name no serial block.

ACR, CAR and ART TREES publish issuances as one row per issuance event, without the serial block a
CAD Trust v1 unit needs (``unitBlockStart``/``unitBlockEnd`` are required). Such a row is carried
as what it is, an issuance of its project (linked as any unit's issuance is), and not as a unit:
the v1 issuance has no quantity, so the quantity is listed as a loss. A row that cannot be linked
either (no monitoring period, no project) is a record left out, with the reason.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from standards.cadt.common import LossLog
from standards.cadt.vocab import registry_vocabulary
from standards.findings import Finding, Location
from standards.model import CanonicalDocument, UnitBlock, UnitStatus

_AS_ISSUANCE = ("an issuance report row names no serial block, which a CAD Trust v1 unit requires: it is "
                "written as its project's issuance, which holds no quantity")
#: How the findings about an issuance-report row that was not linked begin (they point at no record).
ISSUANCE_ROW_PREFIX = "issuance report row "
_NOT_LINKED = ("an issuance report row names no serial block, which a CAD Trust v1 unit requires, and could not "
               "be linked as its project's issuance (see the findings): not written")


def is_issuance_row(unit: UnitBlock) -> bool:
    """An issuance event of a registry with a vocabulary file, with no serial and no block bounds."""
    return (unit.status in (None, UnitStatus.ISSUED) and not unit.serial and unit.first_id is None
            and unit.last_id is None and registry_vocabulary(unit.registry) is not None)


def row_id(index: int, project_id: str | None) -> str:
    """How an issuance-report row is named in the losses: its place among the units read, and its project."""
    return f"#{index} (project {project_id})" if project_id else f"#{index}"


def lose_row(losses: LossLog, index: int, project_id: str | None, linked: bool, version: str) -> None:
    """The loss of the ``index``-th record read, an issuance-report row: its quantity when it was linked as its
    project's issuance, else the whole record."""
    rid = row_id(index, project_id)
    if linked:
        losses.add("unit.quantity", rid, _AS_ISSUANCE.replace("CAD Trust v1", f"CAD Trust {version}"))
    else:
        losses.add("units.record", rid, not_linked(version))


def not_linked(version: str) -> str:
    """Why an issuance-report row that is not written as its project's issuance is a lost record."""
    return _NOT_LINKED.replace("CAD Trust v1", f"CAD Trust {version}")


def lose_rows_of(losses: LossLog, project_ids: set[str], version: str) -> None:
    """Issuance-report rows written as the issuance of a project that is then left out are lost records."""
    listed = losses.fields.get("unit.quantity", [])
    lost = [rid for rid in listed if any(rid.endswith(f" (project {pid})") for pid in project_ids)]
    if not lost:
        return
    losses.fields["unit.quantity"] = [rid for rid in listed if rid not in lost]
    if not losses.fields["unit.quantity"]:
        del losses.fields["unit.quantity"], losses.reasons["unit.quantity"]
    losses.add_many("units.record", lost, not_linked(version))


def split_issuance_rows(doc: CanonicalDocument, units: list[dict[str, Any]], linked: set[int],
                        findings: list[Finding], losses: LossLog, *, resource: str = "units", version: str = "v1",
                        ) -> tuple[list[dict[str, Any]], list[Finding]]:
    """The unit records without the issuance rows, and the linker's findings with unit indices renumbered
    (findings about an issuance row that was linked are dropped: the row is not a unit; those of a row
    that was not linked are kept, pointing at the row's place among the units read). ``resource`` is the
    units' key in the document's pointers (``units`` in v1, ``unit`` in v2)."""
    rows = {i for i, unit in enumerate(doc.units) if is_issuance_row(unit)}
    if not rows:
        return units, findings
    for i in sorted(rows):
        lose_row(losses, i, doc.units[i].project_id, i in linked, version)
    renumbered: dict[int, int] = {}
    for i in range(len(units)):
        if i not in rows:
            renumbered[i] = len(renumbered)
    kept: list[Finding] = []
    for finding in findings:
        parts = (finding.location.pointer or "").split("/")
        if len(parts) > 2 and parts[1] == resource and parts[2].isdigit():
            index = int(parts[2])
            if index in rows:
                if index not in linked and finding.is_error:
                    kept.append(replace(finding, location=Location(pointer=""),
                                        message=f"{ISSUANCE_ROW_PREFIX}{index}: {finding.message}"))
                continue
            parts[2] = str(renumbered[index])
            finding = replace(finding, location=replace(finding.location, pointer="/".join(parts)))
        kept.append(finding)
    return [u for i, u in enumerate(units) if i not in rows], kept

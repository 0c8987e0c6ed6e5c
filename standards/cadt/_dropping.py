"""Writing what can be written: records carbonlink flags are left out and listed as losses.

Used when the user accepts losses (``carbonlink translate --accept-losses``): every v1 project or
unit an error finding points at is removed from the document and recorded as a lost record, with
the finding's message as the reason; a unit whose project was removed keeps its block but loses
its issuance link (also listed). The findings themselves are kept as warnings, so the report still
says why each record is missing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from standards.cadt._issuance_rows import ISSUANCE_ROW_PREFIX, lose_rows_of
from standards.cadt.common import LossLog
from standards.findings import Finding, Severity


def _record_of(finding: Finding) -> tuple[str, int] | None:
    parts = (finding.location.pointer or "").split("/")
    if len(parts) > 2 and parts[1] in ("projects", "units") and parts[2].isdigit():
        return parts[1], int(parts[2])
    return None


def _unlinked_row(finding: Finding) -> bool:
    """A finding about an issuance-report row that was not linked (listed as a lost ``units.record``)."""
    return not finding.location.pointer and finding.message.startswith(ISSUANCE_ROW_PREFIX)


def drop_flagged(native: dict[str, Any], findings: list[Finding], losses: LossLog) -> list[Finding]:
    """Remove the records error ``findings`` point at from ``native``; the findings come back as warnings."""
    # an issuance-report row that could not be linked is already a lost record (its findings point nowhere)
    findings = [replace(f, severity=Severity.WARNING) if f.is_error and _unlinked_row(f) else f for f in findings]
    reasons: dict[tuple[str, int], list[str]] = {}
    for finding in findings:
        where = _record_of(finding) if finding.is_error else None
        if where is not None:
            reasons.setdefault(where, []).append(finding.rule)
    dropped_projects: set[str] = set()
    dropped_names: set[str] = set()
    for (resource, index), rules in sorted(reasons.items()):
        record = native[resource][index]
        if resource == "projects" and record.get("warehouseProjectId"):
            dropped_projects.add(str(record["warehouseProjectId"]))
        if resource == "projects" and record.get("projectId"):
            dropped_names.add(str(record["projectId"]))
        block = f"{record.get('unitBlockStart')}-{record.get('unitBlockEnd')}" \
            if record.get("unitBlockStart") is not None else f"unit {index} of the v1 document"
        rid = str(record.get("projectId") or f"project {index} of the v1 document") if resource == "projects" \
            else block
        losses.add(f"{resource}.record", rid, f"not written: {', '.join(sorted(set(rules)))} (see the findings)")
    for resource in ("projects", "units"):
        native[resource] = [r for i, r in enumerate(native.get(resource, [])) if (resource, i) not in reasons]
    for unit in native.get("units", []):
        issuance = unit.get("issuance")
        if isinstance(issuance, dict) and str(issuance.get("warehouseProjectId")) in dropped_projects:
            unit.pop("issuance", None)
            unit.pop("issuanceId", None)
            losses.add("units.issuance", f"{unit.get('unitBlockStart')}-{unit.get('unitBlockEnd')}",
                       "its project was not written, so the unit is written without its issuance link")
    lose_rows_of(losses, dropped_names, "v1")
    return [replace(f, severity=Severity.WARNING) if f.is_error and _record_of(f) in reasons else f
            for f in findings]

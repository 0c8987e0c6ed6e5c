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
    findings = demote_unlinked_rows(findings)
    reasons = flagged_records(findings)
    dropped_projects: set[str] = set()
    dropped_names: set[str] = set()
    for (resource, index), rules in sorted(reasons.items()):
        record = native[resource][index]
        if resource == "projects":
            note_dropped_project(record, dropped_projects, dropped_names)
        losses.add(f"{resource}.record", lost_record_id(resource, index, record), not_written(rules))
    for resource in ("projects", "units"):
        native[resource] = [r for i, r in enumerate(native.get(resource, [])) if (resource, i) not in reasons]
    for unit in native.get("units", []):
        unlink_from_dropped(unit, dropped_projects, losses)
    lose_rows_of(losses, dropped_names, "v1")
    return demote_flagged(findings, reasons)


# -- the steps, each also taken by the v1 stream (standards/cadt/stream_v1.py) one record at a time ----------

def demote_unlinked_rows(findings: list[Finding]) -> list[Finding]:
    """An issuance-report row that could not be linked is already a lost record (its findings point nowhere):
    its errors become warnings."""
    return [replace(f, severity=Severity.WARNING) if f.is_error and _unlinked_row(f) else f for f in findings]


def flagged_records(findings: list[Finding]) -> dict[tuple[str, int], list[str]]:
    """The records error ``findings`` point at, each with the rules of those findings."""
    reasons: dict[tuple[str, int], list[str]] = {}
    for finding in findings:
        where = _record_of(finding) if finding.is_error else None
        if where is not None:
            reasons.setdefault(where, []).append(finding.rule)
    return reasons


def note_dropped_project(record: dict[str, Any], dropped_projects: set[str], dropped_names: set[str]) -> None:
    """A project left out: its ``warehouseProjectId`` (its units lose their issuance link) and its ``projectId``
    (its issuance-report rows are lost records)."""
    if record.get("warehouseProjectId"):
        dropped_projects.add(str(record["warehouseProjectId"]))
    if record.get("projectId"):
        dropped_names.add(str(record["projectId"]))


def lost_record_id(resource: str, index: int, record: dict[str, Any]) -> str:
    """How a record left out is named in the losses: a project by its id, a unit by its block."""
    if resource == "projects":
        return str(record.get("projectId") or f"project {index} of the v1 document")
    if record.get("unitBlockStart") is not None:
        return f"{record.get('unitBlockStart')}-{record.get('unitBlockEnd')}"
    return f"unit {index} of the v1 document"


def not_written(rules: list[str]) -> str:
    return f"not written: {', '.join(sorted(set(rules)))} (see the findings)"


def unlink_from_dropped(unit: dict[str, Any], dropped_projects: set[str], losses: LossLog) -> bool:
    """Remove the issuance link of a unit whose project was left out (a loss); whether it had one."""
    issuance = unit.get("issuance")
    if not (isinstance(issuance, dict) and str(issuance.get("warehouseProjectId")) in dropped_projects):
        return False
    unit.pop("issuance", None)
    unit.pop("issuanceId", None)
    losses.add("units.issuance", f"{unit.get('unitBlockStart')}-{unit.get('unitBlockEnd')}",
               "its project was not written, so the unit is written without its issuance link")
    return True


def demote_flagged(findings: list[Finding], reasons: dict[tuple[str, int], list[str]]) -> list[Finding]:
    """The errors about records left out become warnings (the losses point at them)."""
    return [replace(f, severity=Severity.WARNING) if f.is_error and _record_of(f) in reasons else f
            for f in findings]

"""Writing what can be written, CAD Trust v2: flagged projects and units are left out with what hangs on them.

Used when the user accepts losses (``carbonlink translate --to cadt-v2 --accept-losses``), as
:mod:`standards.cadt._dropping` is for v1. A v2 document links its records by ``cadTrust*Id``, so leaving a
record out must not leave a link to nothing behind:

* a project an error finding points at is left out with every record attached to it (location,
  verification, stakeholder, project methodology, ... through ``cadTrustProjectId``), and the issuances
  built on those;
* a record attached to a project (an issuance through its verification) that has an error takes its project
  out with it; a unit label takes its unit;
* a unit an error points at, or whose issuance was left out, is left out (a v2 unit requires its
  ``cadTrustIssuanceId``); a methodology no remaining project uses is not written.

Each project or unit left out is a lost record (``projects.record``, ``units.record``) with the rules that
flagged it; the findings stay in the report as warnings. The findings are the linker's and the v2
validator's on the document as written, repeated until the document passes (leaving a record out can leave
another unlinked).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from standards.cadt._issuance_rows import lose_rows_of
from standards.cadt.common import LossLog
from standards.findings import Finding, Severity

#: At most this many rounds of validate-and-drop (each round can only unlink records of the round before).
_ROUNDS = 4

Checker = Callable[[dict[str, Any]], list[Finding]]


def drop_flagged_v2(native: dict[str, Any], findings: list[Finding], losses: LossLog,
                    check: Checker) -> list[Finding]:
    """Remove from ``native`` the projects and units error findings point at (see the module docstring);
    ``check`` gives the error findings on the document as it stands. The findings come back, those of
    removed records as warnings; an error no record can be left out for stays an error."""
    # an issuance-report row that could not be linked is already a lost record (its findings point nowhere)
    pending = [replace(f, severity=Severity.WARNING) if f.is_error and not f.location.pointer else f
               for f in findings]
    kept: list[Finding] = []
    for _ in range(_ROUNDS):
        projects, units, attributed = _flagged(native, pending)
        if not projects and not units:
            break
        _remove(native, projects, units, losses)
        kept += [replace(f, severity=Severity.WARNING) if i in attributed else f
                 for i, f in enumerate(pending) if i in attributed or not f.is_error]
        pending = check(native)
    return kept + pending


def _record_of(finding: Finding) -> tuple[str, int] | None:
    parts = (finding.location.pointer or "").split("/")
    if len(parts) > 2 and parts[2].isdigit():
        return parts[1], int(parts[2])
    return None


def _flagged(native: dict[str, Any], findings: list[Finding],
             ) -> tuple[dict[str, set[str]], dict[str, set[str]], set[int]]:
    """The projects (by ``cadTrustProjectId``) and units (by position) to leave out, each with the rules that
    flagged it, and the positions of the findings that name them."""
    projects: dict[str, set[str]] = {}
    units: dict[str, set[str]] = {}
    attributed: set[int] = set()
    verifications = {str(v.get("cadTrustVerificationId")): v for v in native.get("verification", [])}
    for i, finding in enumerate(findings):
        where = _record_of(finding) if finding.is_error else None
        records = native.get(where[0], []) if where else []
        if where is None or where[1] >= len(records):
            continue
        resource, record = where[0], records[where[1]]
        owners: list[str] = []
        if resource == "unit":
            owners = [str(where[1])]
        elif resource == "unit-label":
            owners = [str(i) for i, u in enumerate(native.get("unit", []))
                      if u.get("cadTrustUnitId") == record.get("cadTrustUnitId")]
        for unit in owners:
            units.setdefault(unit, set()).add(finding.rule)
        if resource not in ("unit", "unit-label"):
            owners = _projects_of(native, resource, record, verifications)
            for project_id in owners:
                projects.setdefault(project_id, set()).add(finding.rule)
        if owners:
            attributed.add(i)
    return projects, units, attributed


def _projects_of(native: dict[str, Any], resource: str, record: dict[str, Any],
                 verifications: dict[str, dict[str, Any]]) -> list[str]:
    """The projects a record hangs on: its own ``cadTrustProjectId``; an issuance's through its verification;
    a methodology's through the project methodologies that use it."""
    if record.get("cadTrustProjectId"):
        return [str(record["cadTrustProjectId"])]
    if resource == "project":  # a project carbonlink did not link has no id: its position names it
        return [f"#{native['project'].index(record)}"]
    if resource == "issuance":
        verification = verifications.get(str(record.get("cadTrustVerificationId")), {})
        return [str(verification["cadTrustProjectId"])] if verification.get("cadTrustProjectId") else []
    if resource == "methodology":
        methodology = record.get("cadTrustMethodologyId")
        return [str(link["cadTrustProjectId"]) for link in native.get("project-methodology", [])
                if link.get("cadTrustMethodologyId") == methodology and link.get("cadTrustProjectId")]
    return []


def _remove(native: dict[str, Any], projects: dict[str, set[str]], units: dict[str, set[str]],
            losses: LossLog) -> None:
    kept_projects: list[dict[str, Any]] = []
    dropped: set[str] = set()
    for i, project in enumerate(native.get("project", [])):
        rules = projects.get(str(project.get("cadTrustProjectId") or f"#{i}"))
        if rules is None:
            kept_projects.append(project)
        else:
            dropped.add(str(project.get("projectId")))
            losses.add("projects.record", str(project.get("projectId") or f"project {i} of the v2 document"),
                       f"not written: {', '.join(sorted(rules))} (see the findings)")
    gone_ids: set[str] = set(projects)
    for resource, records in list(native.items()):
        if resource != "project" and isinstance(records, list):
            native[resource] = [r for r in records if str(r.get("cadTrustProjectId")) not in gone_ids
                                or not r.get("cadTrustProjectId")]
    native["project"] = kept_projects
    _remove_unlinked_issuances(native)
    issuances = {str(i.get("cadTrustIssuanceId")) for i in native.get("issuance", [])}
    written: list[dict[str, Any]] = []
    for i, unit in enumerate(native.get("unit", [])):
        rid = str(unit.get("unitSerialId") or f"unit {i} of the v2 document")
        if str(i) in units:
            losses.add("units.record", rid, f"not written: {', '.join(sorted(units[str(i)]))} (see the findings)")
        elif unit.get("cadTrustIssuanceId") and str(unit["cadTrustIssuanceId"]) not in issuances:
            losses.add("units.record", rid, "not written: its project (and so its issuance) was not written, and a "
                       "CAD Trust v2 unit requires its cadTrustIssuanceId")
        else:
            written.append(unit)
    native["unit"] = written
    lose_rows_of(losses, dropped, "v2")
    kept_units = {str(u.get("cadTrustUnitId")) for u in written}
    if "unit-label" in native:
        native["unit-label"] = [r for r in native["unit-label"] if str(r.get("cadTrustUnitId")) in kept_units]
    used = {str(link.get("cadTrustMethodologyId")) for link in native.get("project-methodology", [])}
    if "methodology" in native:
        native["methodology"] = [m for m in native["methodology"] if str(m.get("cadTrustMethodologyId")) in used]
    for resource in [name for name, records in native.items() if isinstance(records, list) and not records]:
        del native[resource]


def _remove_unlinked_issuances(native: dict[str, Any]) -> None:
    """Issuances whose verification, location or project methodology was left out go too."""
    present = {key: {str(r.get(key)) for r in native.get(resource, [])}
               for resource, key in (("verification", "cadTrustVerificationId"), ("location", "cadTrustLocationId"),
                                     ("project-methodology", "cadTrustProjectMethodologyId"))}
    if "issuance" in native:
        native["issuance"] = [i for i in native["issuance"]
                              if all(not i.get(key) or str(i[key]) in ids for key, ids in present.items())]

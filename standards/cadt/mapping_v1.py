"""CAD Trust v1 documents <-> the canonical model.

A v1 document is ``{"projects": [...], "units": [...]}`` as the v1 API returns them: projects
carry their seven child arrays, units their ``issuance`` object and ``labels``. Projects become
:class:`~standards.model.Project`, units :class:`~standards.model.UnitBlock`; every native field
the canonical model has no place for (``warehouseProjectId``, ``orgUid``, the child arrays,
``coveredByNDC``, ``unitBlockStart``/``unitBlockEnd`` as given, ...) is kept in ``extra`` under
its CADT name, so a v1 -> canonical -> v1 round trip gives the same records back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from standards.cadt._issuance_rows import split_issuance_rows
from standards.cadt.common import (
    MOVES_V2_TO_V1,
    STATUS_V1,
    LossLog,
    build_record,
    country_alpha3,
    country_name,
    in_field_order,
    json_number,
    place_extra_or_lose,
    put_block_bounds,
    status_name,
    to_date,
    to_decimal,
    without_none,
)
from standards.cadt.linking import V1Linker
from standards.cadt.operator import OperatorProfile
from standards.cadt.picklists import Picklists
from standards.cadt.rules import RULES_V1
from standards.cadt.spec import load_spec
from standards.cadt.validate import Locator, Validation, as_block_int, default_locator
from standards.findings import Finding
from standards.model import CanonicalDocument, Project, UnitBlock

PROJECT_MAP = {  # canonical attribute -> v1 field
    "registry": "currentRegistry", "project_id": "projectId", "name": "projectName",
    "developer": "projectDeveloper", "sector": "sector", "project_type": "projectType",
    "methodology": "methodology", "status": "projectStatus", "status_date": "projectStatusDate",
    "link": "projectLink", "description": "description", "origin_registry": "registryOfOrigin",
    "origin_project_id": "originProjectId",
}
UNIT_MAP = {
    "quantity": "unitCount", "vintage": "vintageYear", "unit_type": "unitType", "status": "unitStatus",
    "status_reason": "unitStatusReason", "owner": "unitOwner", "country": "countryJurisdictionOfOwner",
    "link": "unitRegistryLink", "corresponding_adjustment": "correspondingAdjustmentDeclaration",
}
#: Kept in extra only so the export round-trips; they come from the native record as given.
UNIT_NATIVE_ONLY = ("unitBlockStart", "unitBlockEnd")
STATUS_NAMES = {status: name for name, status in STATUS_V1.items()}
NO_PLACE = "CAD Trust v1 has no field for it"


def to_document(validation: Validation, picklists: Picklists,
                locate: Locator = default_locator) -> tuple[CanonicalDocument, list[Finding]]:
    doc = CanonicalDocument()
    findings: list[Finding] = []
    projects_by_wid: dict[str, dict[str, Any]] = {}
    for rec in validation.passed("projects"):
        p = rec.data
        if p.get("warehouseProjectId") is not None:
            projects_by_wid[str(p["warehouseProjectId"])] = p
        extra = {k: v for k, v in p.items() if k not in PROJECT_MAP.values() and v is not None}
        for key in ("projectId", "originProjectId"):
            if p.get(key) is not None and not isinstance(p[key], str):
                extra[key] = p[key]  # a number as given, so the output writes it back as a number
        locations = p.get("projectLocations") or []
        first_country = locations[0].get("country") if locations and isinstance(locations[0], dict) else None
        project_record = build_record(Project, findings, RULES_V1["CADT.V1.TYPE"], rec, dict(
            registry=p.get("currentRegistry"), project_id=str(p["projectId"]), name=p.get("projectName"),
            country=country_alpha3(first_country), developer=p.get("projectDeveloper"),
            sector=p.get("sector"), project_type=p.get("projectType"), methodology=p.get("methodology"),
            status=p.get("projectStatus"), status_date=to_date(p.get("projectStatusDate")),
            link=p.get("projectLink"), description=p.get("description"),
            origin_registry=p.get("registryOfOrigin"),
            origin_project_id=None if p.get("originProjectId") is None else str(p["originProjectId"]),
            extra=extra), locate)
        if isinstance(project_record, Project):
            doc.projects.append(project_record)
    for rec in validation.passed("units"):
        u = rec.data
        issuance = u.get("issuance") if isinstance(u.get("issuance"), dict) else None
        project = projects_by_wid.get(str((issuance or {}).get("warehouseProjectId")))
        start, end = u.get("unitBlockStart"), u.get("unitBlockEnd")
        extra = {k: v for k, v in u.items() if k not in UNIT_MAP.values() and v is not None}
        country = country_alpha3(u.get("countryJurisdictionOfOwner"))
        if country is None or country_name(country, picklists, "countries") != u.get("countryJurisdictionOfOwner"):
            extra["countryJurisdictionOfOwner"] = u.get("countryJurisdictionOfOwner")
        unit_record = build_record(UnitBlock, findings, RULES_V1["CADT.V1.TYPE"], rec, dict(
            registry=(project or {}).get("currentRegistry") or (project or {}).get("registryOfOrigin"),
            serial=u.get("serialNumberBlock") or f"{start}-{end}",
            first_id=as_block_int(start), last_id=as_block_int(end),
            quantity=to_decimal(u.get("unitCount")), vintage=u.get("vintageYear"), unit_type=u.get("unitType"),
            status=STATUS_V1.get(str(u.get("unitStatus"))), status_reason=u.get("unitStatusReason"),
            project_id=None if project is None else str(project.get("projectId")),
            project_name=None if project is None else project.get("projectName"),
            country=country, owner=u.get("unitOwner"), link=u.get("unitRegistryLink"),
            corresponding_adjustment=u.get("correspondingAdjustmentDeclaration"), extra=extra), locate)
        if isinstance(unit_record, UnitBlock):
            doc.units.append(unit_record)
    return doc, findings


#: Unit fields written from one canonical attribute as it is, unless ``extra`` already gave them.
UNIT_PLAIN = (("vintageYear", "vintage"), ("unitType", "unit_type"), ("unitStatusReason", "status_reason"),
              ("unitOwner", "owner"), ("unitRegistryLink", "link"),
              ("correspondingAdjustmentDeclaration", "corresponding_adjustment"))
#: Canonical unit attributes v1 has no field for.
UNIT_UNPLACED = ("status_date", "beneficiary", "issuance_date", "itmo_reference", "account")
#: Canonical tables v1 cannot hold (name, records of a document).
AEF_TABLES: tuple[tuple[str, Callable[[CanonicalDocument], Sequence[object]]], ...] = (
    ("submission", lambda doc: [doc.submission] if doc.submission else []),
    ("authorizations", lambda doc: doc.authorizations), ("actions", lambda doc: doc.actions),
    ("holdings", lambda doc: doc.holdings), ("authorized_entities", lambda doc: doc.authorized_entities),
)


def from_document(doc: CanonicalDocument, picklists: Picklists, losses: LossLog,
                  operator: OperatorProfile | None = None, findings: list[Finding] | None = None) -> dict[str, Any]:
    """The v1 document of ``doc``; records of a registry with a vocabulary file are completed and linked
    (:mod:`standards.cadt.linking`), with the findings of what could not be supplied added to ``findings``."""
    spec = load_spec("v1")
    project_fields = spec.entities["project"].by_name
    unit_fields = spec.entities["unit"].by_name
    projects = [_project_record(project, project.project_id or f"#{i}", project_fields, losses)
                for i, project in enumerate(doc.projects)]
    units = [_unit_record(unit, unit.serial or f"#{i}", unit_fields, picklists, losses)
             for i, unit in enumerate(doc.units)]
    linker = V1Linker(picklists, operator)
    linker.link(doc, projects, units)
    _forget_losses(losses, doc, units, linker.linked_units)
    units, linked_findings = split_issuance_rows(doc, units, linker.linked_units, linker.findings, losses)
    projects = [in_field_order(p, project_fields) for p in projects]
    units = [in_field_order(u, unit_fields) for u in units]
    if findings is not None:
        findings.extend(linked_findings)
    for name, records_of in AEF_TABLES:
        records = records_of(doc)
        if records:
            losses.add_many(name, [f"#{i}" for i in range(len(records))],
                            "CAD Trust v1 holds no Article 6 AEF tables (use cadt-v2)")
    return {"projects": projects, "units": units}


def _project_record(project: Project, rid: str, fields: dict[str, Any], losses: LossLog) -> dict[str, Any]:
    out = place_extra_or_lose(project.extra, fields, MOVES_V2_TO_V1["project"], losses, "project", rid, NO_PLACE)
    for attr, key in PROJECT_MAP.items():
        value = getattr(project, attr)
        if value is None or (key in ("projectId", "originProjectId") and key in project.extra):
            continue
        out[key] = value.isoformat() if attr == "status_date" else value
    if project.country is not None and not out.get("projectLocations"):
        losses.add("project.country", rid, "a v1 project location needs a geographicIdentifier, "
                   "which the canonical project does not carry")
    return in_field_order(out, fields)


def _unit_record(unit: UnitBlock, rid: str, fields: dict[str, Any], picklists: Picklists,
                 losses: LossLog) -> dict[str, Any]:
    out = place_extra_or_lose(unit.extra, fields, MOVES_V2_TO_V1["unit"], losses, "unit", rid, NO_PLACE)
    put_block_bounds(out, unit.first_id, unit.last_id, "unitBlockStart", "unitBlockEnd")
    block = f"{out.get('unitBlockStart')}-{out.get('unitBlockEnd')}"
    if unit.serial and unit.serial != block and unit.serial != out.get("serialNumberBlock"):
        losses.add("unit.serial", rid, "v1 keeps only unitBlockStart-unitBlockEnd; the registry's full "
                   "serial does not fit")
    _put(out, "unitCount", json_number(unit.quantity))
    for key, attr in UNIT_PLAIN:
        _put(out, key, getattr(unit, attr))
    if unit.status is not None:
        name = status_name(unit.status, STATUS_NAMES, "v1", losses, rid)
        if name is not None:
            out["unitStatus"] = name
    if "countryJurisdictionOfOwner" not in out:
        _put(out, "countryJurisdictionOfOwner", country_name(unit.country, picklists, "countries"))
    for attr in UNIT_UNPLACED:
        if getattr(unit, attr) is not None:
            losses.add(f"unit.{attr}", rid, NO_PLACE)
    if unit.project_id is not None and not isinstance(out.get("issuance"), dict) and "issuanceId" not in out:
        losses.add("unit.project_id", rid, "a v1 unit reaches its project only through an issuance, "
                   "which the canonical unit does not carry")
    # every key above is a v1 unit field: nulls are left out here, the field order is set once the unit is linked
    return without_none(out)


def _forget_losses(losses: LossLog, doc: CanonicalDocument, units: list[dict[str, Any]],
                   linked: set[int]) -> None:
    """Drop the losses the linker made good: the project of linked units, a status written from the vocabulary."""
    made_good = {
        "unit.project_id": {doc.units[i].serial or f"#{i}" for i in linked},
        "unit.status": {unit.serial or f"#{i}" for i, unit in enumerate(doc.units) if "unitStatus" in units[i]},
    }
    for name, rids in made_good.items():
        if name in losses.fields:
            kept = [rid for rid in losses.fields[name] if rid not in rids]
            if kept:
                losses.fields[name] = kept
            else:
                del losses.fields[name]
                losses.reasons.pop(name, None)


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and key not in out:
        out[key] = value

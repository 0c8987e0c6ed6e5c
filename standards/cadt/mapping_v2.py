"""CAD Trust v2 documents <-> the canonical model.

``project`` records become :class:`~standards.model.Project`; the project-scoped records that
point at one (``location``, ``validation``, ``verification``, ``issuance`` through its
verification, ``project-methodology`` with its ``methodology``, ``stakeholder``, ``estimation``,
``rating``, ``co-benefit``, the ``program``) ride in that project's ``extra`` under their
resource name. ``unit`` records become :class:`~standards.model.UnitBlock`, with their
``unit-label`` and ``label`` records in ``extra``. A record that links to nothing in the
document is reported (``CADT.V2.UNPLACED``), never dropped silently. AEF tables: :mod:`.aef`.
"""

from __future__ import annotations

from typing import Any

from standards.cadt import aef
from standards.cadt.common import (
    MOVES_V1_TO_V2,
    STATUS_V2,
    LossLog,
    build_record,
    country_alpha3,
    json_number,
    place_extra,
    to_date,
    to_decimal,
    without_none,
)
from standards.cadt.picklists import Picklists
from standards.cadt.profiles import Profile
from standards.cadt.rules import RULES_V2
from standards.cadt.spec import load_spec
from standards.cadt.validate import Locator, Record, Validation, as_block_int, default_locator
from standards.findings import Finding
from standards.model import CanonicalDocument, Project, UnitBlock

#: Resources attached to a project through their own cadTrustProjectId.
PROJECT_SCOPED = ("location", "validation", "verification", "project-methodology", "stakeholder",
                  "stakeholder-projects", "estimation", "rating", "co-benefit")
#: Joins v2 list fields (projectSector, projectType, methodology codes) into one canonical text.
SEP = "; "
STATUS_NAMES = {status: name for name, status in STATUS_V2.items()}
NO_PLACE = "CAD Trust v2 has no field for it"
PROJECT_MAP = {"registry": "projectRegistryName", "project_id": "projectId", "name": "projectName",
               "status": "projectStatus", "status_date": "projectStatusDate", "link": "projectLink",
               "description": "projectDescription"}
UNIT_MAP = {"serial": "unitSerialId", "quantity": "unitCount", "vintage": "unitVintageYear",
            "unit_type": "unitType", "status": "unitStatus", "status_date": "unitStatusDate",
            "status_reason": "unitStatusReason", "owner": "unitCurrentOwner",
            "beneficiary": "unitRetirementBeneficiary", "link": "unitLink",
            "itmo_reference": "unitItmosReferenceId"}


def _by_id(validation: Validation, resource: str, key: str) -> dict[str, Record]:
    return {str(r.data[key]): r for r in validation.passed(resource) if r.data.get(key) is not None}


def to_document(validation: Validation, picklists: Picklists, profile: Profile,
                locate: Locator = default_locator) -> tuple[CanonicalDocument, list[Finding]]:
    findings: list[Finding] = []
    placed: set[tuple[str, int]] = set()
    projects = _by_id(validation, "project", "cadTrustProjectId")
    attached: dict[str, dict[str, list[dict[str, Any]]]] = {pid: {} for pid in projects}

    def attach(pid: Any, resource: str, rec: Record) -> bool:
        if pid is None or str(pid) not in attached:
            return False
        attached[str(pid)].setdefault(resource, []).append(rec.data)
        placed.add((resource, rec.index))
        return True

    for resource in PROJECT_SCOPED:
        for rec in validation.passed(resource):
            attach(rec.data.get("cadTrustProjectId"), resource, rec)
    verifications = _by_id(validation, "verification", "cadTrustVerificationId")
    locations = _by_id(validation, "location", "cadTrustLocationId")
    project_methodologies = _by_id(validation, "project-methodology", "cadTrustProjectMethodologyId")
    issuance_project: dict[str, str] = {}
    for rec in validation.passed("issuance"):
        pid = None
        for ref, index, in (("cadTrustVerificationId", verifications), ("cadTrustLocationId", locations),
                            ("cadTrustProjectMethodologyId", project_methodologies)):
            holder = index.get(str(rec.data.get(ref)))
            if holder is not None and holder.data.get("cadTrustProjectId") is not None:
                pid = str(holder.data["cadTrustProjectId"])
                break
        if attach(pid, "issuance", rec) and pid is not None:
            issuance_project[str(rec.data.get("cadTrustIssuanceId"))] = pid
    methodology_ids = {str(m.get("cadTrustMethodologyId")): pid for pid, groups in attached.items()
                       for m in groups.get("project-methodology", [])}
    for rec in validation.passed("methodology"):
        attach(methodology_ids.get(str(rec.data.get("cadTrustMethodologyId"))), "methodology", rec)
    program_of = {str(p.data.get("cadTrustProgramId")): pid for pid, p in projects.items()}
    for rec in validation.passed("program"):
        attach(program_of.get(str(rec.data.get("cadTrustProgramId"))), "program", rec)

    doc = CanonicalDocument()
    type_rule = RULES_V2["CADT.V2.TYPE"]
    for rec in validation.passed("project"):
        pid = rec.data.get("cadTrustProjectId")
        related = attached.get(str(pid), {}) if pid is not None else {}
        built = build_record(Project, findings, type_rule, rec, _project(rec.data, related), locate)
        if built is not None:
            doc.projects.append(built)
            placed.add(("project", rec.index))

    labels = _by_id(validation, "label", "cadTrustLabelId")
    unit_labels: dict[str, list[Record]] = {}
    for rec in validation.passed("unit-label"):
        unit_labels.setdefault(str(rec.data.get("cadTrustUnitId")), []).append(rec)
    issuances = _by_id(validation, "issuance", "cadTrustIssuanceId")
    for rec in validation.passed("unit"):
        u = rec.data
        extra = {k: v for k, v in u.items() if k not in UNIT_MAP.values() and v is not None}
        links = unit_labels.get(str(u.get("cadTrustUnitId")), []) if u.get("cadTrustUnitId") else []
        if links:
            extra["unit-label"] = [link.data for link in links]
            label_records = [labels[str(x.data.get("cadTrustLabelId"))] for x in links
                             if str(x.data.get("cadTrustLabelId")) in labels]
            if label_records:
                extra["label"] = [x.data for x in label_records]
            placed.update(("unit-label", x.index) for x in links)
            placed.update(("label", x.index) for x in label_records)
        issuance = issuances.get(str(u.get("cadTrustIssuanceId")))
        pid = issuance_project.get(str(u.get("cadTrustIssuanceId")))
        project: dict[str, Any] | None = projects[pid].data if pid is not None else None
        if issuance is not None and pid is None:
            extra["issuance"] = [issuance.data]
            placed.add(("issuance", issuance.index))
        unit = build_record(UnitBlock, findings, type_rule, rec, dict(
            registry=(project or {}).get("projectRegistryName"), serial=u.get("unitSerialId"),
            serial_first=as_block_int(u.get("unitStartBlock")), serial_last=as_block_int(u.get("unitEndBlock")),
            quantity=to_decimal(u.get("unitCount")), vintage=u.get("unitVintageYear"),
            unit_type=u.get("unitType"), status=STATUS_V2.get(str(u.get("unitStatus"))),
            status_date=to_date(u.get("unitStatusDate")), status_reason=u.get("unitStatusReason"),
            project_id=None if project is None else str(project.get("projectId")),
            project_name=None if project is None else project.get("projectName"),
            owner=u.get("unitCurrentOwner"), beneficiary=u.get("unitRetirementBeneficiary"),
            issuance_date=to_date((issuance.data if issuance else {}).get("issuanceDate")),
            itmo_reference=u.get("unitItmosReferenceId"), link=u.get("unitLink"), extra=extra), locate)
        if unit is not None:
            doc.units.append(unit)
            placed.add(("unit", rec.index))

    aef_doc, aef_findings = aef.to_records(validation, profile, locate)
    findings.extend(aef_findings)
    doc.submission = aef_doc.submission
    doc.authorizations, doc.actions = aef_doc.authorizations, aef_doc.actions
    doc.holdings, doc.authorized_entities = aef_doc.holdings, aef_doc.authorized_entities
    for resource, records in validation.records.items():
        if resource.startswith("aef-"):
            continue
        for rec in records:
            if not rec.failed and (resource, rec.index) not in placed:
                findings.append(RULES_V2["CADT.V2.UNPLACED"].finding(
                    f"{resource} {rec.index} is linked to no project or unit of this document, so the "
                    "canonical document does not carry it", locate((resource, rec.index))))
    return doc, findings


def _project(p: dict[str, Any], related: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    extra: dict[str, Any] = {k: v for k, v in p.items() if k not in PROJECT_MAP.values() and v is not None}
    extra.update(related)
    developers = [s.get("stakeholderName") for s in related.get("stakeholder", [])
                  if s.get("stakeholderType") == "Developer"]
    codes = [m.get("methodologyCode") for m in related.get("methodology", []) if m.get("methodologyCode")]
    countries = [loc.get("locationCountry") for loc in related.get("location", []) if loc.get("locationCountry")]
    return dict(
        registry=p.get("projectRegistryName"), project_id=str(p["projectId"]), name=p.get("projectName"),
        country=country_alpha3(countries[0]) if countries else None,
        developer=str(developers[0]) if developers else None,
        sector=SEP.join(p.get("projectSector") or []) or None,
        project_type=SEP.join(p.get("projectType") or []) or None,
        methodology=SEP.join(str(c) for c in codes) or None, status=p.get("projectStatus"),
        status_date=to_date(p.get("projectStatusDate")), link=p.get("projectLink"),
        description=p.get("projectDescription"), extra=extra)


def from_document(doc: CanonicalDocument, picklists: Picklists, profile: Profile,
                  losses: LossLog) -> dict[str, Any]:
    spec = load_spec("v2")
    out: dict[str, list[dict[str, Any]]] = {resource: [] for resource in spec.resources}
    seen: set[tuple[str, str]] = set()

    def emit(resource: str, record: dict[str, Any]) -> None:
        pk = spec.entity_for(resource).pk
        key = str(record.get(pk)) if pk and record.get(pk) is not None else None
        if key is not None:
            if (resource, key) in seen:
                return
            seen.add((resource, key))
        out[resource].append(record)

    project_fields = spec.entities["project"].by_name
    for i, project in enumerate(doc.projects):
        rid = project.project_id or f"#{i}"
        related_records = {k: v for k, v in project.extra.items() if k in spec.resources and isinstance(v, list)}
        for key, records in related_records.items():
            for related in records:
                emit(key, related)
        plain = {k: v for k, v in project.extra.items() if k not in related_records}
        native, left = place_extra(plain, project_fields, MOVES_V1_TO_V2["project"])
        for key in left:
            losses.add(f"project.extra.{key}", rid, NO_PLACE)
        for attr, key in PROJECT_MAP.items():
            value = getattr(project, attr)
            if value is not None:
                native[key] = value.isoformat() if attr == "status_date" else value
        for attr, key in (("sector", "projectSector"), ("project_type", "projectType")):
            value = getattr(project, attr)
            if value is not None and SEP.join(native.get(key) or []) != value:
                native[key] = value.split(SEP)
        for attr, resource in (("developer", "stakeholder"), ("methodology", "methodology"),
                               ("country", "location"), ("origin_registry", None),
                               ("origin_project_id", None)):
            if getattr(project, attr) is not None and not (resource and project.extra.get(resource)):
                losses.add(f"project.{attr}", rid, f"v2 keeps it in a separate {resource} record, which needs "
                           "ids the canonical project does not carry" if resource else NO_PLACE)
        emit("project", _ordered(native, project_fields))
    unit_fields = spec.entities["unit"].by_name
    for i, unit in enumerate(doc.units):
        rid = unit.serial or f"#{i}"
        related_records = {k: v for k, v in unit.extra.items() if k in spec.resources and isinstance(v, list)}
        for key, records in related_records.items():
            for related in records:
                emit(key, related)
        plain = {k: v for k, v in unit.extra.items() if k not in related_records}
        native, left = place_extra(plain, unit_fields, MOVES_V1_TO_V2["unit"])
        for key in left:
            losses.add(f"unit.extra.{key}", rid, NO_PLACE)
        if "unitStartBlock" not in native and unit.serial_first is not None:
            native["unitStartBlock"] = str(unit.serial_first)
        if "unitEndBlock" not in native and unit.serial_last is not None:
            native["unitEndBlock"] = str(unit.serial_last)
        for attr, key in UNIT_MAP.items():
            value = getattr(unit, attr)
            if value is None:
                continue
            if attr == "status":
                name = STATUS_NAMES.get(value)
                if name is None:
                    losses.add("unit.status", rid, f"v2 unitStatus has no {value.value!r}")
                    continue
                value = name
            elif attr == "quantity":
                value = json_number(value)
            elif attr == "status_date":
                value = value.isoformat()
            native[key] = value
        if "unitSerialId" not in native and "unitStartBlock" in native and "unitEndBlock" in native:
            native["unitSerialId"] = f"{native['unitStartBlock']}-{native['unitEndBlock']}"
        for attr in ("country", "account", "corresponding_adjustment", "registry", "project_name",
                     "project_id", "issuance_date"):
            derived = attr in ("registry", "project_name", "project_id", "issuance_date") and \
                native.get("cadTrustIssuanceId") is not None
            if getattr(unit, attr) is not None and not derived:
                losses.add(f"unit.{attr}", rid, NO_PLACE if attr in ("country", "account",
                           "corresponding_adjustment") else "a v2 unit reaches it only through an issuance "
                           "(cadTrustIssuanceId), which the canonical unit does not carry")
        emit("unit", _ordered(native, unit_fields))
    out.update(aef.from_records(doc, picklists, profile, losses))
    return {resource: [without_none(r) for r in records] for resource, records in out.items() if records}


def _ordered(record: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    return without_none({k: record[k] for k in fields if k in record})

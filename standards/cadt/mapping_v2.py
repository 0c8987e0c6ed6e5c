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
from standards.cadt._issuance_rows import split_issuance_rows
from standards.cadt.common import (
    MOVES_V1_TO_V2,
    STATUS_V2,
    LossLog,
    build_record,
    country_alpha3,
    in_field_order,
    json_number,
    place_extra_or_lose,
    put_block_bounds,
    status_name,
    to_date,
    to_decimal,
    without_none,
)
from standards.cadt.linking_v2 import V2Linker
from standards.cadt.operator import OperatorProfile
from standards.cadt.picklists import Picklists
from standards.cadt.profiles import Profile
from standards.cadt.rules import RULES_V2
from standards.cadt.spec import VersionSpec, load_spec
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


class _Placement:
    """Which project each project-scoped record is attached to, and which records found a place."""

    def __init__(self, projects: dict[str, Record]) -> None:
        self.placed: set[tuple[str, int]] = set()
        self.attached: dict[str, dict[str, list[dict[str, Any]]]] = {pid: {} for pid in projects}
        self.issuance_project: dict[str, str] = {}

    def attach(self, pid: Any, resource: str, rec: Record) -> bool:
        if pid is None or str(pid) not in self.attached:
            return False
        self.attached[str(pid)].setdefault(resource, []).append(rec.data)
        self.placed.add((resource, rec.index))
        return True

    def related(self, pid: Any) -> dict[str, list[dict[str, Any]]]:
        return self.attached.get(str(pid), {}) if pid is not None else {}


def to_document(validation: Validation, picklists: Picklists, profile: Profile,
                locate: Locator = default_locator) -> tuple[CanonicalDocument, list[Finding]]:
    findings: list[Finding] = []
    projects = _by_id(validation, "project", "cadTrustProjectId")
    placement = _Placement(projects)
    _attach_to_projects(validation, projects, placement)
    doc = CanonicalDocument()
    type_rule = RULES_V2["CADT.V2.TYPE"]
    for rec in validation.passed("project"):
        related = placement.related(rec.data.get("cadTrustProjectId"))
        built = build_record(Project, findings, type_rule, rec, _project(rec.data, related), locate)
        if built is not None:
            doc.projects.append(built)
            placement.placed.add(("project", rec.index))
    _add_units(validation, projects, placement, doc, findings, locate)
    aef_doc, aef_findings = aef.to_records(validation, profile, locate)
    findings.extend(aef_findings)
    doc.submission = aef_doc.submission
    doc.authorizations, doc.actions = aef_doc.authorizations, aef_doc.actions
    doc.holdings, doc.authorized_entities = aef_doc.holdings, aef_doc.authorized_entities
    _report_unplaced(validation, placement, findings, locate)
    return doc, findings


def _attach_to_projects(validation: Validation, projects: dict[str, Record], placement: _Placement) -> None:
    """Attach the project-scoped records, issuances (through what they verify), methodologies and programs."""
    for resource in PROJECT_SCOPED:
        for rec in validation.passed(resource):
            placement.attach(rec.data.get("cadTrustProjectId"), resource, rec)
    holders = (("cadTrustVerificationId", _by_id(validation, "verification", "cadTrustVerificationId")),
               ("cadTrustLocationId", _by_id(validation, "location", "cadTrustLocationId")),
               ("cadTrustProjectMethodologyId",
                _by_id(validation, "project-methodology", "cadTrustProjectMethodologyId")))
    for rec in validation.passed("issuance"):
        pid = next((str(holder.data["cadTrustProjectId"]) for ref, index in holders
                    if (holder := index.get(str(rec.data.get(ref)))) is not None
                    and holder.data.get("cadTrustProjectId") is not None), None)
        if placement.attach(pid, "issuance", rec) and pid is not None:
            placement.issuance_project[str(rec.data.get("cadTrustIssuanceId"))] = pid
    methodology_ids = {str(m.get("cadTrustMethodologyId")): pid for pid, groups in placement.attached.items()
                       for m in groups.get("project-methodology", [])}
    for rec in validation.passed("methodology"):
        placement.attach(methodology_ids.get(str(rec.data.get("cadTrustMethodologyId"))), "methodology", rec)
    program_of = {str(p.data.get("cadTrustProgramId")): pid for pid, p in projects.items()}
    for rec in validation.passed("program"):
        placement.attach(program_of.get(str(rec.data.get("cadTrustProgramId"))), "program", rec)


def _add_units(validation: Validation, projects: dict[str, Record], placement: _Placement,
               doc: CanonicalDocument, findings: list[Finding], locate: Locator) -> None:
    labels = _by_id(validation, "label", "cadTrustLabelId")
    unit_labels: dict[str, list[Record]] = {}
    for rec in validation.passed("unit-label"):
        unit_labels.setdefault(str(rec.data.get("cadTrustUnitId")), []).append(rec)
    issuances = _by_id(validation, "issuance", "cadTrustIssuanceId")
    type_rule = RULES_V2["CADT.V2.TYPE"]
    for rec in validation.passed("unit"):
        u = rec.data
        extra = {k: v for k, v in u.items() if k not in UNIT_MAP.values() and v is not None}
        links = unit_labels.get(str(u.get("cadTrustUnitId")), []) if u.get("cadTrustUnitId") else []
        _attach_labels(extra, links, labels, placement)
        issuance = issuances.get(str(u.get("cadTrustIssuanceId")))
        pid = placement.issuance_project.get(str(u.get("cadTrustIssuanceId")))
        project: dict[str, Any] | None = projects[pid].data if pid is not None else None
        if issuance is not None and pid is None:
            extra["issuance"] = [issuance.data]
            placement.placed.add(("issuance", issuance.index))
        unit = build_record(UnitBlock, findings, type_rule, rec, _unit(u, project, issuance, extra), locate)
        if unit is not None:
            doc.units.append(unit)
            placement.placed.add(("unit", rec.index))


def _attach_labels(extra: dict[str, Any], links: list[Record], labels: dict[str, Record],
                   placement: _Placement) -> None:
    """A unit's unit-label records, and the label records they name, into its ``extra``."""
    if not links:
        return
    extra["unit-label"] = [link.data for link in links]
    label_records = [labels[str(x.data.get("cadTrustLabelId"))] for x in links
                     if str(x.data.get("cadTrustLabelId")) in labels]
    if label_records:
        extra["label"] = [x.data for x in label_records]
    placement.placed.update(("unit-label", x.index) for x in links)
    placement.placed.update(("label", x.index) for x in label_records)


def _unit(u: dict[str, Any], project: dict[str, Any] | None, issuance: Record | None,
          extra: dict[str, Any]) -> dict[str, Any]:
    return dict(
        registry=(project or {}).get("projectRegistryName"), serial=u.get("unitSerialId"),
        first_id=as_block_int(u.get("unitStartBlock")), last_id=as_block_int(u.get("unitEndBlock")),
        quantity=to_decimal(u.get("unitCount")), vintage=u.get("unitVintageYear"),
        unit_type=u.get("unitType"), status=STATUS_V2.get(str(u.get("unitStatus"))),
        status_date=to_date(u.get("unitStatusDate")), status_reason=u.get("unitStatusReason"),
        project_id=None if project is None else str(project.get("projectId")),
        project_name=None if project is None else project.get("projectName"),
        owner=u.get("unitCurrentOwner"), beneficiary=u.get("unitRetirementBeneficiary"),
        issuance_date=to_date((issuance.data if issuance else {}).get("issuanceDate")),
        itmo_reference=u.get("unitItmosReferenceId"), link=u.get("unitLink"), extra=extra)


def _report_unplaced(validation: Validation, placement: _Placement, findings: list[Finding],
                     locate: Locator) -> None:
    for resource, records in validation.records.items():
        if resource.startswith("aef-"):
            continue
        for rec in records:
            if not rec.failed and (resource, rec.index) not in placement.placed:
                findings.append(RULES_V2["CADT.V2.UNPLACED"].finding(
                    f"{resource} {rec.index} is linked to no project or unit of this document, so the "
                    "canonical document does not carry it", locate((resource, rec.index))))


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


#: Canonical project attributes v2 keeps in a separate record (resource), or has no field for (None).
PROJECT_ELSEWHERE = (("developer", "stakeholder"), ("methodology", "methodology"), ("country", "location"),
                     ("origin_registry", None), ("origin_project_id", None))
#: Canonical unit attributes v2 has no field for, and those it reaches only through an issuance.
UNIT_UNPLACED = ("country", "account", "corresponding_adjustment")
UNIT_THROUGH_ISSUANCE = ("registry", "project_name", "project_id", "issuance_date")


class _Output:
    """The v2 records of a document, resource by resource, each primary key emitted once."""

    def __init__(self, spec: VersionSpec) -> None:
        self.spec = spec
        self.records: dict[str, list[dict[str, Any]]] = {resource: [] for resource in spec.resources}
        self.seen: set[tuple[str, str]] = set()

    def emit(self, resource: str, record: dict[str, Any]) -> None:
        pk = self.spec.entity_for(resource).pk
        key = str(record.get(pk)) if pk and record.get(pk) is not None else None
        if key is not None:
            if (resource, key) in self.seen:
                return
            self.seen.add((resource, key))
        self.records[resource].append(record)

    def native_from_extra(self, extra: dict[str, Any], entity: str, fields: dict[str, Any], losses: LossLog,
                          rid: str) -> dict[str, Any]:
        """Emit the related records kept in ``extra``; the rest of ``extra`` placed on the record."""
        related = {k: v for k, v in extra.items() if k in self.spec.resources and isinstance(v, list)}
        for key, records in related.items():
            for record in records:
                self.emit(key, record)
        plain = {k: v for k, v in extra.items() if k not in related}
        return place_extra_or_lose(plain, fields, MOVES_V1_TO_V2[entity], losses, entity, rid, NO_PLACE)


def from_document(doc: CanonicalDocument, picklists: Picklists, profile: Profile, losses: LossLog,
                  operator: OperatorProfile | None = None, findings: list[Finding] | None = None) -> dict[str, Any]:
    """The v2 document of ``doc``; records of a registry whose vocabulary has a ``v2`` section are completed
    and linked (:mod:`standards.cadt.linking_v2`), with what could not be supplied added to ``findings``."""
    spec = load_spec("v2")
    out = _Output(spec)
    project_fields = spec.entities["project"].by_name
    for i, project in enumerate(doc.projects):
        out.emit("project", _project_record(project, project.project_id or f"#{i}", project_fields, out, losses))
    unit_fields = spec.entities["unit"].by_name
    for i, unit in enumerate(doc.units):
        out.emit("unit", _unit_record(unit, unit.serial or f"#{i}", unit_fields, out, losses))
    linker = V2Linker(picklists, operator, profile.optional)
    linker.link(doc, out.records)
    linker.forget_losses(losses)
    if len(out.records.get("unit", ())) == len(doc.units):  # not a document read back with units merged by id
        out.records["unit"], linked_findings = split_issuance_rows(
            doc, out.records["unit"], linker.linked_indices, linker.findings, losses, resource="unit", version="v2")
    else:
        linked_findings = linker.findings
    if findings is not None:
        findings.extend(linked_findings)
    out.records.update(aef.from_records(doc, picklists, profile, losses))
    return {resource: [without_none(r) for r in records] for resource, records in out.records.items() if records}


def _project_record(project: Project, rid: str, fields: dict[str, Any], out: _Output,
                    losses: LossLog) -> dict[str, Any]:
    native = out.native_from_extra(project.extra, "project", fields, losses, rid)
    for attr, key in PROJECT_MAP.items():
        value = getattr(project, attr)
        if value is not None:
            native[key] = value.isoformat() if attr == "status_date" else value
    for attr, key in (("sector", "projectSector"), ("project_type", "projectType")):
        value = getattr(project, attr)
        if value is not None and SEP.join(native.get(key) or []) != value:
            native[key] = value.split(SEP)
    for attr, resource in PROJECT_ELSEWHERE:
        if getattr(project, attr) is not None and not (resource and project.extra.get(resource)):
            losses.add(f"project.{attr}", rid, f"v2 keeps it in a separate {resource} record, which needs "
                       "ids the canonical project does not carry" if resource else NO_PLACE)
    return in_field_order(native, fields)


def _unit_record(unit: UnitBlock, rid: str, fields: dict[str, Any], out: _Output,
                 losses: LossLog) -> dict[str, Any]:
    native = out.native_from_extra(unit.extra, "unit", fields, losses, rid)
    put_block_bounds(native, unit.first_id, unit.last_id, "unitStartBlock", "unitEndBlock")
    for attr, key in UNIT_MAP.items():
        value = _unit_value(unit, attr, rid, losses)
        if value is not None:
            native[key] = value
    if "unitSerialId" not in native and "unitStartBlock" in native and "unitEndBlock" in native:
        native["unitSerialId"] = f"{native['unitStartBlock']}-{native['unitEndBlock']}"
    through_issuance = native.get("cadTrustIssuanceId") is not None
    for attr in (*UNIT_UNPLACED, *UNIT_THROUGH_ISSUANCE):
        if getattr(unit, attr) is None or (attr in UNIT_THROUGH_ISSUANCE and through_issuance):
            continue
        losses.add(f"unit.{attr}", rid, NO_PLACE if attr in UNIT_UNPLACED else "a v2 unit reaches it only "
                   "through an issuance (cadTrustIssuanceId), which the canonical unit does not carry")
    return in_field_order(native, fields)


def _unit_value(unit: UnitBlock, attr: str, rid: str, losses: LossLog) -> Any:
    """The v2 value of one canonical unit attribute (None when absent or when v2 cannot hold it)."""
    value = getattr(unit, attr)
    if value is None:
        return None
    if attr == "status":
        return status_name(value, STATUS_NAMES, "v2", losses, rid)
    if attr == "quantity":
        return json_number(value)
    if attr == "status_date":
        return value.isoformat()
    return value

"""Complete and link a CAD Trust v2 document built from a registry export.

The v2 data dictionary (2.0.2) splits what v1 nests: a unit points at an issuance
(``cadTrustIssuanceId``), an issuance at a verification, a project methodology and a location, and
those at their project (``cadTrustProjectId``). For records of a registry whose vocabulary file has a
``v2`` section (:mod:`standards.cadt.vocab`), :class:`V2Linker` builds those records from what the
export says, with the same deterministic ids as v1 (UUIDv5 of registry, record kind and natural key:
``cadTrustProjectId`` = v1 ``warehouseProjectId``, ``cadTrustIssuanceId`` = v1 issuance ``id``,
``cadTrustUnitId`` = v1 ``warehouseUnitId``), and maps values into the v2 picklists (its sectors and
project types are the CDM-style lists, not v1's ISIC sectors). What no fact gives comes from the
operator profile (``issuance.verificationBody``, from the v2 ``verification_body`` list;
``unit.unitStatusReason``; ``project.projectStatusDate``) or is a coded finding
(``CADT.V2.VOCAB``, ``CADT.V2.PROFILE_MISSING``, ``CADT.V2.SOURCE_MISSING``) naming the file or key.

Registry-side ids the export does not give are derived from natural keys and said so
(``CADT.V2.DERIVED``): ``verificationId`` and ``issuanceId`` are ``<projectId>-<start>-<end>``
(the monitoring period) and ``...-<issuance date>``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from standards.cadt._periods import ONLY_ISSUANCE_BASIS, column_value, date_order, issue_dates, read_date, vintage_year
from standards.cadt._project_links import project_link
from standards.cadt._v2_vocab import PROJECT_TYPE_KEY, _cell, profile_project_type
from standards.cadt._v2_vocab import _v2 as _v2
from standards.cadt._v2_vocab import _v2_vocabulary as _v2_vocabulary
from standards.cadt._values import listed_values, no_block, unit_block_key, v2_unit_type
from standards.cadt.common import LossLog, grown
from standards.cadt.linking import V1Linker, alpha3_of, bare_methodology, stable_id
from standards.cadt.operator import VINTAGE_YEAR, OperatorProfile
from standards.cadt.picklists import Picklists
from standards.cadt.rules import RULES_V2
from standards.cadt.vocab import Vocabulary, common_vocabulary
from standards.findings import Finding, Location
from standards.model import CanonicalDocument, Project, UnitBlock, UnitStatus

#: A CDM methodology code (``ACM0002``, ``AMS-I.D.``, ``AMS-III.AR.``, ``AR-ACM0003``) followed by its title.
_CDM_CODE_TITLE = re.compile(r"^((?:AR-)?(?:ACM|AMS|AM)[-0-9A-Z.]*)\s+(\S.*)$")

#: Statuses a block has held since it was issued: their status date is the issuance date.
_SINCE_ISSUANCE = frozenset({UnitStatus.ISSUED, UnitStatus.HELD, UnitStatus.BUFFER})
_ISSUANCE_DERIVED = ("issuanceId and verificationId: <projectId>-<monitoring period start>-<end>"
                     "[-<issuance date>] (the export gives no registry id for them)")


@dataclass
class _Slot:
    """One project of the document: its v2 record and what its related records need."""

    record: dict[str, Any]
    index: int
    registry: str
    project_id: str
    derived: bool
    country: str | None = None
    methodology: str | None = None
    developer: str | None = None
    project_type: str | None = None
    first_issuance: date | None = None


class V2Linker:
    """Fills and links the records of one v2 document (see the module docstring)."""

    def __init__(self, picklists: Picklists, operator: OperatorProfile | None,
                 optional: Mapping[str, frozenset[str]] | None = None) -> None:
        self.picklists = picklists
        self.operator = operator
        #: Fields the output profile treats as optional (:attr:`Profile.optional`): not flagged when unknown.
        self.optional = optional or {}
        self.findings: list[Finding] = []
        self.linked_projects: set[str] = set()
        self.linked_units: set[str] = set()
        #: Indices (in the document's units) of the units linked to an issuance.
        self.linked_indices: set[int] = set()
        self._issue_dates: dict[tuple[str | None, str | None, int | None], date] = {}
        self._periods = V1Linker(picklists, operator)
        self._profile_uses: Counter[str] = Counter()
        #: Projects that took a mapped profile value: (key, the export's value, the operator's value) -> count.
        self._profile_maps: Counter[tuple[str, str, str]] = Counter()
        self._derived: Counter[str] = Counter()
        self._native: dict[str, list[dict[str, Any]]] = {}
        self._emitted: set[tuple[str, str]] = set()
        self._countries: dict[str, str | None] = {}
        self._unit_types: dict[tuple[str, str | None, str | None], str | None] = {}
        self._issuance_ids: dict[tuple[str, ...], str] = {}
        #: The issuance the last unit completed built (None: it built none), and what building it added to
        #: the counts beyond what each unit linked to a known issuance adds: (counter, what, by how much).
        self.issuance_built: tuple[str, tuple[tuple[Counter[str], str, int], ...]] | None = None

    # -- entry point --------------------------------------------------------------------------

    def link(self, doc: CanonicalDocument, native: dict[str, list[dict[str, Any]]]) -> None:
        projects, units = native.setdefault("project", []), native.setdefault("unit", [])
        if len(projects) != len(doc.projects) or len(units) != len(doc.units):
            return  # records merged by id (a CAD Trust document read back): nothing to derive
        self._native = native
        self._periods._known_issuances = self._periods._issuances_by_key(doc)
        self._issue_dates = issue_dates(doc.units)
        slots: dict[tuple[str, str], _Slot] = {}
        for i, (project, record) in enumerate(zip(doc.projects, projects, strict=True)):
            vocab = _v2_vocabulary(project.registry)
            if vocab is not None:
                slots[(vocab.name, project.project_id)] = self._own_slot(project, record, i, vocab)
        for i, (unit, record) in enumerate(zip(doc.units, units, strict=True)):
            vocab = _v2_vocabulary(unit.registry)
            if vocab is None:
                continue
            slot = self._slot_for(unit, vocab, slots, projects)
            self._complete_unit(record, unit, i, vocab, slot)
        for slot in slots.values():
            vocab = _v2_vocabulary(slot.registry)
            if vocab is not None:
                self._complete_project(slot, vocab)
        self._report()

    def forget_losses(self, losses: LossLog) -> None:
        """Drop the losses the linked records made good (developer, methodology, country, project link)."""
        made_good = {**{f"project.{name}": self.linked_projects for name in ("developer", "methodology", "country")},
                     **{f"unit.{name}": self.linked_units
                        for name in ("registry", "project_name", "project_id", "issuance_date")}}
        for name, rids in made_good.items():
            kept = [rid for rid in losses.fields.get(name, []) if rid not in rids]
            if kept:
                losses.fields[name] = kept
            elif name in losses.fields:
                del losses.fields[name]
                losses.reasons.pop(name, None)

    # -- projects -----------------------------------------------------------------------------

    def _own_slot(self, project: Project, record: dict[str, Any], index: int, vocab: Vocabulary) -> _Slot:
        methodology = project.methodology or _cell(project.extra, vocab.column("projectColumns", "methodology"))
        slot = _Slot(record, index, vocab.name, project.project_id, derived=False, country=project.country,
                     methodology=methodology, developer=project.developer, project_type=project.project_type)
        fallback = _cell(project.extra, vocab.column("projectColumns", "statusFallback"))
        if project.status is None and fallback is not None:  # ACR: the compliance programme's status
            record["projectStatus"] = fallback
        column = vocab.column("projectColumns", "statusDate")
        registered = read_date(str(project.extra.get(column) or ""), date_order(vocab)) if column else None
        if registered is not None and "projectStatusDate" not in record:
            record["_registered"] = registered.isoformat()
        self._identity(record, project.project_id, vocab)
        self.linked_projects.add(project.project_id)
        return slot

    def _identity(self, record: dict[str, Any], project_id: str, vocab: Vocabulary) -> None:
        record.setdefault("cadTrustProjectId", stable_id(vocab.name, "project", project_id))
        if record.get("projectRegistryName") in (None, vocab.name):
            record["projectRegistryName"] = vocab.fact("registryOfOrigin") or vocab.name
        record.setdefault("projectId", project_id)

    def _slot_for(self, unit: UnitBlock, vocab: Vocabulary, slots: dict[tuple[str, str], _Slot],
                  projects: list[dict[str, Any]]) -> _Slot | None:
        if not unit.project_id:
            return None
        slot = slots.get((vocab.name, unit.project_id))
        if slot is not None:  # unit rows fill what the project row (or the first unit row) lacks
            slot.methodology = slot.methodology or self._column(unit, vocab, "methodology")
            slot.developer = slot.developer or self._column(unit, vocab, "developer")
            slot.project_type = slot.project_type or self._column(unit, vocab, "projectType")
            slot.country = slot.country or unit.country
        if slot is None:
            record: dict[str, Any] = {"projectId": unit.project_id}
            if unit.project_name:
                record["projectName"] = unit.project_name
            if unit.link:
                record["projectLink"] = unit.link
            projects.append(record)
            slot = slots[(vocab.name, unit.project_id)] = _Slot(
                record, len(projects) - 1, vocab.name, unit.project_id, derived=True, country=unit.country,
                methodology=self._column(unit, vocab, "methodology"),
                developer=self._column(unit, vocab, "developer"),
                project_type=self._column(unit, vocab, "projectType"))
            self._identity(record, unit.project_id, vocab)
        return slot

    def _complete_project(self, slot: _Slot, vocab: Vocabulary) -> None:
        record, where, label = slot.record, ("project", slot.index), f"project {slot.project_id}"
        methodology = bare_methodology(slot.methodology, vocab)
        for name, table in (("projectSector", "sector"), ("projectType", "projectType")):
            self._project_list(record, name, table, methodology, slot.project_type, vocab, where, label)
        self._project_status(record, slot, vocab, where, label)
        metric = vocab.fact("unitMetric")
        if "projectUnitMetric" not in record and metric in (self.picklists.values("unit_metric") or ()):
            record["projectUnitMetric"] = metric
            self._derived[f"project.projectUnitMetric: {vocab.fact('unitMetricBasis')}"] += 1
        if not record.get("projectLink"):
            self._project_link(record, slot, vocab)
        for name in ("projectName", "projectLink"):
            if not record.get(name):
                self._add("CADT.V2.SOURCE_MISSING", where, name, f"{label}: the export does not give {name}, "
                          "which CAD Trust v2 requires (translate the registry's project export, which carries it)")
        if slot.developer:
            self._emit("stakeholder", "cadTrustStakeholderId", {
                "cadTrustStakeholderId": stable_id(vocab.name, "stakeholder", slot.project_id, slot.developer),
                "stakeholderName": slot.developer, "stakeholderType": "Developer",
                "cadTrustProjectId": record["cadTrustProjectId"]})
        # a v2 project needs neither: its issuances do, and report what they lack (a project with no issuance
        # in the export is written without them)
        self._location_id(slot, vocab, None, where, label, quiet=True)
        self._methodology_id(slot, vocab, where, label, quiet=True)

    def _project_link(self, record: dict[str, Any], slot: _Slot, vocab: Vocabulary) -> None:
        found = project_link(slot.project_id, vocab, self.operator)
        if found is None:
            return
        record["projectLink"], source = found
        if source:
            self._derived[f"project.projectLink: {source}"] += 1
        else:
            self._profile_uses[OperatorProfile.key("project", "projectLink")] += 1

    def _project_list(self, record: dict[str, Any], name: str, table: str, methodology: str | None,
                      project_type: str | None, vocab: Vocabulary, where: tuple[str, int], label: str) -> None:
        picklist = "project_sector" if name == "projectSector" else "project_type"
        allowed = self.picklists.values(picklist) or ()
        given = record.get(name)
        if isinstance(given, list) and given and all(v in allowed for v in given):
            return
        v2 = _v2(vocab)
        mapped = listed_values(v2, f"{table}ByMethodology", methodology) \
            or listed_values(v2, f"{table}ByProjectType", project_type)
        record.pop(name, None)
        chosen = profile_project_type(self.operator, methodology, project_type) \
            if name == "projectType" and not mapped else None
        if chosen is not None and chosen[1] in allowed:  # the operator's choice where the vocabulary has none
            record[name] = [chosen[1]]
            self._profile_maps[(PROJECT_TYPE_KEY, *chosen)] += 1
        elif chosen is not None:
            self._add("CADT.V2.VOCAB", where, name, f"{label}: the profile's {PROJECT_TYPE_KEY} maps {chosen[0]!r} "
                      f"to {chosen[1]!r}, which is not in the v2 {picklist} list")
        elif mapped and all(value in allowed for value in mapped):
            record[name] = mapped
        else:
            hint = f", or choose one in the operator profile's {PROJECT_TYPE_KEY}" if name == "projectType" else ""
            self._add("CADT.V2.VOCAB", where, name, f"{label}: no CAD Trust v2 {picklist} value for methodology "
                      f"{methodology!r}, project type {project_type!r}; extend v2.{table}ByMethodology or "
                      f"v2.{table}ByProjectType in {vocab.where}{hint}")

    def _project_status(self, record: dict[str, Any], slot: _Slot, vocab: Vocabulary, where: tuple[str, int],
                        label: str) -> None:
        allowed = self.picklists.values("project_status") or ()
        status = record.get("projectStatus")
        if status is None and slot.derived and slot.first_issuance is not None:
            record["projectStatus"] = vocab.fact("issuedProjectStatus")
            record.setdefault("projectStatusDate", slot.first_issuance.isoformat())
            self._derived[f"project.projectStatus: {vocab.fact('issuedProjectStatusBasis')}"] += 1
        elif isinstance(status, str) and status not in allowed:
            mapped = _v2(vocab).lookup("projectStatus", status) or vocab.lookup("projectStatus", status)
            record.pop("projectStatus")
            if mapped in allowed:
                record["projectStatus"] = mapped
            else:
                self._add("CADT.V2.VOCAB", where, "projectStatus", f"{label}: no CAD Trust v2 project_status for "
                          f"{status!r}; extend v2.projectStatus in {vocab.where}")
        if "projectStatus" not in record and not self._from_profile(record, "project", "projectStatus", allowed):
            self._profile_missing("project", "projectStatus", where, label)
        registered = record.pop("_registered", None)
        if "projectStatusDate" not in record:
            if registered and record.get("projectStatus") == "Registered":
                record["projectStatusDate"] = registered
            elif not self._from_profile(record, "project", "projectStatusDate"):
                self._profile_missing("project", "projectStatusDate", where, label)

    def _location_id(self, slot: _Slot, vocab: Vocabulary, country: str | None, where: tuple[str, int],
                     label: str, quiet: bool = False) -> str | None:
        alpha3 = slot.country or country
        spelled = self._country(alpha3)
        if spelled is None and quiet:
            return None
        if spelled is None:
            self._add("CADT.V2.VOCAB" if alpha3 else "CADT.V2.SOURCE_MISSING", where, "locationCountry",
                      f"{label}: country {alpha3!r} has no spelling in the v2 location_country list"
                      if alpha3 else f"{label}: the export gives no country, so the project has no location")
            return None
        location_id = stable_id(vocab.name, "location", slot.project_id, spelled)
        self._emit("location", "cadTrustLocationId", {"cadTrustLocationId": location_id, "locationCountry": spelled,
                                                     "cadTrustProjectId": slot.record["cadTrustProjectId"]})
        return location_id

    def _methodology_id(self, slot: _Slot, vocab: Vocabulary, where: tuple[str, int], label: str,
                        quiet: bool = False) -> str | None:
        code = bare_methodology(slot.methodology, vocab)
        if not code and quiet:
            return None
        if not code:
            self._add("CADT.V2.SOURCE_MISSING", where, "methodology", f"{label}: the export gives no methodology, "
                      "which a v2 issuance needs (cadTrustProjectMethodologyId)")
            return None
        v2 = _v2(vocab)
        name = v2.lookup("methodologyNames", code)
        split = _CDM_CODE_TITLE.match(code) if name is None and v2.data.get("methodologyCodeTitle") is True else None
        if split is not None:  # 'ACM0002 Grid-connected electricity generation ...': the code, then the title
            code, name = split.group(1), split.group(2).strip()
        methodology_id = stable_id(vocab.name, "methodology", code)
        if split is not None and ("methodology", methodology_id) not in self._emitted:
            self._derived[f"methodology.methodologyCode and methodologyName: "
                          f"{v2.fact('methodologyCodeTitleBasis')}"] += 1
        if name is None and v2.data.get("methodologyTitles") is True:  # the export's column holds the title
            name = code
            if ("methodology", methodology_id) not in self._emitted:
                self._derived[f"methodology.methodologyCode and methodologyName: "
                              f"{v2.fact('methodologyTitlesBasis')}"] += 1
        if name is None and quiet:
            return None
        if name is None:
            self._add("CADT.V2.VOCAB", where, "methodology", f"{label}: no methodologyName for {code!r}; extend "
                      f"v2.methodologyNames in {vocab.where}")
            return None
        self._emit("methodology", "cadTrustMethodologyId",
                   {"cadTrustMethodologyId": methodology_id, "methodologyCode": code, "methodologyName": name})
        link_id = stable_id(vocab.name, "project-methodology", slot.project_id, code)
        self._emit("project-methodology", "cadTrustProjectMethodologyId", {
            "cadTrustProjectMethodologyId": link_id, "cadTrustProjectId": slot.record["cadTrustProjectId"],
            "cadTrustMethodologyId": methodology_id})
        return link_id

    # -- units --------------------------------------------------------------------------------

    def _complete_unit(self, record: dict[str, Any], unit: UnitBlock, index: int, vocab: Vocabulary,
                       slot: _Slot | None) -> None:
        where, label = ("unit", index), f"unit {index} ({unit.serial or record.get('unitStartBlock')})"
        block = unit_block_key(unit.serial, record.get("unitStartBlock"), record.get("unitEndBlock"))
        if block is not None:
            record.setdefault("cadTrustUnitId", stable_id(vocab.name, "unit", block))
        if (missing := no_block(unit, record.get("unitStartBlock"), record.get("unitEndBlock"))) is not None:
            self._add("CADT.V2.SOURCE_MISSING", where, "unitStartBlock", f"{label}: {missing}")
        self._unit_type(record, unit, vocab, slot, where, label)
        metric = vocab.fact("unitMetric")
        if "unitMetric" not in record and metric in (self.picklists.values("unit_metric") or ()):
            record["unitMetric"] = metric
        issued = self._issuance(record, unit, vocab, slot, where, label)
        unit_optional = self.optional.get("unit", frozenset())
        if "unitStatusDate" not in record:
            if unit.status in _SINCE_ISSUANCE and issued is not None:
                record["unitStatusDate"] = issued.isoformat()
                self._derived["unit.unitStatusDate: the issuance date (the block has held its status since it "
                              "was issued)"] += 1
            elif "unitStatusDate" not in unit_optional:
                self._add("CADT.V2.SOURCE_MISSING", where, "unitStatusDate",
                          f"{label}: the export gives no date for status {unit.status}")
        if "unitStatusReason" not in record and not self._from_profile(record, "unit", "unitStatusReason") \
                and "unitStatusReason" not in unit_optional:
            self._profile_missing("unit", "unitStatusReason", where, label)
        if unit.project_id and "cadTrustIssuanceId" in record:
            self.linked_units.add(unit.serial or f"#{index}")
            self.linked_indices.add(index)

    def _unit_type(self, record: dict[str, Any], unit: UnitBlock, vocab: Vocabulary, slot: _Slot | None,
                   where: tuple[str, int], label: str) -> None:
        allowed = self.picklists.values("unit_type") or ()
        if record.get("unitType") in allowed:
            return
        methodology = self._column(unit, vocab, "methodology") or (slot.methodology if slot else None)
        project_type = self._column(unit, vocab, "projectType") or (slot.project_type if slot else None)
        memo = (vocab.name, methodology, project_type)
        if memo not in self._unit_types:
            self._unit_types[memo] = v2_unit_type(vocab, methodology, project_type)
        mapped = self._unit_types[memo]
        record.pop("unitType", None)
        if mapped in allowed:
            record["unitType"] = mapped
        else:
            self._add("CADT.V2.VOCAB", where, "unitType", f"{label}: no CAD Trust unit type for methodology "
                      f"{methodology!r}, project type {project_type!r}; extend (v2.)unitTypeByMethodology or "
                      f"(v2.)unitTypeByProjectType in {vocab.where}")

    def _issuance(self, record: dict[str, Any], unit: UnitBlock, vocab: Vocabulary, slot: _Slot | None,
                  where: tuple[str, int], label: str) -> date | None:
        """Link the unit to its issuance (built with its verification); the issuance date, if known."""
        period = self._periods._period(unit, vocab)
        issued = unit.issuance_date
        known = self._periods._known_issuances.get((vocab.name, self._column(unit, vocab, "issuanceKey") or ""))
        if known is not None:
            period, issued = period or known[0], issued or known[1]
        if period is None and self.operator is not None and self.operator.value("issuance", "period") == VINTAGE_YEAR:
            period = vintage_year(unit)
            if period is not None:
                self._profile_uses[OperatorProfile.key("issuance", "period")] += 1
        if issued is None:
            issued = self._issue_dates.get((unit.registry, unit.project_id, unit.vintage))
            if issued is not None:
                self._derived[f"issuance date: {ONLY_ISSUANCE_BASIS}"] += 1
        if slot is None or period is None:
            self._add("CADT.V2.SOURCE_MISSING", where, "cadTrustIssuanceId", f"{label}: the export gives no "
                      "project or no monitoring period, so the unit cannot be linked to an issuance; where the "
                      f"registry's monitoring period is its vintage year, set issuance.period: {VINTAGE_YEAR} in "
                      "the operator profile")
            return issued
        if issued is not None and (slot.first_issuance is None or issued < slot.first_issuance):
            slot.first_issuance = issued
        start, end = period[0].isoformat(), period[1].isoformat()
        key = (vocab.name, slot.project_id, start, end, issued.isoformat() if issued else "")
        known_id = self._issuance_ids.get(key)
        if known_id is not None:  # built for an earlier block of the same issuance
            record["cadTrustIssuanceId"] = known_id
            self._derived[f"issuance ids: {_ISSUANCE_DERIVED}"] += 1
            if self.operator is not None:
                self._profile_uses[OperatorProfile.key("issuance", "verificationBody")] += 1
            return issued
        # the verification's profile use and the issuance id's count below are what a unit linked to the known
        # issuance adds too (above); the location and methodology records count once, for the issuance
        verification_id = self._verification_id(slot, vocab, start, end, where, label)
        derived, uses = dict(self._derived), dict(self._profile_uses)
        location_id = self._location_id(slot, vocab, unit.country, where, label)
        methodology_id = self._methodology_id(slot, vocab, where, label)
        if verification_id is None or location_id is None or methodology_id is None:
            return issued
        once = (*grown(derived, self._derived), *grown(uses, self._profile_uses))
        natural = key[1:]
        issuance_id = self._issuance_ids[key] = stable_id(vocab.name, "issuance", *natural)
        issuance = {"cadTrustIssuanceId": issuance_id, "issuanceId": "-".join(k for k in natural if k),
                    "issuanceDate": natural[3] or None, "cadTrustVerificationId": verification_id,
                    "cadTrustProjectMethodologyId": methodology_id, "cadTrustLocationId": location_id}
        self._emit("issuance", "cadTrustIssuanceId", {k: v for k, v in issuance.items() if v is not None})
        record["cadTrustIssuanceId"] = issuance_id
        self._derived[f"issuance ids: {_ISSUANCE_DERIVED}"] += 1
        self.issuance_built = issuance_id, once
        return issued

    def _verification_id(self, slot: _Slot, vocab: Vocabulary, start: str, end: str, where: tuple[str, int],
                         label: str) -> str | None:
        body = self.operator.value("issuance", "verificationBody") if self.operator else None
        if body is None:
            self._profile_missing("issuance", "verificationBody", where, label)
            return None
        if body not in (self.picklists.values("verification_body") or (body,)):
            self._add("CADT.V2.VOCAB", where, "verificationBody", f"{label}: the profile's issuance.verificationBody "
                      f"{body!r} is not in the v2 verification_body list")
            return None
        self._profile_uses[OperatorProfile.key("issuance", "verificationBody")] += 1
        verification_id = stable_id(vocab.name, "verification", slot.project_id, start, end)
        self._emit("verification", "cadTrustVerificationId", {
            "cadTrustVerificationId": verification_id, "verificationId": f"{slot.project_id}-{start}-{end}",
            "verificationStartDate": start, "verificationEndDate": end, "verificationBody": body,
            "cadTrustProjectId": slot.record["cadTrustProjectId"]})
        return verification_id

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _column(unit: UnitBlock, vocab: Vocabulary, key: str) -> str | None:
        return column_value(unit, vocab, key)

    def _country(self, alpha3: str | None) -> str | None:
        if alpha3 is None:
            return None
        if alpha3 not in self._countries:
            listed = self.picklists.values("location_country") or ()
            spelled = common_vocabulary().lookup("countriesV2", alpha3)  # the list's own spellings
            self._countries[alpha3] = spelled if spelled in listed else next(
                (c for c in listed if alpha3_of(c) == alpha3), None)
        return self._countries[alpha3]

    def _emit(self, resource: str, pk: str, record: dict[str, Any]) -> None:
        if (resource, str(record[pk])) not in self._emitted:
            self._emitted.add((resource, str(record[pk])))
            self._native.setdefault(resource, []).append(record)

    def _from_profile(self, record: dict[str, Any], section: str, name: str,
                      allowed: Sequence[str] | None = None) -> bool:
        value = self.operator.value(section, name) if self.operator else None
        if value is None or (allowed is not None and value not in allowed):
            return False
        record[name] = value
        self._profile_uses[OperatorProfile.key(section, name)] += 1
        return True

    def _add(self, rule: str, where: tuple[str, int], name: str, message: str) -> None:
        self.findings.append(RULES_V2[rule].finding(message, Location(pointer=f"/{where[0]}/{where[1]}/{name}")))

    def _profile_missing(self, section: str, name: str, where: tuple[str, int], label: str) -> None:
        key = OperatorProfile.key(section, name)
        self._add("CADT.V2.PROFILE_MISSING", where, name, f"{label}: the export does not give {name}, which CAD "
                  f"Trust v2 requires; set {key} in the operator profile (carbonlink translate --profile FILE)")

    def _report(self) -> None:
        for key, count in sorted(self._profile_uses.items()):
            section, name = key.split(".", 1)
            value = self.operator.value(section, name) if self.operator else None
            source = self.operator.source if self.operator else ""
            self.findings.append(RULES_V2["CADT.V2.PROFILE_VALUE"].finding(
                f"{count} record(s) took {key} = {value!r} from the {source}", Location(pointer="")))
        for (key, given, value), count in sorted(self._profile_maps.items()):
            source = self.operator.source if self.operator else ""
            self.findings.append(RULES_V2["CADT.V2.PROFILE_VALUE"].finding(
                f"{count} record(s) took {key} = {value!r} for {given!r} from the {source}", Location(pointer="")))
        for what, count in sorted(self._derived.items()):
            self.findings.append(RULES_V2["CADT.V2.DERIVED"].finding(f"{count} record(s): {what}",
                                                                     Location(pointer="")))


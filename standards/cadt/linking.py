"""Complete and link a CAD Trust v1 document built from a registry export.

A registry export carries units (and sometimes projects) in the registry's own vocabulary; a
CADT 1.7.24 node wants every project, the issuance each unit came from, and values from its
picklists. For records of a registry that has a vocabulary file (:mod:`standards.cadt.vocab`),
:class:`V1Linker`:

* derives a project for every project id the units name and the document lacks (name, link,
  country, type and methodology from the unit rows; status ``Registered`` because the registry
  issued units to it, as of the first issuance date in the export);
* derives one issuance per (project, monitoring period, issuance date), and links its units;
* gives every record a deterministic id: UUIDv5 of the registry and the record's natural key
  (project id; project, period and issuance date; serial block), so a re-run gives the same ids;
* maps values through the vocabulary (never writing a value outside an enforced picklist) and
  fills what the source does not carry from the registry's facts or the operator profile
  (:mod:`standards.cadt.operator`).

Every value it cannot supply is a coded finding naming the vocabulary file or the profile key;
every value taken from the profile or derived is reported once per field (severity info).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from standards.cadt._periods import (
    ONLY_ISSUANCE_BASIS,
    column_value,
    date_order,
    ddmmyyyy,
    issue_dates,
    read_date,
    vintage_year,
)

# public here as before (the v2 linker and tests import them from this module)
from standards.cadt._record_ids import ID_NAMESPACE as ID_NAMESPACE
from standards.cadt._record_ids import stable_id as stable_id
from standards.cadt._values import agreed, is_listed, no_block, unit_block_key
from standards.cadt._values import alpha3_of as alpha3_of
from standards.cadt._values import bare_methodology as bare_methodology
from standards.cadt.common import countries_by_alpha3
from standards.cadt.operator import ISSUANCE_DATE, PROFILE_FIELDS, VINTAGE_YEAR, OperatorProfile
from standards.cadt.picklists import Picklists
from standards.cadt.rules import RULES_V1
from standards.cadt.vocab import Vocabulary, common_vocabulary, registry_vocabulary
from standards.findings import Finding, Location
from standards.model import CanonicalDocument, UnitBlock
from standards.serials import parse_serial
from standards.serials._errors import InvalidSerial

#: The project fields a unit row can give (see ``V1Linker._project_from_unit``).
_UNIT_PROJECT_FIELDS = frozenset({"projectName", "projectType", "methodology", "projectDeveloper"})


@dataclass
class _ProjectSlot:
    record: dict[str, Any]
    index: int
    derived: bool
    first_issuance: date | None = None
    issuances: dict[str, dict[str, Any]] = field(default_factory=dict)


class V1Linker:
    """Fills and links the records of one v1 document (see the module docstring)."""

    def __init__(self, picklists: Picklists, operator: OperatorProfile | None) -> None:
        self.picklists = picklists
        self.operator = operator
        self.findings: list[Finding] = []
        self.common = common_vocabulary()
        self._profile_uses: Counter[str] = Counter()
        self._derived: Counter[tuple[str, str]] = Counter()
        self.linked_units: set[int] = set()
        self._issue_dates: dict[tuple[str | None, str | None, int | None], date] = {}
        self._known_issuances: dict[tuple[str, str], tuple[tuple[date, date], date | None]] = {}
        self._listed_sets: dict[str | None, frozenset[str]] = {}
        self._unit_types: dict[tuple[Vocabulary, str | None, str | None], str | None] = {}

    # -- entry point --------------------------------------------------------------------------

    def link(self, doc: CanonicalDocument, projects: list[dict[str, Any]], units: list[dict[str, Any]]) -> None:
        slots: dict[tuple[str, str], _ProjectSlot] = {}
        for i, (project, record) in enumerate(zip(doc.projects, projects, strict=True)):
            vocab = registry_vocabulary(project.registry)
            if vocab is not None:
                slots[(vocab.name, project.project_id)] = _ProjectSlot(record, i, derived=False)
                self._project_identity(record, project.project_id, vocab)
                methodology = vocab.column("projectColumns", "methodology")
                if methodology and not record.get("methodology") and project.extra.get(methodology):
                    record["methodology"] = str(project.extra[methodology]).strip()
                fallback = vocab.column("projectColumns", "statusFallback")
                if project.status is None and fallback and project.extra.get(fallback):
                    record["projectStatus"] = str(project.extra[fallback])
                column = vocab.column("projectColumns", "statusDate")
                registered = read_date(str(project.extra.get(column) or ""), date_order(vocab)) if column else None
                if registered is not None:
                    record["_registered"] = registered.isoformat()
        self._issue_dates = issue_dates(doc.units)
        self._known_issuances = self._issuances_by_key(doc)
        for i, (unit, record) in enumerate(zip(doc.units, units, strict=True)):
            vocab = registry_vocabulary(unit.registry)
            if vocab is None:
                continue
            slot = self._slot_for(unit, vocab, slots, projects)
            self._complete_unit(record, unit, i, vocab, slot)
        for slot in slots.values():
            vocab = registry_vocabulary(str(slot.record.get("_registry")))
            self._complete_project(slot, vocab)
        self._report_sources()

    # -- projects -----------------------------------------------------------------------------

    def _project_identity(self, record: dict[str, Any], project_id: str, vocab: Vocabulary) -> None:
        origin = vocab.fact("registryOfOrigin") or vocab.name
        record["_registry"] = vocab.name
        record.setdefault("warehouseProjectId", stable_id(vocab.name, "project", project_id))
        if record.get("currentRegistry") in (None, vocab.name):
            record["currentRegistry"] = origin
        record.setdefault("registryOfOrigin", origin)
        record.setdefault("originProjectId", project_id)

    def _slot_for(self, unit: UnitBlock, vocab: Vocabulary, slots: dict[tuple[str, str], _ProjectSlot],
                  projects: list[dict[str, Any]]) -> _ProjectSlot | None:
        if not unit.project_id:
            return None
        key = (vocab.name, unit.project_id)
        slot = slots.get(key)
        if slot is not None and not slot.record.keys() >= _UNIT_PROJECT_FIELDS:
            for name, value in self._project_from_unit(unit, vocab).items():  # unit rows fill what the project
                slot.record.setdefault(name, value)  # row (or the first unit row) lacks
        if slot is None:
            record = self._project_from_unit(unit, vocab)
            projects.append(record)
            slot = slots[key] = _ProjectSlot(record, len(projects) - 1, derived=True)
            self._project_identity(record, unit.project_id, vocab)
        return slot

    def _project_from_unit(self, unit: UnitBlock, vocab: Vocabulary) -> dict[str, Any]:
        """The project fields a unit row carries (the other fields are completed with the project)."""
        record: dict[str, Any] = {"projectId": unit.project_id}
        if unit.project_name:
            record["projectName"] = unit.project_name
        if unit.link:
            record["projectLink"] = unit.link
        for column_key, field_name in (("projectType", "projectType"), ("methodology", "methodology"),
                                       ("developer", "projectDeveloper")):
            value = column_value(unit, vocab, column_key)
            if value is not None:
                record[field_name] = value
        return record

    def _project_link(self, record: dict[str, Any], vocab: Vocabulary) -> None:
        """``projectLink`` from the registry's page template (vocabulary), else the operator profile's."""
        if record.get("projectLink"):
            return
        template = vocab.fact("projectLinkTemplate")
        basis = f"{vocab.where} projectLinkTemplate"
        if template is None and self.operator is not None:
            template = self.operator.value("project", "projectLink")
            basis = ""
        project_id = str(record.get("projectId") or "")
        if template is None or not project_id:
            return
        number = project_id.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ").lstrip("0") or "0"
        record["projectLink"] = template.replace("{projectId}", project_id).replace("{number}", number)
        if basis:
            self._derived[("project.projectLink", basis)] += 1
        else:
            self._profile_uses[OperatorProfile.key("project", "projectLink")] += 1

    def _complete_project(self, slot: _ProjectSlot, vocab: Vocabulary | None) -> None:
        record = slot.record
        record.pop("_registry", None)
        if vocab is None:
            return
        where = ("projects", slot.index)
        label = f"project {record.get('projectId')}"
        self._project_link(record, vocab)
        self._project_status(record, slot, vocab, where, label)
        sectors = self.picklists.values("projectSector")
        if "sector" not in record or (sectors and record["sector"] not in sectors):
            given = record.pop("sector", None)
            sector = agreed(vocab, "sector", given) or agreed(vocab, "sector", record.get("projectType"))
            if sector is not None and sector in (sectors or (sector,)):
                record["sector"] = sector
            elif not self._from_profile(record, "project", "sector", where):
                self._vocab_missing(where, "sector", label, "sector", record.get("projectType"), vocab)
        methodology = record.get("methodology")
        if isinstance(methodology, str):
            record["methodology"] = self._methodology(methodology, vocab)
        if "unitMetric" not in record:
            metric = vocab.fact("unitMetric")
            if metric is not None:
                record["unitMetric"] = metric
                self._derived[("project.unitMetric", str(vocab.fact("unitMetricBasis") or vocab.where))] += 1
            else:
                self._from_profile_or_flag(record, "project", "unitMetric", where, label)
        self._from_profile_or_flag(record, "project", "coveredByNDC", where, label)
        for name in ("projectDeveloper", "projectName", "projectLink", "projectType", "methodology"):
            if not record.get(name):
                self._source_missing(where, name, label)
        if slot.issuances:
            record["issuances"] = list(slot.issuances.values())

    def _project_status(self, record: dict[str, Any], slot: _ProjectSlot, vocab: Vocabulary,
                        where: tuple[str, int], label: str) -> None:
        allowed = self.picklists.values("projectStatusValues") or ()
        status = record.get("projectStatus")
        if status is None and slot.derived and slot.first_issuance is not None:
            record["projectStatus"] = vocab.fact("issuedProjectStatus")
            record.setdefault("projectStatusDate", slot.first_issuance.isoformat())
            self._derived[("project.projectStatus", str(vocab.fact("issuedProjectStatusBasis")))] += 1
        elif isinstance(status, str) and status not in allowed:
            mapped = vocab.lookup("projectStatus", status)
            if mapped is None or mapped not in allowed:
                del record["projectStatus"]
                self._vocab_missing(where, "projectStatus", label, "projectStatus", status, vocab)
            else:
                record["projectStatus"] = mapped
        if "projectStatus" not in record:
            self._from_profile_or_flag(record, "project", "projectStatus", where, label)
        if "projectStatusDate" not in record:
            registered = record.pop("_registered", None)
            if registered and record.get("projectStatus") == "Registered":
                record["projectStatusDate"] = registered
            else:
                self._from_profile_or_flag(record, "project", "projectStatusDate", where, label)
        record.pop("_registered", None)

    def _methodology(self, methodology: str, vocab: Vocabulary) -> str:
        """The picklist's spelling of a methodology code (``VCS - VM0015``) when it has one, else as given."""
        listed = set(self.picklists.values("methodology") or ())
        for prefix in vocab.data.get("methodologyPrefixes") or ():
            if f"{prefix}{methodology}" in listed:
                return f"{prefix}{methodology}"
        return methodology

    # -- units --------------------------------------------------------------------------------

    def _complete_unit(self, record: dict[str, Any], unit: UnitBlock, index: int, vocab: Vocabulary,
                       slot: _ProjectSlot | None) -> None:
        where = ("units", index)
        label = f"unit {index} ({unit.serial or record.get('unitBlockStart')})"
        block = unit_block_key(unit.serial, record.get("unitBlockStart"), record.get("unitBlockEnd"))
        if block is not None:
            record.setdefault("warehouseUnitId", stable_id(vocab.name, "unit", block))
        if (missing := no_block(unit, record.get("unitBlockStart"), record.get("unitBlockEnd"))) is not None:
            self._add("CADT.V1.SOURCE_MISSING", where, "unitBlockStart", f"{label}: {missing}")
        self._unit_type(record, unit, vocab, where, label, slot)
        if "unitStatus" not in record and unit.status is not None:
            status = self.common.lookup("unitStatus", unit.status.value)
            if status is not None:
                record["unitStatus"] = status
        self._owner_country(record, unit, where, label)
        for name in ("correspondingAdjustmentDeclaration", "correspondingAdjustmentStatus"):
            self._from_profile_or_flag(record, "unit", name, where, label)
        if slot is not None:
            self._issuance(record, unit, index, vocab, slot, where, label)

    def _unit_type(self, record: dict[str, Any], unit: UnitBlock, vocab: Vocabulary, where: tuple[str, int],
                   label: str, slot: _ProjectSlot | None) -> None:
        allowed = self._listed("unitType")
        if is_listed(record.get("unitType"), allowed):
            return
        project = slot.record if slot is not None else {}
        methodology = self._column(unit, vocab, "methodology") or project.get("methodology")
        project_type = self._column(unit, vocab, "projectType") or project.get("projectType")
        mapped = self._mapped_unit_type(vocab, methodology, project_type)
        record.pop("unitType", None)
        if mapped is not None and mapped in allowed:
            record["unitType"] = mapped
            return
        value = f"{unit.unit_type or 'unit'} of methodology {methodology!r}, project type {project_type!r}"
        self._vocab_missing(where, "unitType", label, "unitTypeByMethodology or unitTypeByProjectType", value, vocab)

    def _mapped_unit_type(self, vocab: Vocabulary, methodology: Any, project_type: Any) -> str | None:
        """The vocabulary's unit type for a methodology (else a project type), looked up once per pair."""
        memo = (vocab, methodology, project_type) if isinstance(methodology, str | None) \
            and isinstance(project_type, str | None) else None
        if memo is not None and memo in self._unit_types:
            return self._unit_types[memo]
        mapped = agreed(vocab, "unitTypeByMethodology", methodology, methodology=True) \
            or agreed(vocab, "unitTypeByProjectType", project_type)
        if memo is not None:
            self._unit_types[memo] = mapped
        return mapped

    @staticmethod
    def _column(unit: UnitBlock, vocab: Vocabulary, key: str) -> str | None:
        return column_value(unit, vocab, key)

    def _owner_country(self, record: dict[str, Any], unit: UnitBlock, where: tuple[str, int], label: str) -> None:
        """The owner's jurisdiction: the export's own owner country when it has one, else the operator
        profile's ``unit.countryJurisdictionOfOwner``. A registry export's country is the project's host
        country, not the owner's, so it is never written here."""
        given = unit.extra.get("countryJurisdictionOfOwner")
        record.pop("countryJurisdictionOfOwner", None)
        if given is None:
            if not self._from_profile(record, "unit", "countryJurisdictionOfOwner", where):
                self._add("CADT.V1.PROFILE_MISSING", where, "countryJurisdictionOfOwner",
                          f"{label}: the export gives no owner country (its country is the project's host "
                          "country), and CAD Trust requires countryJurisdictionOfOwner; set "
                          "unit.countryJurisdictionOfOwner in the operator profile")
            return
        spelled = given if is_listed(given, self._listed("countries")) else self.country(alpha3_of(given))
        if spelled is not None:
            record["countryJurisdictionOfOwner"] = spelled
        else:
            self._add("CADT.V1.VOCAB", where, "countryJurisdictionOfOwner",
                      f"{label}: owner country {given!r} is not in the node's countries picklist; map its alpha-3 "
                      f"code in {self.common.where} (countries) to a listed spelling")

    def country(self, alpha3: str | None) -> str | None:
        """The picklist's spelling of an ISO alpha-3 country, or None when the list has none."""
        if alpha3 is None:
            return None
        allowed = self.picklists.values("countries") or ()
        mapped = self.common.lookup("countries", alpha3)
        if mapped is not None and mapped in allowed:
            return mapped
        return countries_by_alpha3(tuple(allowed)).get(alpha3)

    def _issuance(self, record: dict[str, Any], unit: UnitBlock, index: int, vocab: Vocabulary,
                  slot: _ProjectSlot, where: tuple[str, int], label: str) -> None:
        period = self._period(unit, vocab)
        issued = unit.issuance_date
        known = self._known_issuances.get((vocab.name, self._column(unit, vocab, "issuanceKey") or ""))
        if known is not None:
            period, issued = period or known[0], issued or known[1]
        if period is None and self.operator is not None and self.operator.value("issuance", "period") == VINTAGE_YEAR:
            period = vintage_year(unit)
            if period is not None:
                self._profile_uses[OperatorProfile.key("issuance", "period")] += 1
        if period is None:
            self._add("CADT.V1.SOURCE_MISSING", where, "issuance",
                      f"{label}: the export gives no monitoring period (vintage start and end), so the unit "
                      "cannot be linked to an issuance; where the registry's monitoring period is its vintage "
                      f"year, set issuance.period: {VINTAGE_YEAR} in the operator profile")
            return
        self._project_link(slot.record, vocab)
        if not record.get("unitRegistryLink") and slot.record.get("projectLink"):
            record["unitRegistryLink"] = slot.record["projectLink"]
        start, end = period
        if issued is None:
            issued = self._issue_dates.get((unit.registry, unit.project_id, unit.vintage))
            if issued is not None:
                self._derived[("issuance date", ONLY_ISSUANCE_BASIS)] += 1
        if issued is not None and (slot.first_issuance is None or issued < slot.first_issuance):
            slot.first_issuance = issued
        report_date = self._report_date(issued, where, label)
        approach = self._profile_value("issuance", "verificationApproach", where, label)
        if report_date is None or approach is None:
            return
        project_id = str(slot.record.get("projectId"))
        key = (project_id, start.isoformat(), end.isoformat(), issued.isoformat() if issued else "")
        issuance = slot.issuances.get("|".join(key))
        if issuance is None:
            issuance = {"id": stable_id(vocab.name, "issuance", *key),
                        "warehouseProjectId": slot.record["warehouseProjectId"],
                        "startDate": start.isoformat(), "endDate": end.isoformat(),
                        "verificationApproach": approach, "verificationReportDate": report_date}
            body = self.operator.value("issuance", "verificationBody") if self.operator else None
            if body is not None:
                issuance["verificationBody"] = body
            slot.issuances["|".join(key)] = issuance
        record["issuanceId"] = issuance["id"]
        record["issuance"] = dict(issuance)
        self.linked_units.add(index)

    def _issuances_by_key(self, doc: CanonicalDocument) -> dict[tuple[str, str], tuple[tuple[date, date], date | None]]:
        """Monitoring period and issuance date per issuance key (``unitColumns.issuanceKey``: a column that
        names the issuance, such as Cercarbono's issuance serial), from the units that give them, so a
        retirement row that names only its issuance is linked to it when both exports are translated together."""
        known: dict[tuple[str, str], tuple[tuple[date, date], date | None]] = {}
        for unit in doc.units:
            vocab = registry_vocabulary(unit.registry)
            key = self._column(unit, vocab, "issuanceKey") if vocab is not None else None
            period = self._period(unit, vocab) if vocab is not None and key else None
            if vocab is not None and key and period is not None:
                known.setdefault((vocab.name, key), (period, unit.issuance_date))
        return known

    def _period(self, unit: UnitBlock, vocab: Vocabulary) -> tuple[date, date] | None:
        order = date_order(vocab)
        start = read_date(self._column(unit, vocab, "vintageStart"), order)
        end = read_date(self._column(unit, vocab, "vintageEnd"), order)
        both = self._column(unit, vocab, "vintagePeriod")
        if both is not None and both.count("/") == 1 and (start is None or end is None):
            first, last = both.split("/")
            start, end = start or read_date(first.strip(), order), end or read_date(last.strip(), order)
        if (start is None or end is None) and unit.serial:
            try:
                serial = parse_serial(unit.serial, vocab.fact("serialScheme") or vocab.name)
            except (InvalidSerial, LookupError, ValueError):
                serial = None
            if serial is not None:
                start = start or ddmmyyyy(serial.part("vintage_start"))
                end = end or ddmmyyyy(serial.part("vintage_end"))
        if start is None or end is None or end < start:
            return None
        return start, end

    def _report_date(self, issued: date | None, where: tuple[str, int], label: str) -> str | None:
        value = self._profile_value("issuance", "verificationReportDate", where, label)
        if value != ISSUANCE_DATE:
            return value
        if issued is None:
            self._add("CADT.V1.SOURCE_MISSING", where, "issuance",
                      f"{label}: the profile takes the verification report date from the issuance date, "
                      "which this row does not give")
            return None
        return issued.isoformat()

    # -- values from the profile --------------------------------------------------------------

    def _profile_value(self, section: str, name: str, where: tuple[str, int], label: str) -> str | None:
        value = self.operator.value(section, name) if self.operator else None
        if value is None:
            self._profile_missing(section, name, where, label)
        else:
            self._profile_uses[OperatorProfile.key(section, name)] += 1
        return value

    def _from_profile(self, record: dict[str, Any], section: str, name: str, where: tuple[str, int]) -> bool:
        value = self.operator.value(section, name) if self.operator else None
        if value is None:
            return False
        record[name] = value
        self._profile_uses[OperatorProfile.key(section, name)] += 1
        return True

    def _from_profile_or_flag(self, record: dict[str, Any], section: str, name: str, where: tuple[str, int],
                              label: str) -> None:
        picklist = PROFILE_FIELDS.get(section, {}).get(name)
        value = record.get(name)
        if value is not None and (not picklist or self.picklists.values(picklist) is None
                                  or is_listed(value, self._listed(picklist))):
            return
        record.pop(name, None)
        if not self._from_profile(record, section, name, where):
            self._profile_missing(section, name, where, label)

    def _listed(self, picklist: str | None) -> frozenset[str]:
        """The values of ``picklist`` as a set (empty when there is no such list), built once per linker."""
        listed = self._listed_sets.get(picklist)
        if listed is None:
            listed = self._listed_sets[picklist] = frozenset(self.picklists.values(picklist) or ()) \
                if picklist else frozenset()
        return listed

    # -- findings -----------------------------------------------------------------------------

    def _add(self, rule: str, where: tuple[str, int], name: str, message: str) -> None:
        pointer = f"/{where[0]}/{where[1]}/{name}"
        self.findings.append(RULES_V1[rule].finding(message, Location(pointer=pointer)))

    def _profile_missing(self, section: str, name: str, where: tuple[str, int], label: str) -> None:
        key = OperatorProfile.key(section, name)
        self._add("CADT.V1.PROFILE_MISSING", where, name if section != "issuance" else "issuance",
                  f"{label}: the export does not give {name}, which CAD Trust requires; set {key} in the "
                  "operator profile (carbonlink translate --profile FILE)")

    def _source_missing(self, where: tuple[str, int], name: str, label: str) -> None:
        self._add("CADT.V1.SOURCE_MISSING", where, name,
                  f"{label}: the export does not give {name}, which CAD Trust requires (translate the "
                  "registry's project export, which carries it)")

    def _vocab_missing(self, where: tuple[str, int], name: str, label: str, table: str, value: Any,
                       vocab: Vocabulary) -> None:
        self._add("CADT.V1.VOCAB", where, name,
                  f"{label}: no CAD Trust {name} for {value!r}; extend {table} in {vocab.where}")

    def _report_sources(self) -> None:
        for key, count in sorted(self._profile_uses.items()):
            value = self._profile_source_value(key)
            self.findings.append(RULES_V1["CADT.V1.PROFILE_VALUE"].finding(
                f"{count} record(s) took {key} = {value!r} from the {self.operator.source if self.operator else ''}",
                Location(pointer="")))
        for (name, basis), count in sorted(self._derived.items()):
            self.findings.append(RULES_V1["CADT.V1.DERIVED"].finding(
                f"{count} record(s) have {name} derived: {basis}", Location(pointer="")))

    def _profile_source_value(self, key: str) -> str | None:
        section, name = key.split(".", 1)
        return self.operator.value(section, name) if self.operator else None

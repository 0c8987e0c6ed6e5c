"""Layered validation of CAD Trust documents: structure, code lists, field rules, cross-record.

:class:`CadtValidator` checks a parsed JSON document (``{resource: [records]}``) and returns the
records *normalised* (legacy keys renamed, known variant spellings replaced by the picklist's own
value, alpha-2 Party codes widened to alpha-3), each with the findings that explain every change.
A record that fails a layer skips the later layers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from standards.cadt.picklists import Picklists
from standards.cadt.profiles import Profile
from standards.cadt.rules import CATALOGUES
from standards.cadt.spec import EntitySpec, FieldSpec, Version, load_spec
from standards.cadt.structure import detailed_errors, structure_checker
from standards.findings import Finding, Location, RuleCatalogue, Severity, json_pointer
from standards.parties import UnknownParty, to_alpha3

Path = tuple[str | int, ...]
Locator = Callable[[Path], Location]

#: v2 AEF Party-id fields where the CN wants ISO alpha-3 but CADT examples carry alpha-2.
PARTY_FIELDS = frozenset({
    "aefT3ActionsFirstTransferringPartyId", "aefT3ActionsTransferringPartyId", "aefT3ActionsAcquiringPartyId",
    "aefT3ActionsUsingParticipatingPartyId", "aefT4HoldingsFirstTransferringPartyId",
})
PARTY_LIST_FIELDS = frozenset({"aefT2AuthorizationsAuthorizedPartyId"})
#: Serial block fields of a unit: (start, end, count).
BLOCK_FIELDS = {"v1": ("unitBlockStart", "unitBlockEnd", "unitCount"),
                "v2": ("unitStartBlock", "unitEndBlock", "unitCount")}
_DIGITS = re.compile(r"^\d+$")
_NOUNS = {"projects": "project", "units": "unit"}


def default_locator(path: Path) -> Location:
    return Location(pointer=json_pointer(path))


def parse_date(value: str) -> date | None:
    """An ISO 8601 date or date-time (``Z`` allowed) as a date; None when it is neither."""
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


def as_block_int(value: Any) -> int | None:
    """A serial block bound as an integer when it is one (digits only, no sign, no leading zero)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _DIGITS.match(value) and (value == "0" or not value.startswith("0")):
        return int(value)
    return None


@dataclass(frozen=True, slots=True)
class _Plan:
    """Which fields of an entity each layer looks at (computed once per entity and validator)."""

    children: tuple[FieldSpec, ...]
    picklists: tuple[tuple[FieldSpec, frozenset[str], tuple[str, ...]], ...]
    checked: tuple[FieldSpec, ...]
    ordered: tuple[FieldSpec, ...]


@dataclass(slots=True)
class Record:
    """One normalised record and where it sits in the document."""

    resource: str
    index: int
    entity: str
    data: dict[str, Any]
    failed: bool = False


@dataclass(slots=True)
class Validation:
    records: dict[str, list[Record]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def passed(self, resource: str) -> Iterator[Record]:
        return (r for r in self.records.get(resource, []) if not r.failed)


class CadtValidator:
    """Validates documents of one CAD Trust version against picklists and a profile."""

    def __init__(self, version: Version, picklists: Picklists, profile: Profile, *,
                 request: bool = False) -> None:
        self.version = version
        self.spec = load_spec(version)
        self.rules: RuleCatalogue = CATALOGUES[version]
        self.picklists = picklists
        self.profile = profile
        self.request = request
        self.checker = structure_checker(version)
        self._p = "CADT.V1" if version == "v1" else "CADT.V2"
        self._plans: dict[str, _Plan] = {}

    def _plan(self, entity: EntitySpec) -> _Plan:
        plan = self._plans.get(entity.name)
        if plan is not None:
            return plan
        lists = []
        for f in entity.fields:
            allowed = self.picklists.values(f.picklist) if f.picklist and f.enforced else None
            if allowed is not None:
                lists.append((f, frozenset(allowed), allowed))
        checked = tuple(
            f for f in entity.fields
            if f.kind in ("date", "datetime") or f.range or f.max_length or f.decimal_places or f.non_empty
            or (self.version == "v2" and f.name in PARTY_FIELDS | PARTY_LIST_FIELDS)
            or (self.request and self._server_owned(entity, f)))
        plan = _Plan(children=tuple(f for f in entity.fields if f.kind in ("array", "object") and f.child),
                     picklists=tuple(lists), checked=checked, ordered=tuple(f for f in entity.fields if f.after))
        self._plans[entity.name] = plan
        return plan

    # -- public -----------------------------------------------------------------------------

    def run(self, raw: Any, locate: Locator = default_locator) -> Validation:
        out = Validation()
        self._locate = locate
        self._findings = out.findings
        if not isinstance(raw, dict):
            self._add(f"{self._p}.DOCUMENT", (), "the document must be a JSON object keyed by CAD Trust "
                      f"resource names ({', '.join(self.spec.resources)}), not {_json_type(raw)}")
            return out
        for resource, items in raw.items():
            if resource not in self.spec.resources:
                self._add(f"{self._p}.DOCUMENT", (resource,), f"{resource!r} is not a CAD Trust "
                          f"{self.version} resource (expected one of: {', '.join(self.spec.resources)})")
                continue
            if not isinstance(items, list):
                self._add(f"{self._p}.DOCUMENT", (resource,),
                          f"{resource} must be a list of records, not {_json_type(items)}")
                continue
            entity = self.spec.resources[resource]
            records = out.records.setdefault(resource, [])
            for index, item in enumerate(items):
                path: Path = (resource, index)
                if not isinstance(item, dict):
                    self._add(f"{self._p}.DOCUMENT", path,
                              f"{_noun(resource)} {index} must be a JSON object, not {_json_type(item)}")
                    continue
                records.append(self._check_record(resource, index, entity, item))
        self._cross_record(out)
        return out

    # -- per record -------------------------------------------------------------------------

    def _check_record(self, resource: str, index: int, entity: str, item: dict[str, Any]) -> Record:
        path: Path = (resource, index)
        before = len(self._findings)
        data = self._rename_keys(entity, item, path)
        record = Record(resource, index, entity, data)
        if any(f.is_error for f in self._findings[before:]):
            record.failed = True
            return record
        if not self.checker.check(entity, data):
            self._structure_findings(entity, data, path)
            record.failed = True
            return record
        if not self._code_lists(self.spec.entities[entity], data, path):
            record.failed = True
            return record
        if not self._field_rules(self.spec.entities[entity], data, path):
            record.failed = True
        return record

    def _rename_keys(self, entity: str, item: dict[str, Any], path: Path) -> dict[str, Any]:
        aliases = self.profile.input_key_aliases
        if not aliases or not any(k in aliases for k in item):
            return dict(item)
        data: dict[str, Any] = {}
        for key, value in item.items():
            target = aliases.get(key)
            if target is None or target not in self.spec.entities[entity].by_name:
                data.setdefault(key, value)
                continue
            if target in item:
                self._add(f"{self._p}.UNKNOWN_KEY", (*path, key), f"{_noun(path[0])} {path[1]} gives both "
                          f"{key!r} (legacy spelling) and {target!r}; only {target!r} is read")
                continue
            data[target] = value
            self._add("CADT.LEGACY_KEY", (*path, key), f"legacy key {key!r} read as {target!r}")
        return data

    def _structure_findings(self, entity: str, data: dict[str, Any], path: Path) -> None:
        noun = f"{_noun(str(path[0]))} {path[1]}"
        reported = False
        for error in detailed_errors(self.version, entity, data):
            where = (*path, *error.absolute_path)
            if error.validator == "required":
                missing = str(error.message).split("'")[1] if "'" in error.message else "?"
                self._add(f"{self._p}.REQUIRED", (*where, missing),
                          f"{noun} has no {missing!r}, which CAD Trust {self.version} requires")
            elif error.validator == "additionalProperties":
                known = self.spec.entities[entity].by_name if len(error.absolute_path) == 0 else None
                instance = error.instance if isinstance(error.instance, dict) else {}
                allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
                for key in instance:
                    if key not in allowed:
                        hint = "" if known is None else f" (a {entity} has: {', '.join(list(known)[:8])}, ...)"
                        self._add(f"{self._p}.UNKNOWN_KEY", (*where, key),
                                  f"{noun}: {key!r} is not a field of a CAD Trust {self.version} "
                                  f"{_entity_word(entity)}{hint}")
            elif error.instance is None and error.absolute_path:
                self._add(f"{self._p}.REQUIRED", where, f"{noun}: {error.absolute_path[-1]} is null, but "
                          f"CAD Trust {self.version} requires a value")
            else:
                self._add(f"{self._p}.TYPE", where, f"{noun}: {_type_message(error)}")
            reported = True
        if not reported:  # the fast path and jsonschema disagree: say so rather than stay silent
            self._add(f"{self._p}.TYPE", path, f"{noun} does not match the {entity} schema")

    def _code_lists(self, entity: EntitySpec, data: dict[str, Any], path: Path) -> bool:
        ok = True
        plan = self._plan(entity)
        for f in plan.children:
            value = data.get(f.name)
            if value is None:
                continue
            children = value if isinstance(value, list) else [value]
            child_entity = self.spec.entities[str(f.child)]
            for i, child in enumerate(children):
                child_path = (*path, f.name, i) if isinstance(value, list) else (*path, f.name)
                ok = self._code_lists(child_entity, child, child_path) and ok
        for f, allowed_set, allowed in plan.picklists:
            value = data.get(f.name)
            if value is None:
                continue
            if isinstance(value, list):
                fixed = []
                for i, item in enumerate(value):
                    good, item = self._picklist_value(f, item, allowed_set, allowed, (*path, f.name, i))
                    ok = ok and good
                    fixed.append(item)
                data[f.name] = fixed
            else:
                good, data[f.name] = self._picklist_value(f, value, allowed_set, allowed, (*path, f.name))
                ok = ok and good
        return ok

    def _picklist_value(self, f: FieldSpec, value: str, allowed_set: frozenset[str], allowed: tuple[str, ...],
                        path: Path) -> tuple[bool, str]:
        picklist = str(f.picklist)
        if value in allowed_set:
            if value in self.profile.reported_input_values.get(picklist, ()):
                canonical = self.profile.to_canonical(picklist, value)
                self._add("CADT.LEGACY_VALUE", path, f"{f.name} {value!r} is the CAD Trust {self.version} "
                          f"list's spelling of {canonical!r}; read as {canonical!r}")
            return True, value
        spelled = self.profile.to_cadt(picklist, value)
        if spelled != value and spelled in allowed_set and "CADT.LEGACY_VALUE" in self.rules:
            self._add("CADT.LEGACY_VALUE", path, f"{f.name} {value!r} is not in the CAD Trust list "
                      f"{picklist}, which spells it {spelled!r}; read as {value!r}")
            return True, spelled
        shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
        self._add(f"{self._p}.PICKLIST", path, f"{f.name} {value!r} is not in the CAD Trust {self.version} "
                  f"picklist {picklist} ({self.picklists.origin(picklist)}): {shown}")
        return False, value

    def _field_rules(self, entity: EntitySpec, data: dict[str, Any], path: Path) -> bool:
        before = len(self._findings)
        p = self._p
        dates: dict[str, date] = {}
        plan = self._plan(entity)
        for f in plan.children:
            value = data.get(f.name)
            if value is None:
                continue
            children = value if isinstance(value, list) else [value]
            for i, child in enumerate(children):
                child_path = (*path, f.name, i) if isinstance(value, list) else (*path, f.name)
                self._field_rules(self.spec.entities[str(f.child)], child, child_path)
        for f in plan.checked:
            value = data.get(f.name)
            if value is None:
                continue
            where = (*path, f.name)
            if self.request and self._server_owned(entity, f):
                self._add(f"{p}.SERVER_KEY", where, f"{f.name} is set by CADT itself; remove it from the "
                          "request body (send it only to update or delete an existing record)")
            if f.kind in ("date", "datetime") and isinstance(value, str):
                parsed = parse_date(value)
                if parsed is None:
                    self._add(f"{p}.DATE", where, f"{f.name} {value!r} is not an ISO 8601 date (YYYY-MM-DD)")
                else:
                    dates[f.name] = parsed
            if f.range is not None and isinstance(value, int | float) and not isinstance(value, bool):
                lo, hi = f.range
                if not lo <= value <= hi:
                    rule = "CADT.V1.VINTAGE" if self.version == "v1" else "CADT.V2.YEAR"
                    self._add(rule, where, f"{f.name} {value} is outside {lo}-{hi}")
            if f.max_length is not None and isinstance(value, str) and len(value) > f.max_length:
                self._add(f"{p}.STRING_LENGTH", where,
                          f"{f.name} is {len(value)} characters long; CAD Trust allows {f.max_length}")
            if f.decimal_places is not None and self.version == "v2":
                places = _decimal_places(value)
                if places is not None and places > f.decimal_places:
                    self._add("CADT.V2.QUANTITY_DP", where, f"{f.name} {value} has {places} decimal places; "
                              f"CAD Trust allows at most {f.decimal_places}")
            if f.non_empty and value == "":
                self._add(f"{p}.MARKETPLACE_ID", where, f"{f.name} must not be an empty string "
                          "(leave it out or send null when there is none)")
            if self.version == "v2" and f.name in PARTY_FIELDS | PARTY_LIST_FIELDS and isinstance(value, str):
                data[f.name] = self._widen_parties(f.name, value, where)
        for f in plan.ordered:
            if f.after and f.after not in dates and isinstance(data.get(f.after), str):
                parsed_start = parse_date(data[f.after])  # validityPeriodStartDate is typed as text
                if parsed_start is not None:
                    dates[f.after] = parsed_start
            if f.after and f.name in dates and f.after in dates:
                end, start = dates[f.name], dates[f.after]
                if end < start or (f.strictly_after and end == start):
                    word = "after" if f.strictly_after else "on or after"
                    self._add(f"{p}.DATE_ORDER", (*path, f.name),
                              f"{f.name} {end.isoformat()} must be {word} {f.after} {start.isoformat()}")
        if entity.name == "unit":
            self._serial_range(data, path)
        return not any(x.is_error for x in self._findings[before:])

    def _server_owned(self, entity: EntitySpec, f: FieldSpec) -> bool:
        if f.is_server_owned:
            return True
        return self.version == "v1" and entity.name == "unit" and f.name == "issuanceId"

    def _widen_parties(self, name: str, value: str, where: Path) -> str:
        parts = [p.strip() for p in value.split(",")] if name in PARTY_LIST_FIELDS else [value.strip()]
        widened = []
        for part in parts:
            if part.upper() == "NA" or (len(part) == 3 and part.isupper()):
                widened.append(part)
                continue
            try:
                code, _form = to_alpha3(part)
            except UnknownParty:
                widened.append(part)
                continue
            widened.append(code)
            self._add("CADT.V2.PARTY_CODE", where, f"{name} {part!r} read as the ISO alpha-3 code {code!r}")
        return ", ".join(widened) if name in PARTY_LIST_FIELDS else widened[0]

    def _serial_range(self, data: dict[str, Any], path: Path) -> None:
        start_key, end_key, count_key = BLOCK_FIELDS[self.version]
        start, end = as_block_int(data.get(start_key)), as_block_int(data.get(end_key))
        if start is None or end is None:
            return
        rule = f"{self._p}.UNIT.SERIAL_RANGE"
        if end < start:
            self._add(rule, (*path, end_key), f"serial block ends ({end}) before it starts ({start})")
            return
        count = data.get(count_key)
        try:
            quantity = Decimal(str(count)) if count is not None else None
        except InvalidOperation:
            quantity = None
        if quantity is not None and quantity != end - start + 1:
            self._add(rule, (*path, count_key), f"unitCount {count} does not match the serial block "
                      f"{start}-{end}, which holds {end - start + 1} units")

    # -- cross-record ------------------------------------------------------------------------

    def _cross_record(self, out: Validation) -> None:
        ids: dict[str, set[str]] = {}
        for resource, records in out.records.items():
            pk = self.spec.entity_for(resource).pk
            seen: dict[str, int] = {}
            for rec in records:
                value = rec.data.get(pk) if pk else None
                if value is None:
                    continue
                key = str(value)
                ids.setdefault(resource, set()).add(key)
                if key in seen and not rec.failed:
                    self._add(f"{self._p}.DUPLICATE_ID", (resource, rec.index, str(pk)),
                              f"{pk} {key} is used by {_noun(resource)} {seen[key]} too")
                seen.setdefault(key, rec.index)
        if self.version == "v1":
            self._v1_references(out)
        else:
            self._v2_references(out, ids)

    def _v1_references(self, out: Validation) -> None:
        projects = list(out.records.get("projects", []))
        if not projects:
            return
        project_ids = {str(p.data.get("warehouseProjectId")) for p in projects
                       if p.data.get("warehouseProjectId") is not None}
        issuance_ids = {str(i.get("id")) for p in projects for i in _as_list(p.data.get("issuances"))
                        if isinstance(i, dict) and i.get("id") is not None}
        for unit in out.passed("units"):
            issuance = unit.data.get("issuance")
            path: Path = ("units", unit.index)
            if isinstance(issuance, dict) and issuance.get("warehouseProjectId") is not None:
                wid = str(issuance["warehouseProjectId"])
                if wid not in project_ids:
                    self._add("CADT.V1.REF.ISSUANCE", (*path, "issuance", "warehouseProjectId"),
                              f"unit {unit.index}'s issuance belongs to project {wid}, which is not among "
                              "the projects of this document")
                continue
            ref = unit.data.get("issuanceId") or (issuance or {}).get("id")
            if ref is not None and issuance_ids and str(ref) not in issuance_ids:
                self._add("CADT.V1.REF.ISSUANCE", (*path, "issuanceId"), f"unit {unit.index} refers to "
                          f"issuance {ref}, which no project of this document has")

    def _v2_references(self, out: Validation, ids: dict[str, set[str]]) -> None:
        t2_by_id = {str(r.data.get("cadTrustAefT2AuthorizationsId")): r
                    for r in out.records.get("aef-t2-authorizations", [])}
        for resource, records in out.records.items():
            entity = self.spec.entity_for(resource)
            for rec in records:
                if rec.failed:
                    continue
                for f in entity.fields:
                    value = rec.data.get(f.name)
                    if f.fk is None or f.pk or value is None:
                        continue
                    target = self.spec.resource_of.get(f.fk.split(".")[0])
                    where: Path = (resource, rec.index, f.name)
                    if f.name == "cadTrustAefT2AuthorizationsId" and resource in ("aef-t3-actions",
                                                                                  "aef-t4-holdings"):
                        self._needs_t2(rec, str(value), t2_by_id, where)
                        continue
                    if target is None or target not in out.records or not out.records[target]:
                        continue
                    if str(value) not in ids.get(target, set()):
                        self._add("CADT.V2.REF", where, f"{_noun(resource)} {rec.index}: {f.name} {value} "
                                  f"names no {target} record of this document")

    def _needs_t2(self, rec: Record, value: str, t2_by_id: dict[str, Record], where: Path) -> None:
        t2 = t2_by_id.get(value)
        noun = f"{_noun(rec.resource)} {rec.index}"
        if t2 is None and not t2_by_id:
            self._add("CADT.V2.AEF.NEEDS_T2", where, f"{noun} refers to authorization {value}, but this "
                      "document holds no aef-t2-authorizations, so the link cannot be checked",
                      severity=Severity.WARNING)
            return
        if t2 is None:
            self._add("CADT.V2.AEF.NEEDS_T2", where, f"{noun} refers to authorization {value}, which is not "
                      "among the aef-t2-authorizations of this document")
            return
        prefix = "aefT3Actions" if rec.resource == "aef-t3-actions" else "aefT4Holdings"
        given = rec.data.get(f"{prefix}AuthorizationId")
        expected = t2.data.get("aefT2AuthorizationsId")
        if given is not None and expected is not None and str(given) != str(expected):
            self._add("CADT.V2.AEF.NEEDS_T2", (rec.resource, rec.index, f"{prefix}AuthorizationId"),
                      f"{noun} gives authorization id {given!r} but its T2 record has {expected!r}")
        approach = rec.data.get(f"{prefix}CooperativeApproachId")
        t2_approach = t2.data.get("aefT2AuthorizationsCooperativeApproachId")
        if approach is not None and t2_approach is not None and str(approach) != str(t2_approach):
            self._add("CADT.V2.AEF.NEEDS_T2", (rec.resource, rec.index, f"{prefix}CooperativeApproachId"),
                      f"{noun} is under cooperative approach {approach!r} but its T2 authorization is under "
                      f"{t2_approach!r}")

    # -- helpers -----------------------------------------------------------------------------

    def _add(self, rule_id: str, path: Path, message: str, *, severity: Severity | None = None) -> None:
        self._findings.append(self.rules[rule_id].finding(message, self._locate(path), severity=severity))


def _decimal_places(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        exponent = Decimal(str(value)).normalize().as_tuple().exponent
    except InvalidOperation:
        return None
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _noun(resource: str | int) -> str:
    text = str(resource)
    return _NOUNS.get(text, text)


def _entity_word(entity: str) -> str:
    return entity.replace("_", " ")


def _type_message(error: Any) -> str:
    field_name = ".".join(str(p) for p in error.absolute_path) or "record"
    if error.validator == "type":
        expected = error.validator_value
        wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return f"{field_name} is {_json_type(error.instance)}, but CAD Trust expects {wanted}"
    if error.validator == "anyOf":
        return f"{field_name} {error.instance!r} is not a number (a decimal such as 100 or 100.25 is expected)"
    return f"{field_name}: {error.message}"


def _as_list(value: Any) -> list[Any]:
    """A child-record list as the reference checks read it: anything that is not a list (a wrong type the
    structure check already reports) counts as empty."""
    return value if isinstance(value, list) else []

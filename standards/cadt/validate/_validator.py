"""The validator: runs the document, structure and code-list layers, then the field and cross-record rules."""

from __future__ import annotations

from typing import Any

from standards.cadt.picklists import Picklists
from standards.cadt.profiles import Profile
from standards.cadt.rules import CATALOGUES
from standards.cadt.spec import EntitySpec, FieldSpec, Version, load_spec
from standards.cadt.structure import detailed_errors, structure_checker
from standards.cadt.validate._base import (
    Locator,
    Path,
    Record,
    Validation,
    _entity_word,
    _json_type,
    _noun,
    _type_message,
    default_locator,
)
from standards.cadt.validate._fields import FieldRules
from standards.cadt.validate._references import CrossRecordRules
from standards.findings import RuleCatalogue


class CadtValidator(FieldRules, CrossRecordRules):
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
        self._plans = {}


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
        if not self.checker.check(entity, data) and self._structure_findings(entity, data, path):
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

    def _structure_findings(self, entity: str, data: dict[str, Any], path: Path) -> bool:
        """Report why ``data`` does not match its schema; False when the only mismatches are fields the
        profile makes optional (:attr:`Profile.optional`)."""
        noun = f"{_noun(str(path[0]))} {path[1]}"
        reported = relaxed = False
        for error in detailed_errors(self.version, entity, data):
            where = (*path, *error.absolute_path)
            if error.validator == "required":
                missing = str(error.message).split("'")[1] if "'" in error.message else "?"
                if not error.absolute_path and missing in self.profile.optional.get(entity, ()):
                    relaxed = True  # the profile follows the node's code where the dictionary is stricter
                    continue
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
        if not reported and not relaxed:  # the fast path and jsonschema disagree: say so, never stay silent
            self._add(f"{self._p}.TYPE", path, f"{noun} does not match the {entity} schema")
        return reported or not relaxed

    def _code_lists(self, entity: EntitySpec, data: dict[str, Any], path: Path) -> bool:
        ok = True
        for child_entity, child, child_path in self._children(entity, data, path):
            ok = self._code_lists(child_entity, child, child_path) and ok
        for f, allowed_set, allowed in self._plan(entity).picklists:
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


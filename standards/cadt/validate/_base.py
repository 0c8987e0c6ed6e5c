"""What every validation layer shares: paths, records, value readers and the validator's state."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from standards.cadt.picklists import Picklists
from standards.cadt.profiles import Profile
from standards.cadt.spec import EntitySpec, FieldSpec, Version, VersionSpec
from standards.findings import Finding, Location, RuleCatalogue, Severity, json_pointer

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


class ValidatorBase:
    """The state the layers share, the per-entity plans, and the finding helper."""

    version: Version
    spec: VersionSpec
    rules: RuleCatalogue
    picklists: Picklists
    profile: Profile
    request: bool
    _p: str
    _plans: dict[str, _Plan]
    _findings: list[Finding]
    _locate: Locator

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

    def _children(self, entity: EntitySpec, data: dict[str, Any],
                  path: Path) -> Iterator[tuple[EntitySpec, dict[str, Any], Path]]:
        """Each child record of ``data`` (nested objects and lists of them) with its entity and path."""
        for f in self._plan(entity).children:
            value = data.get(f.name)
            if value is None:
                continue
            children = value if isinstance(value, list) else [value]
            child_entity = self.spec.entities[str(f.child)]
            for i, child in enumerate(children):
                child_path = (*path, f.name, i) if isinstance(value, list) else (*path, f.name)
                yield child_entity, child, child_path

    def _server_owned(self, entity: EntitySpec, f: FieldSpec) -> bool:
        if f.is_server_owned:
            return True
        return self.version == "v1" and entity.name == "unit" and f.name == "issuanceId"

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

"""CAD Trust entity specifications (v1 = CADT 1.7.24, v2 = Data Dictionary v2.0.2) as data.

Loaded from the bundled ``data/cadt-v{1,2}-*.json`` files, which :mod:`standards.cadt._derive` derives
from a field table transcribed from github.com/Chia-Network/cadt. A :class:`VersionSpec` names the document resources
(``projects``/``units`` in v1; the ``/v2/<resource>`` names in v2), the entities and their fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from typing import Any, Literal

DATA = resources.files("standards.cadt") / "data"
Version = Literal["v1", "v2"]
VERSIONS: tuple[Version, ...] = ("v1", "v2")
RELEASES: dict[Version, str] = {"v1": "1.7.24", "v2": "2.0.2"}

#: Keys CADT itself sets; a POST body must not carry them (primary keys are added per entity).
SERVER_KEYS = frozenset({"orgUid", "createdAt", "updatedAt", "timeStaged", "serialNumberBlock",
                         "cadTrustReferenceProjectId"})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One API field: ``kind`` is the JSON-level type family, ``required`` True/False/"system"."""

    name: str
    kind: str
    required: bool | str
    child: str | None = None
    pk: bool = False
    fk: str | None = None
    picklist: str | None = None
    enforced: bool = False
    max_length: int | None = None
    decimal_places: int | None = None
    range: tuple[int, int] | None = None
    non_empty: bool = False
    after: str | None = None
    strictly_after: bool = False

    @property
    def is_required(self) -> bool:
        return self.required is True

    @property
    def is_server_owned(self) -> bool:
        return self.pk or self.name in SERVER_KEYS


@dataclass(frozen=True)
class EntitySpec:
    name: str
    fields: tuple[FieldSpec, ...]

    @cached_property
    def by_name(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    @cached_property
    def pk(self) -> str | None:
        return next((f.name for f in self.fields if f.pk), None)

    @cached_property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.is_required)


@dataclass(frozen=True)
class VersionSpec:
    """Everything one CAD Trust data-model version defines."""

    version: Version
    release: str
    source: str
    resources: dict[str, str]  # document key -> entity name
    entities: dict[str, EntitySpec]
    insert_order: tuple[str, ...] = field(default=())

    @cached_property
    def resource_of(self) -> dict[str, str]:
        return {entity: key for key, entity in self.resources.items()}

    def entity_for(self, resource: str) -> EntitySpec:
        return self.entities[self.resources[resource]]


def _field(raw: dict[str, Any]) -> FieldSpec:
    rng = raw.get("range")
    return FieldSpec(
        name=raw["name"], kind=raw["kind"], required=raw["required"], child=raw.get("child"),
        pk=bool(raw.get("pk")), fk=raw.get("fk"), picklist=raw.get("picklist"),
        enforced=bool(raw.get("enforced")), max_length=raw.get("max_length"),
        decimal_places=raw.get("decimal_places"), range=(rng[0], rng[1]) if rng else None,
        non_empty=bool(raw.get("non_empty")), after=raw.get("after"),
        strictly_after=bool(raw.get("strictly_after")),
    )


@cache
def load_spec(version: Version) -> VersionSpec:
    """The bundled specification of a CAD Trust version (cached)."""
    raw = json.loads((DATA / f"cadt-{version}-{RELEASES[version]}.json").read_text(encoding="utf-8"))
    entities = {name: EntitySpec(name, tuple(_field(f) for f in fields))
                for name, fields in raw["entities"].items()}
    resources_ = {key: value["entity"] for key, value in raw["resources"].items()}
    return VersionSpec(version, raw["release"], raw["source"], resources_, entities,
                       tuple(raw.get("insert_order", ())))

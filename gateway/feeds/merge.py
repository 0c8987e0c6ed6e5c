"""Same record, two sources: rows of one natural key become one feed item naming every source.

Fields that only say *where* a record sits (the registry, account, owner, and the native ``extra``) are
per source and never compared. Any other field whose values differ between sources is a *conflict*: the
item lists it with each source's value, and the merged record leaves the field out rather than pick one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel

from gateway.feeds.store import Row
from standards.model import Action, Project, UnitBlock

#: Fields that describe where a record is held, not what it is.
PER_SOURCE_FIELDS = frozenset({"registry", "account", "owner", "extra", "message_id"})
MODELS: dict[str, type[BaseModel]] = {"projects": Project, "units": UnitBlock, "issuances": Action,
                                      "actions": Action}
#: Fields the model needs: a conflict on one of them keeps the first source's value (still reported).
_REQUIRED = frozenset({"project_id", "action_type", "date"})


@dataclass(slots=True)
class Item:
    """One record of the harmonized view."""

    kind: str
    key: str
    rows: list[Row]
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    _fields: dict[str, Any] | None = None

    @property
    def sources(self) -> list[str]:
        return [r.source for r in self.rows]

    @property
    def updated_at(self) -> str:
        rows = self.rows
        return rows[0].updated_at if len(rows) == 1 else max(r.updated_at for r in rows)

    def fields(self) -> dict[str, Any]:
        """The merged canonical fields (conflicting ones left out)."""
        if self._fields is None:
            self._fields = orjson.loads(self.rows[0].body)
        return self._fields

    def record(self) -> BaseModel:
        model = MODELS[self.kind]
        if len(self.rows) == 1:
            return model.model_validate_json(self.rows[0].body)
        return model.model_validate(self.fields())


def _merge(kind: str, key: str, rows: list[Row]) -> Item:
    item = Item(kind, key, rows)
    if len(rows) == 1 or all(r.body == rows[0].body for r in rows[1:]):
        return item
    docs = [orjson.loads(r.body) for r in rows]
    merged = dict(docs[0])
    names = sorted({name for doc in docs for name in doc} - PER_SOURCE_FIELDS)
    for name in names:
        values = [doc.get(name) for doc in docs]
        if any(_nested(v) != _nested(values[0]) for v in values[1:]):
            item.conflicts.append({"field": name, "values": {r.source: v for r, v in zip(rows, values, strict=True)}})
            if name not in _REQUIRED:
                merged.pop(name, None)
    item._fields = merged
    return item


def _nested(value: Any) -> Any:
    """Compare nested records (an action's units) without their per-source fields."""
    if isinstance(value, dict):
        return {k: _nested(v) for k, v in value.items() if k not in PER_SOURCE_FIELDS}
    return value


def merged(kind: str, rows: Iterable[Row]) -> Iterator[Item]:
    """Items from rows in key order: consecutive rows of one key are one item."""
    group: list[Row] = []
    key = None
    for row in rows:
        if row.key != key:
            if group:
                yield _merge(kind, key or "", group) if len(group) > 1 else Item(kind, group[0].key, group)
            group, key = [row], row.key
        else:
            group.append(row)
    if group:
        yield _merge(kind, key or "", group) if len(group) > 1 else Item(kind, group[0].key, group)


__all__ = ["MODELS", "PER_SOURCE_FIELDS", "Item", "merged"]

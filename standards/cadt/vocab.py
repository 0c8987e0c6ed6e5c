"""Vocabulary maps, as data, from registry values to the CAD Trust v1 picklists.

``data/vocab/common.json`` maps canonical unit statuses and ISO alpha-3 countries (where a node's
list spells a country in a way carbonlink does not read); ``data/vocab/<registry>.json`` maps one
registry's project statuses, project types (to sectors and unit types) and methodologies, and
states the facts carbonlink derives from the registry (its CAD Trust name, its unit metric).
A registry without a file gets no derived values; a value missing from a file is a coded
finding (``CADT.V1.VOCAB``) naming the file to extend.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from standards.cadt.spec import DATA

VOCAB_DIR = "standards/cadt/data/vocab"


@dataclass(frozen=True, eq=False)  # one object per file (cached loads): hashed by identity
class Vocabulary:
    """One vocabulary file: ``name`` is the file's stem, ``where`` its path in the repository."""

    name: str
    data: Mapping[str, Any]

    @property
    def where(self) -> str:
        return f"{VOCAB_DIR}/{self.name}.json"

    def table(self, name: str) -> Mapping[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}

    def lookup(self, table: str, value: str | None) -> str | None:
        """``value`` mapped through ``table`` (exact, then case-insensitive, spaces trimmed)."""
        if value is None:
            return None
        entries = self.table(table)
        text = value.strip()
        found = entries.get(text)
        if found is None:
            found = _folded(self, table).get(text.casefold())
        return str(found) if found is not None else None

    def fact(self, name: str) -> str | None:
        value = self.data.get(name)
        return str(value) if isinstance(value, str) and value else None

    def column(self, group: str, name: str) -> str | None:
        value = self.table(group).get(name)
        return str(value) if isinstance(value, str) else None


@lru_cache(maxsize=256)
def _folded(vocabulary: Vocabulary, table: str) -> dict[str, Any]:
    """A table keyed by case-folded values (the first spelling wins), built once per table."""
    folded: dict[str, Any] = {}
    for key, value in vocabulary.table(table).items():
        folded.setdefault(key.casefold(), value)
    return folded


def _load(name: str) -> Vocabulary | None:
    path = DATA / "vocab" / f"{name}.json"
    if not path.is_file():
        return None
    return Vocabulary(name, json.loads(path.read_text(encoding="utf-8")))


@cache
def common_vocabulary() -> Vocabulary:
    vocabulary = _load("common")
    if vocabulary is None:  # pragma: no cover - the file ships with the package
        raise FileNotFoundError(f"{VOCAB_DIR}/common.json")
    return vocabulary


@cache
def registry_vocabulary(registry: str | None) -> Vocabulary | None:
    """The vocabulary of a registry adapter (``verra``), or None when carbonlink has none for it."""
    if not registry or not registry.replace("-", "").replace("_", "").isalnum() or registry == "common":
        return None
    return _load(registry)

"""The Common Nomenclature code lists, loaded from a versioned data file.

``data/nomenclature-<date>.json`` holds each list with its CN clause and the known
non-standard spellings (CAD Trust and draft-validator forms) that map onto a CN value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

DEFAULT_VERSION = "2026-02-17"


@dataclass(frozen=True)
class CodeList:
    name: str
    reference: str
    values: frozenset[str]
    aliases: dict[str, str]


class Nomenclature:
    """All code lists of one nomenclature version."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.name: str = raw["name"]
        self.version: str = raw["version"]
        self.lists: dict[str, CodeList] = {}
        aliases = raw.get("aliases", {})
        for key, spec in raw["lists"].items():
            self.lists[key] = CodeList(key, spec["ref"], frozenset(spec["values"]), dict(aliases.get(key, {})))
        subtype = raw["lists"]["ActionSubtype"]
        self.subtypes_by_type: dict[str, frozenset[str]] = {
            k: frozenset(v) for k, v in subtype["allowed_by_type"].items()}
        self.subtypes_everywhere = frozenset(subtype["allowed_everywhere"])

    def canonical_value(self, list_name: str, value: str) -> str:
        """The CN spelling of ``value`` (itself if already CN or unknown)."""
        code_list = self.lists[list_name]
        if value in code_list.values:
            return value
        return code_list.aliases.get(value, value)

    def reference(self, list_name: str) -> str:
        return f"Common Nomenclature {self.version}, {self.lists[list_name].reference}"


def load_nomenclature(version: str = DEFAULT_VERSION) -> Nomenclature:
    path = resources.files("standards.aef") / "data" / f"nomenclature-{version}.json"
    return Nomenclature(json.loads(path.read_text(encoding="utf-8")))


NOMENCLATURE = load_nomenclature()

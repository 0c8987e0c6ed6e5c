"""Vocabulary maps: a registry's own labels for controlled AEF values, read from a data file.

A map file (JSON) names, per AEF field (Common Nomenclature name), the registry's label and the
Common Nomenclature value it stands for. Reading replaces each label (list items one by one);
writing puts back the first label listed for a value. Shipped maps live in
``standards/aef/data/vocabulary-maps/`` and are named by their file stem (``undp-ncr``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standards.errors import MalformedInput

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "vocabulary-maps"
#: The AEF fields a map may name: the list fields whose values come from the Common Nomenclature.
MAPPABLE = ("Sectors", "ActivityType", "PurposeForAuthorization", "Metric", "MitigationType", "ActionType")


class VocabularyMapError(MalformedInput):
    code = "AEF.VOCABULARY_MAP"


@dataclass(frozen=True)
class VocabularyMap:
    """Per field, registry label -> Common Nomenclature value (and back, first label wins)."""

    name: str
    to_standard: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, where: str | Path) -> VocabularyMap:
        """A map from a JSON file, or a shipped map by name (``undp-ncr``)."""
        path = Path(where)
        if not path.suffix and not path.exists():
            path = SHIPPED / f"{where}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            shipped = ", ".join(sorted(p.stem for p in SHIPPED.glob("*.json")))
            raise VocabularyMapError(f"no vocabulary map {str(where)!r} (a JSON file, or one of: {shipped})") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise VocabularyMapError(f"vocabulary map {str(where)!r} is not readable JSON: {exc}") from exc
        return cls.from_mapping(data, str(where))

    @classmethod
    def from_mapping(cls, data: Any, name: str) -> VocabularyMap:
        fields = data.get("fields") if isinstance(data, dict) else None
        if not isinstance(fields, dict):
            raise VocabularyMapError(f"vocabulary map {name!r} has no 'fields' object")
        out: dict[str, dict[str, str]] = {}
        for cn, labels in fields.items():
            if cn not in MAPPABLE:
                raise VocabularyMapError(f"vocabulary map {name!r}: {cn!r} is not a mappable AEF field "
                                         f"({', '.join(MAPPABLE)})")
            if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                       for k, v in labels.items()):
                raise VocabularyMapError(f"vocabulary map {name!r}: {cn!r} must map labels (text) to values (text)")
            out[cn] = {label.strip(): value for label, value in labels.items()}
        return cls(str(data.get("name") or name), out)

    def read(self, cn: str, value: Any) -> Any:
        """A cell as the standard's value(s): each comma-separated item whose label the map knows."""
        labels = self.to_standard.get(cn)
        if not labels or not isinstance(value, str):
            return value
        items = [item.strip() for item in value.split(",")] if value.strip() not in labels else [value.strip()]
        return ", ".join(labels.get(item, item) for item in items)

    def write(self, cn: str, value: Any) -> Any:
        """A standard value (or list) as the registry's label(s)."""
        labels = self.to_standard.get(cn)
        if not labels or not isinstance(value, str):
            return value
        back: dict[str, str] = {}
        for label, standard in labels.items():
            back.setdefault(standard, label)
        return ", ".join(back.get(item.strip(), item.strip()) for item in value.split(","))

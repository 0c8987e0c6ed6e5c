"""JSON Schemas of CAD Trust documents, and the fast structure check used on the hot path.

Both come from one source, the entity specs in :mod:`standards.cadt.spec`:

* :func:`document_schema` is the published JSON Schema (draft 2020-12; files in ``schema/``,
  regenerated with ``python -m standards.cadt.structure``);
* :class:`StructureChecker` compiles the same constraints into plain Python checks. Every record
  goes through it; only a record that fails is handed to ``jsonschema`` for detailed errors.

Picklists are not in the schemas: they are versioned and overridable, and checked in the
code-list layer. Unknown keys are refused (``additionalProperties: false``), as CADT's Joi does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from standards.cadt.spec import VERSIONS, EntitySpec, FieldSpec, Version, VersionSpec, load_spec

SCHEMA_DIR = resources.files("standards.cadt") / "schema"
DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _field_schema(f: FieldSpec) -> dict[str, Any]:
    nullable = not f.is_required
    kind = f.kind
    schema: dict[str, Any]
    if kind in ("string", "text", "date", "datetime"):
        schema = {"type": ["string", "null"] if nullable else "string"}
    elif kind == "string|number":
        schema = {"type": ["string", "number", "null"] if nullable else ["string", "number"]}
    elif kind == "unix-seconds":
        schema = {"type": ["string", "integer", "null"]}
    elif kind in ("integer", "year"):
        schema = {"type": ["integer", "null"] if nullable else "integer"}
    elif kind == "decimal":
        options: list[dict[str, Any]] = [{"type": "number"}, {"type": "string", "pattern": DECIMAL_PATTERN}]
        if nullable:
            options.append({"type": "null"})
        schema = {"anyOf": options}
    elif kind == "array<string>":
        schema = {"type": "array", "items": {"type": "string"}}
    elif kind == "array":
        schema = {"type": "array", "items": {"$ref": f"#/$defs/{f.child}"}}
    elif kind == "object":
        ref = {"$ref": f"#/$defs/{f.child}"}
        schema = {"anyOf": [ref, {"type": "null"}]} if nullable else ref
    else:  # pragma: no cover - the data files only use the kinds above
        raise ValueError(f"unknown field kind {kind!r}")
    if kind in ("date", "datetime"):
        schema["format"] = "date" if kind == "date" else "date-time"
    return schema


def entity_schema(entity: EntitySpec) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {f.name: _field_schema(f) for f in entity.fields},
        "required": list(entity.required),
        "additionalProperties": False,
    }


def document_schema(spec: VersionSpec) -> dict[str, Any]:
    """The JSON Schema of a whole CAD Trust document of this version."""
    return {
        "$schema": DIALECT,
        "$id": f"https://carbonlink.dev/schema/cadt-{spec.version}.schema.json",
        "title": f"CAD Trust {spec.version} document (data model {spec.release})",
        "description": "A JSON object keyed by CAD Trust resource names, each a list of records.",
        "type": "object",
        "properties": {key: {"type": "array", "items": {"$ref": f"#/$defs/{entity}"}}
                       for key, entity in spec.resources.items()},
        "additionalProperties": False,
        "$defs": {name: entity_schema(e) for name, e in spec.entities.items()},
    }


def schema_path(version: Version) -> Path:
    return Path(str(SCHEMA_DIR / f"cadt-{version}.schema.json"))


@cache
def published_schema(version: Version) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_path(version).read_text(encoding="utf-8"))
    return loaded


@cache
def _validator(version: Version, entity: str) -> jsonschema.Draft202012Validator:
    schema = dict(published_schema(version))
    root = {"$schema": DIALECT, "$defs": schema["$defs"], "$ref": f"#/$defs/{entity}"}
    return jsonschema.Draft202012Validator(root)


def detailed_errors(version: Version, entity: str, record: Any) -> Iterator[jsonschema.ValidationError]:
    """jsonschema's errors for one record, most specific first (slow path)."""
    errors = _validator(version, entity).iter_errors(record)
    return iter(sorted(errors, key=lambda e: (list(e.absolute_path), e.validator)))


# -- fast path --------------------------------------------------------------------------------

Check = Callable[[Any], bool]


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_int(v: Any) -> bool:
    """JSON Schema's integer: 7 and also 7.0 (a number with a zero fraction)."""
    if isinstance(v, float):
        return v.is_integer()
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_decimal(v: Any) -> bool:
    return _is_number(v) or (isinstance(v, str) and _DECIMAL_RE.match(v) is not None)


class StructureChecker:
    """Compiled structure checks for every entity of one version: ``check(entity, record) -> bool``."""

    def __init__(self, spec: VersionSpec) -> None:
        self.spec = spec
        self._checks: dict[str, Check] = {}
        for name in spec.entities:
            self._compile(name)

    def check(self, entity: str, record: Any) -> bool:
        return self._checks[entity](record)

    def _compile(self, name: str) -> Check:
        if name in self._checks:
            return self._checks[name]
        entity = self.spec.entities[name]
        allowed = frozenset(entity.by_name)
        required = entity.required
        self._checks[name] = lambda record: self._checks[name](record)  # placeholder for recursion
        fields = [(f.name, self._value_check(f), not f.is_required) for f in entity.fields]

        def check(record: Any) -> bool:
            if not isinstance(record, dict):
                return False
            if not allowed.issuperset(record):
                return False
            for key in required:
                if key not in record:
                    return False
            for key, ok, nullable in fields:
                if key in record:
                    value = record[key]
                    if value is None:
                        if not nullable:
                            return False
                    elif not ok(value):
                        return False
            return True

        self._checks[name] = check
        return check

    def _value_check(self, f: FieldSpec) -> Check:
        kind = f.kind
        if kind in ("string", "text", "date", "datetime"):
            return _is_str
        if kind == "string|number":
            return lambda v: isinstance(v, str) or _is_number(v)
        if kind == "unix-seconds":
            return lambda v: isinstance(v, str) or _is_int(v)
        if kind in ("integer", "year"):
            return _is_int
        if kind == "decimal":
            return _is_decimal
        if kind == "array<string>":
            return lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)
        child = str(f.child)
        if kind == "array":
            return lambda v: isinstance(v, list) and all(self._checks[child](x) for x in v)
        return lambda v: self._checks[child](v)


@cache
def structure_checker(version: Version) -> StructureChecker:
    return StructureChecker(load_spec(version))


def write_schemas(target: Path | None = None) -> list[Path]:
    """Regenerate the published schema files from the entity specs."""
    out = []
    for version in VERSIONS:
        path = (target / f"cadt-{version}.schema.json") if target else schema_path(version)
        path.write_text(json.dumps(document_schema(load_spec(version)), indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        out.append(path)
    return out


if __name__ == "__main__":
    for written in write_schemas():
        print(written)

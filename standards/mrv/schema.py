"""JSON Schemas of the MRV documents, generated from the models (``python -m standards.schemas`` writes them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from standards.mrv.model import DOCUMENT_KINDS

BASE_ID = "https://carbonlink.dev/schema/mrv/"


def document_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one MRV document kind, e.g. ``monitoring-report``."""
    model: type[BaseModel] = DOCUMENT_KINDS[kind]
    schema = model.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"{BASE_ID}{kind}.schema.json"
    return schema


def schema_files() -> dict[str, Any]:
    """Path under ``standards/`` -> schema builder, one per document kind."""
    return {f"mrv/schema/{kind}.schema.json": (lambda k=kind: document_schema(k)) for kind in DOCUMENT_KINDS}

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import orjson

from conformance._results import RunResult


def json_report(run: RunResult) -> bytes:
    return orjson.dumps(run.as_dict(), option=orjson.OPT_INDENT_2) + b"\n"


@lru_cache(maxsize=1)
def result_schema() -> dict[str, Any]:
    """The published JSON Schema of the results document."""
    text = resources.files("conformance").joinpath("schema/result.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema

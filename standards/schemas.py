"""The JSON Schemas carbonlink publishes, generated from the code that enforces them.

``python -m standards.schemas`` rewrites the committed files; a test fails when they drift.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from standards.aef.structure import json_schema as aef_json_schema
from standards.model import CanonicalDocument
from standards.mrv.schema import schema_files as mrv_schema_files

ROOT = Path(__file__).resolve().parent


def canonical_json_schema() -> dict[str, Any]:
    schema = CanonicalDocument.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://carbonlink.dev/schema/canonical.schema.json"
    return schema


PUBLISHED: dict[str, Callable[[], dict[str, Any]]] = {
    "aef/schema/aef-v2.schema.json": aef_json_schema,
    "schema/canonical.schema.json": canonical_json_schema,
    **mrv_schema_files(),
}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) every published schema."""
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    stale = []
    for rel, build in PUBLISHED.items():
        path = ROOT / rel
        text = render(build())
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(rel)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for rel in stale:
        print(f"stale schema: standards/{rel} (run python -m standards.schemas)")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Published JSON Schemas: no drift from the code, and they agree with the fast structure layer."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from standards.schemas import PUBLISHED, ROOT, main, render

EXAMPLE = Path(__file__).resolve().parents[2] / "standards/examples/aef-v2-report.json"


def test_published_schemas_match_the_code() -> None:
    for rel, build in PUBLISHED.items():
        assert (ROOT / rel).read_text(encoding="utf-8") == render(build()), f"regenerate standards/{rel}"
    assert main(["--check"]) == 0


def test_aef_schema_accepts_the_example_and_refuses_bad_identifiers() -> None:
    schema = json.loads((ROOT / "aef/schema/aef-v2.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    doc = json.loads(EXAMPLE.read_text())
    assert list(validator.iter_errors(doc)) == []
    doc["Actions"][0]["CooperativeApproachID"] = "CA01"
    doc["Holdings"][0]["Vintage"] = 1800
    doc["Authorizations"][0]["Unknown"] = "x"
    paths = {"/".join(map(str, e.absolute_path)) for e in validator.iter_errors(doc)}
    assert {"Actions/0/CooperativeApproachID", "Holdings/0/Vintage", "Authorizations/0"} <= paths

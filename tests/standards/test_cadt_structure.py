"""CAD Trust JSON Schemas: the published files match the specs, and the fast check agrees with jsonschema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standards.cadt.spec import VERSIONS, Version, load_spec
from standards.cadt.structure import document_schema, published_schema, structure_checker, write_schemas

EXAMPLE = Path(__file__).resolve().parents[2] / "standards" / "examples" / "cadt-v2-aef.json"


@pytest.mark.parametrize("version", VERSIONS)
def test_published_schema_files_match_the_entity_specs(version: Version, tmp_path: Path) -> None:
    written = {p.name: p.read_text(encoding="utf-8") for p in write_schemas(tmp_path)}
    assert json.loads(written[f"cadt-{version}.schema.json"]) == published_schema(version)
    assert published_schema(version) == document_schema(load_spec(version))


def test_published_v2_schema_accepts_the_example_and_names_bad_fields() -> None:
    validator = jsonschema.Draft202012Validator(published_schema("v2"))
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert list(validator.iter_errors(doc)) == []
    doc["unit"][0]["unitCount"] = "lots"
    doc["project"][0]["vintageYear"] = 2020
    del doc["aef-t3-actions"][0]["aefT3ActionsDate"]
    paths = {"/".join(map(str, e.absolute_path)) for e in validator.iter_errors(doc)}
    assert paths == {"unit/0/unitCount", "project/0", "aef-t3-actions/0"}


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10, 5000), st.floats(allow_nan=False, width=32),
                       st.text(max_size=6), st.sampled_from(["12.50", "2024-01-01", "1e3", "-7"]))
_json_value = st.recursive(_json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                               st.dictionaries(st.text(max_size=4), inner,
                                                                               max_size=3)), max_leaves=6)


@st.composite
def records(draw: st.DrawFn) -> tuple[Version, str, dict[str, Any]]:
    version: Version = draw(st.sampled_from(VERSIONS))
    spec = load_spec(version)
    entity = draw(st.sampled_from(sorted(spec.entities)))
    names = [f.name for f in spec.entities[entity].fields]
    keys = draw(st.lists(st.sampled_from(names), unique=True)) + draw(st.lists(st.text(max_size=5), max_size=1))
    return version, entity, {k: draw(_json_value) for k in keys}


@settings(max_examples=400, deadline=None)
@given(records())
def test_fast_check_agrees_with_jsonschema(case: tuple[Version, str, dict[str, Any]]) -> None:
    version, entity, record = case
    schema = published_schema(version)
    validator = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": f"#/$defs/{entity}"})
    assert structure_checker(version).check(entity, record) == validator.is_valid(record)


@pytest.mark.parametrize("value", [2024, 2024.0, 2024.5, "2024", True, None])
def test_integer_semantics_match_json_schema(value: Any) -> None:
    schema = published_schema("v1")
    validator = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/estimation"})
    record = {"creditingPeriodStart": "2021-01-01", "creditingPeriodEnd": "2022-01-01", "unitCount": value}
    assert structure_checker("v1").check("estimation", record) == validator.is_valid(record)


def test_fast_check_agrees_on_the_example_records() -> None:
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    spec = load_spec("v2")
    for resource, items in doc.items():
        for item in items:
            assert structure_checker("v2").check(spec.resources[resource], item)

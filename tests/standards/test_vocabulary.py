"""One word per concept in the canonical model (docs/glossary.md, "Vocabulary").

Block bounds are ``first_id``/``last_id`` everywhere; canonical JSON written with the old unit-block
names (``serial_first``/``serial_last``) is still read, and written with the new ones. A ``country``
is a Party code (ISO 3166-1 alpha-3) in every record."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from standards.canonical import CANONICAL
from standards.codec import Medium
from standards.model import AuthorizedEntity, Project, UnitBlock
from standards.schemas import ROOT

OLD = {"units": [{"serial": "VCU-1", "serial_first": 101, "serial_last": 150, "quantity": "50"}]}


def test_canonical_json_with_the_old_block_bound_names_is_read() -> None:
    result = CANONICAL.parse(json.dumps(OLD).encode(), medium=Medium.JSON)
    assert result.findings == []
    block = result.document.units[0]
    assert (block.first_id, block.last_id, block.range_length) == (101, 150, 50)


def test_canonical_json_is_written_with_the_new_names() -> None:
    document = CANONICAL.parse(json.dumps(OLD).encode(), medium=Medium.JSON).document
    written = json.loads(CANONICAL.serialize(document, medium=Medium.JSON).data)
    assert written["units"][0]["first_id"] == 101 and written["units"][0]["last_id"] == 150
    assert "serial_first" not in written["units"][0] and "serial_last" not in written["units"][0]


def test_the_published_schema_accepts_both_names() -> None:
    schema = json.loads((ROOT / "schema/canonical.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(OLD)) == []
    assert list(validator.iter_errors({"units": [{"first_id": 1, "last_id": 2}]})) == []
    assert list(validator.iter_errors({"units": [{"first_id": -1}]})) != []


def test_the_old_names_are_keyword_arguments_too() -> None:
    assert UnitBlock.model_validate({"serial_first": 1, "serial_last": 3}) == UnitBlock(first_id=1, last_id=3)


@pytest.mark.parametrize("record", [UnitBlock, Project, AuthorizedEntity])
def test_every_country_is_an_alpha3_code(record: type[UnitBlock | Project | AuthorizedEntity]) -> None:
    assert record.model_fields["country"].annotation == UnitBlock.model_fields["country"].annotation
    assert Project(project_id="P1", country="GHA").country == "GHA"
    with pytest.raises(ValidationError):
        Project(project_id="P1", country="Ghana")

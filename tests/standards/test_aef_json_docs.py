"""docs/aef-media.md, section "AEF JSON": its examples validate against the published schema, and the
validator reads their types and blanks as the page says."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from standards.aef.codec import AEF
from standards.aef.jsonio import read_json
from standards.aef.rules import CATALOGUE
from standards.codec import Medium
from standards.errors import MalformedInput
from standards.findings import Layer

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "standards/aef/schema/aef-v2.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


def _section() -> str:
    text = (ROOT / "docs/aef-media.md").read_text(encoding="utf-8")
    start = text.index("## AEF JSON")
    return text[start:text.index("\n## ", start + 1)]


EXAMPLES = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", _section(), re.DOTALL)]


ROW_LAYERS = {Layer.STRUCTURE, Layer.CODE_LIST, Layer.FIELD}


def _rules(doc: dict[str, Any]) -> set[str]:
    """The rules a document fires in the row layers (the abridged examples leave out the tables that
    cross-table rules join, which then report it)."""
    report = AEF.validate(json.dumps(doc).encode(), medium=Medium.JSON)
    return {f.rule for f in report.findings if CATALOGUE[f.rule].layer in ROW_LAYERS} - {"AEF.T1.MISSING"}


def test_the_section_has_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("number", range(len(EXAMPLES)))
def test_example_validates_against_the_schema(number: int) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(EXAMPLES[number])]
    assert errors == []


@pytest.mark.parametrize("number", range(len(EXAMPLES)))
def test_validator_reads_the_example_types_alike(number: int) -> None:
    rules = _rules(EXAMPLES[number])
    assert not {r for r in rules if r.startswith(("AEF.STRUCTURE.TYPE", "AEF.STRUCTURE.UNKNOWN", "AEF.FORMAT."))}


def test_first_example_is_clean_row_by_row() -> None:
    assert _rules(EXAMPLES[0]) == set()


def test_the_three_blanks_are_one() -> None:
    base = EXAMPLES[0]
    for blank in (None, "", "$absent"):
        doc = copy.deepcopy(base)
        if blank == "$absent":
            del doc["Actions"][0]["CooperativeApproachID"]
        else:
            doc["Actions"][0]["CooperativeApproachID"] = blank
        assert list(VALIDATOR.iter_errors(doc)) == []
        report = AEF.validate(json.dumps(doc).encode(), medium=Medium.JSON)
        assert [(f.rule, f.location.pointer) for f in report.findings
                if CATALOGUE[f.rule].layer in ROW_LAYERS] == [
            ("AEF.STRUCTURE.REQUIRED", "/Actions/0/CooperativeApproachID")], blank


def test_integer_text_is_refused_by_both() -> None:
    doc = copy.deepcopy(EXAMPLES[0])
    doc["Actions"][0]["Vintage"] = "2023"
    assert list(VALIDATOR.iter_errors(doc))
    assert "AEF.STRUCTURE.TYPE" in _rules(doc) or any(r.startswith("AEF.FORMAT") for r in _rules(doc))


def test_na_subtype_for_an_action_without_subtypes_is_a_warning() -> None:
    doc = copy.deepcopy(EXAMPLES[0])
    doc["Actions"][0]["ActionSubtype"] = "NA"
    assert _rules(doc) == {"AEF.T3.SUBTYPE_NOT_FOR_TYPE"}
    doc["Actions"][0]["ActionSubtype"] = "Not yet defined"
    assert _rules(doc) == set()


def test_datetime_forms() -> None:
    doc = copy.deepcopy(EXAMPLES[0])
    for text in ("2024-03-15T12:30:00+02:00", "2024-03-15T10:30:00", "2024-03-15", "15/03/2024"):
        doc["Actions"][0]["ActionDateTime"] = text
        assert _rules(doc) == set(), text
    doc["Actions"][0]["ActionDateTime"] = "15/03/2024 10:30"
    assert "AEF.STRUCTURE.TYPE" in _rules(doc)


def test_format_and_version() -> None:
    doc = copy.deepcopy(EXAMPLES[0])
    del doc["format"], doc["aefVersion"]
    assert _rules(doc) == set()
    for key, value in (("format", "other/json"), ("aefVersion", "1")):
        with pytest.raises(MalformedInput, match=key.removeprefix("aef").lower()):
            read_json(json.dumps({**doc, key: value}).encode())

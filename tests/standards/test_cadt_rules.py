"""CAD Trust rule cases: the ``cadt-v1-messages`` and ``cadt-v2-messages`` conformance kits' case files
are the one source of them.

Every case of ``conformance/cases/cadt-v{1,2}-messages`` runs as its own pytest item (the conformance
plugin) and fails unless its rule fires exactly when the case says; ``linking.cases.json`` holds the
rules of writing CAD Trust from a registry export (mode ``serialize``). These tests hold what the
cases rest on, against the standards package directly: the bases are clean, the cases cover every
rule of :data:`standards.cadt.rules.CATALOGUES`, and the validator stops at structure.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from conformance.cases import CASES_ROOT, Case, kit_cases, lint_cases
from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.operator import operator_profile_from
from standards.cadt.picklists import bundled
from standards.cadt.profiles import default_profile
from standards.cadt.rules import CATALOGUES, RULES_V1
from standards.cadt.spec import Version
from standards.cadt.validate import CadtValidator
from standards.codec import Medium
from standards.model import CanonicalDocument

VERSIONS: tuple[Version, ...] = ("v1", "v2")


def _cases(version: Version) -> list[Case]:
    return list(kit_cases(CASES_ROOT / f"cadt-{version}-messages"))


def _codec(version: Version, **options: Any) -> CadtV1Codec | CadtV2Codec:
    return (CadtV1Codec if version == "v1" else CadtV2Codec)(picklists=bundled(version), **options)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_catalogued_rule_has_a_passing_and_a_failing_case(version: Version) -> None:
    cases = _cases(version)
    assert {case.file.name for case in cases} == {"rules.cases.json", "linking.cases.json"}
    assert lint_cases(cases, [rule.id for rule in CATALOGUES[version]]) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_base_documents_are_clean(version: Version) -> None:
    """The read bases carry no error, so a failing case fails for the reason it names."""
    base = next(case.base for case in _cases(version) if case.mode != "serialize")
    result = _codec(version).parse_object(orjson.loads(base.read_bytes()))
    assert result.valid, [f.as_dict() for f in result.findings if f.is_error]


@pytest.mark.parametrize("version", VERSIONS)
def test_serialize_bases_are_clean(version: Version) -> None:
    """The writing cases' base (a registry's project and unit with a full operator profile) gives no error."""
    built = orjson.loads(next(c.base for c in _cases(version) if c.mode == "serialize").read_bytes())
    codec = _codec(version, profile=default_profile(version),
                   operator=operator_profile_from(built["operator"], "case profile", bundled(version)))
    result = codec.serialize(CanonicalDocument.model_validate(built["document"]), medium=Medium.JSON)
    findings = result.findings + codec.validate(result.data, medium=Medium.JSON).findings
    assert not [f.rule for f in findings if f.is_error], [f.as_dict() for f in findings]


def test_validator_skips_later_layers_for_a_record_that_failed_structure() -> None:
    base = next(case.base for case in _cases("v1") if case.mode != "serialize")
    doc = orjson.loads(base.read_bytes())
    doc["units"][0]["unitCount"] = "many"  # structure error
    doc["units"][0]["unitStatus"] = "held"  # would be a picklist error
    doc["units"][0]["marketplaceIdentifier"] = ""  # would be a field error
    validation = CadtValidator("v1", bundled("v1"), default_profile("v1")).run(doc)
    assert [f.rule for f in validation.findings] == ["CADT.V1.TYPE"]
    assert validation.records["units"][0].failed
    assert RULES_V1["CADT.V1.TYPE"].severity.value == "error"

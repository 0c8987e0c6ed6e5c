"""AEF rule cases: the ``aef-messages`` conformance kit's case files are the one source of them.

Every case of ``conformance/cases/aef-messages`` runs as its own pytest item (the conformance
plugin; ``conformance/cases`` is a test path) and fails unless its rule fires exactly when the case
says. These tests hold what the cases rest on, checked against the standards package directly
rather than through the kit: the base report is clean, it is the published example, and the cases
cover every rule of :data:`standards.aef.rules.CATALOGUE` with a passing and a failing case.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from conformance.cases import CASES_ROOT, kit_cases, lint_cases
from standards.aef.codec import AEF
from standards.aef.rules import CATALOGUE
from standards.codec import Medium

ROOT = Path(__file__).resolve().parents[2]
CASES = list(kit_cases(CASES_ROOT / "aef-messages"))


def test_the_cases_are_read_from_the_kit_folder() -> None:
    assert len(CASES) >= 2 * len(CATALOGUE)
    assert {case.base.name for case in CASES} == {"aef-v2-report.json"}


def test_base_document_is_clean() -> None:
    report = AEF.validate(CASES[0].base.read_bytes(), medium=Medium.JSON, lenient=False)
    assert [finding.rule for finding in report.findings] == []


def test_base_is_the_published_example() -> None:
    example = ROOT / "standards/examples/aef-v2-report.json"
    assert orjson.loads(CASES[0].base.read_bytes()) == orjson.loads(example.read_bytes())


def test_every_catalogued_rule_has_a_passing_and_a_failing_case_and_no_case_is_unknown() -> None:
    assert lint_cases(CASES, [rule.id for rule in CATALOGUE]) == []


def test_a_failing_case_fires_its_rule_through_the_standards_codec() -> None:
    """One case run here without the kit: the kit's firer adds nothing the codec does not find."""
    case = next(c for c in CASES if c.id == "AEF.FORMAT.PARTY:fail:alpha-2-party")
    report = AEF.validate(orjson.dumps(case.build()), medium=Medium.JSON, lenient=False)
    assert [(f.rule, f.as_dict()["pointer"], f.is_error) for f in report.findings] == [
        ("AEF.FORMAT.PARTY", "/Actions/0/AcquiringPartyID", True)]

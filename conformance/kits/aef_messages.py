"""``aef-messages 2026.1``: the full AEF version 2 pre-check, every field and cross-table rule.

The checks are :func:`standards.aef.validate.validate_run` through the ``aef`` adapter, strict (as
the UNFCCC's own checks are); the cases are ``conformance/cases/aef-messages``.
"""

from __future__ import annotations

from typing import Any

import orjson

from conformance._messages import Checked, message_suite
from conformance._model import Clause
from conformance.cases import CASES_ROOT
from conformance.kits._message_kit import MessageKit
from standards.aef.codec import AEF, AefReport
from standards.aef.rules import CATALOGUE
from standards.codec import Medium

NAME = "aef-messages"
VERSION = "2026.1"
READING = Clause("Decision 4/CMA.6, annex (AEF version 2): the submission's tables T1-T5", "aef")
#: Clauses of the AEF the kit sets out to cover beyond the rules' own references; listed so the
#: traceability report shows them as not covered until a rule checks them.
EXTRA_CLAUSES = (
    Clause("Decision 2/CMA.3, annex, paragraph 23 (annual information) - narrative sections", "aef"),
)


def check(data: bytes, medium: Medium) -> Checked:
    report = AEF.validate(data, medium=medium, lenient=False)
    not_run = frozenset(report.rules_not_run) if isinstance(report, AefReport) else frozenset()
    return Checked(report.findings, not_run)


def fire(document: Any, mode: str) -> set[str]:
    report = AEF.validate(orjson.dumps(document), medium=Medium.JSON, lenient=mode == "lenient")
    return {finding.rule for finding in report.findings}


def kit() -> MessageKit:
    return MessageKit(
        name=NAME, version=VERSION,
        description="AEF version 2 submissions (JSON, CSV tables, XLSX): every field and cross-table rule",
        suite=message_suite(NAME, "AEF version 2 messages", [CATALOGUE], READING),
        check=check, suffixes=frozenset({"json", "csv", "xlsx", "xlsm"}), cases_dir=CASES_ROOT / NAME,
        fire=fire, catalogue_rules=frozenset(rule.id for rule in CATALOGUE), extra_clauses=EXTRA_CLAUSES)

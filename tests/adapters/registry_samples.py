"""Shared helpers for the tests of the Cercarbono, Isometric and CARB adapters: parse a fixture, and
translate several exports of one registry to a CAD Trust v1 document the way the CLI and the node check do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters import default_catalog
from standards import CanonicalDocument, Finding, Medium, ParseResult
from standards.cadt.codec import CadtV1Codec
from standards.cadt.operator import load_operator_profile

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
PROFILE = ROOT / "bench" / "cadt_operator_profile_registries.yaml"


def parse(fmt: str, name: str, data: bytes | None = None) -> ParseResult:
    raw = (FIXTURES / fmt / name).read_bytes() if data is None else data
    return default_catalog().get(fmt).parse(raw, medium=Medium.CSV)


def rules(findings: list[Finding], *, errors_only: bool = True) -> list[str]:
    return [f.rule for f in findings if f.is_error or not errors_only]


def cadt_v1(fmt: str, *names: str) -> tuple[dict[str, Any], list[Finding]]:
    """The v1 document of the exports read together, and every finding of writing and validating it."""
    document = CanonicalDocument()
    for name in names:
        parsed = parse(fmt, name)
        assert not rules(parsed.findings), parsed.findings
        document.projects.extend(parsed.document.projects)
        document.units.extend(parsed.document.units)
    codec = CadtV1Codec(operator=load_operator_profile(PROFILE))
    result = codec.serialize(document, medium=Medium.JSON)
    check = codec.validate(result.data, medium=Medium.JSON)
    return json.loads(result.data), list(result.findings) + list(check.findings)


def flagged(findings: list[Finding], resource: str) -> set[int]:
    """Indexes of the ``resource`` records an error finding points at."""
    out: set[int] = set()
    for finding in findings:
        parts = (finding.location.pointer or "").split("/")
        if finding.is_error and len(parts) > 2 and parts[1] == resource and parts[2].isdigit():
            out.add(int(parts[2]))
    return out

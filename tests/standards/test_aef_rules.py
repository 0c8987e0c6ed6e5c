"""Data-driven AEF rule cases (tests/cases/aef/rules.json), JSON-Schema-Test-Suite style.

Each case patches the valid example report and states whether its rule must fire; a case with
``"mode": "lenient"`` is validated as legacy data (``--lenient``), the others strictly. A last test
checks that every catalogued rule has at least one passing and one failing case.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from standards.aef.codec import AEF
from standards.aef.rules import CATALOGUE
from standards.codec import Medium

ROOT = Path(__file__).resolve().parents[2]
SUITE = json.loads((ROOT / "tests/cases/aef/rules.json").read_text())
BASE = json.loads((ROOT / SUITE["base"]).read_text())


def _resolve(doc: Any, pointer: str) -> tuple[Any, str]:
    parts = pointer.lstrip("/").split("/")
    node = doc
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, parts[-1]


def apply_patch(doc: dict[str, Any], patch: list[list[Any]]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for pointer, value in patch:
        parent, key = _resolve(out, pointer)
        if value == "$delete":
            del parent[key]
        elif isinstance(value, str) and value.startswith("$copy:"):
            source_parent, source_key = _resolve(out, value.removeprefix("$copy:"))
            item = copy.deepcopy(source_parent[int(source_key)] if isinstance(source_parent, list)
                                 else source_parent[source_key])
            parent.append(item)
        elif isinstance(parent, list) and key == "-":
            parent.append(value)
        elif isinstance(parent, list):
            parent[int(key)] = value
        else:
            parent[key] = value
    return out


def fired(doc: dict[str, Any], *, lenient: bool = False) -> set[str]:
    report = AEF.validate(json.dumps(doc).encode(), medium=Medium.JSON, lenient=lenient)
    return {f.rule for f in report.findings}


def test_base_document_is_clean() -> None:
    assert fired(BASE) == set()


@pytest.mark.parametrize("case", SUITE["cases"], ids=lambda c: f"{c['rule']}: {c['description']}")
def test_rule_case(case: dict[str, Any]) -> None:
    rules = fired(apply_patch(BASE, case["patch"]), lenient=case.get("mode") == "lenient")
    if case["valid"]:
        assert case["rule"] not in rules
    else:
        assert case["rule"] in rules


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    covered = {(c["rule"], c["valid"]) for c in SUITE["cases"]}
    missing = [f"{r.id} ({kind})" for r in CATALOGUE for kind, valid in (("pass", True), ("fail", False))
               if (r.id, valid) not in covered]
    assert not missing, f"rules without cases: {missing}"


def test_unknown_rule_ids_in_cases_are_errors() -> None:
    assert {c["rule"] for c in SUITE["cases"]} <= {r.id for r in CATALOGUE}

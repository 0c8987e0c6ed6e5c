"""Data-driven CAD Trust rule cases (tests/cases/cadt/*.json): every catalogued rule passes and fails.

A case starts from a base document (or gives its own ``document``) and edits it with JSON
Pointers: ``copy`` {dest: source} (``-`` appends), ``move`` {from: to} (renames a key),
``set`` {pointer: value} (``"$repeat:c:n"`` is the character c n times) and ``delete``
[pointers]. ``fail`` means the rule fires; ``pass`` means it does not.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from standards.cadt.picklists import bundled
from standards.cadt.profiles import default_profile
from standards.cadt.rules import CATALOGUES
from standards.cadt.spec import Version
from standards.cadt.validate import CadtValidator

CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "cadt"


def _case_files() -> list[Path]:
    return sorted(CASES_DIR.glob("*-rules.json"))


def _cases() -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for path in _case_files():
        spec = json.loads(path.read_text(encoding="utf-8"))
        for case in spec["cases"]:
            mode = {"mode": spec["mode"]} if "mode" in spec else {}
            out.append((spec["version"], str((path.parent / spec["base"]).resolve()), {**mode, **case}))
    return out


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _parent(doc: Any, pointer: str) -> tuple[Any, str]:
    *head, last = _tokens(pointer)
    node = doc
    for token in head:
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node, last


def _get(doc: Any, pointer: str) -> Any:
    node, last = _parent(doc, pointer)
    return node[int(last)] if isinstance(node, list) else node[last]


def _set(doc: Any, pointer: str, value: Any) -> None:
    node, last = _parent(doc, pointer)
    if isinstance(value, str) and value.startswith("$repeat:"):
        _, char, count = value.split(":")
        value = char * int(count)
    if isinstance(node, list):
        if last == "-":
            node.append(value)
        else:
            node[int(last)] = value
    else:
        node[last] = value


def _delete(doc: Any, pointer: str) -> None:
    node, last = _parent(doc, pointer)
    del node[int(last) if isinstance(node, list) else last]


def build(base: str, case: dict[str, Any]) -> Any:
    if "document" in case:
        return copy.deepcopy(case["document"])
    doc = json.loads(Path(base).read_text(encoding="utf-8"))
    for dest, source in case.get("copy", {}).items():
        _set(doc, dest, copy.deepcopy(_get(doc, source)))
    for source, dest in case.get("move", {}).items():
        value = _get(doc, source)
        _delete(doc, source)
        _set(doc, dest, value)
    for pointer, value in case.get("set", {}).items():
        _set(doc, pointer, value)
    for pointer in case.get("delete", []):
        _delete(doc, pointer)
    return doc


def run(version: Version, doc: Any, *, request: bool = False) -> list[str]:
    """Rule ids fired for a document, through the codec (validation and mapping findings)."""
    from standards.cadt.codec import CadtV1Codec, CadtV2Codec

    codec = (CadtV1Codec if version == "v1" else CadtV2Codec)(
        picklists=bundled(version), profile=default_profile(version), request=request)
    return [f.rule for f in codec.parse_object(doc).findings]


def run_serialize(version: Version, built: Any) -> list[str]:
    """Rule ids fired when a canonical document is written as CAD Trust (with the case's operator profile):
    the writer's findings and the validation of what it wrote."""
    from standards.cadt.codec import CadtV1Codec, CadtV2Codec
    from standards.cadt.operator import operator_profile_from
    from standards.codec import Medium
    from standards.model import CanonicalDocument

    codec = (CadtV1Codec if version == "v1" else CadtV2Codec)(
        picklists=bundled(version), profile=default_profile(version),
        operator=operator_profile_from(built["operator"], "case profile", bundled("v1")))
    result = codec.serialize(CanonicalDocument.model_validate(built["document"]), medium=Medium.JSON)
    return [f.rule for f in result.findings + codec.validate(result.data, medium=Medium.JSON).findings]


@pytest.mark.parametrize(("version", "base", "case"), _cases(),
                         ids=[f"{c['rule']}:{c['expect']}:{c['name']}" for _, _, c in _cases()])
def test_rule_case(version: Version, base: str, case: dict[str, Any]) -> None:
    if case.get("mode") == "serialize":
        fired = run_serialize(version, build(base, case))
    else:
        fired = run(version, build(base, case), request=bool(case.get("request")))
    if case["expect"] == "fail":
        assert case["rule"] in fired, f"{case['rule']} did not fire; fired: {fired}"
    else:
        assert case["rule"] not in fired, f"{case['rule']} fired on a passing case"


def test_every_catalogued_rule_has_a_passing_and_a_failing_case() -> None:
    seen: dict[str, set[str]] = {}
    for _version, _base, case in _cases():
        seen.setdefault(case["rule"], set()).add(case["expect"])
    for catalogue in CATALOGUES.values():
        for rule in catalogue:
            assert seen.get(rule.id) == {"pass", "fail"}, f"{rule.id} needs a passing and a failing case"
    known = {rule.id for catalogue in CATALOGUES.values() for rule in catalogue}
    assert set(seen) <= known, f"cases for unknown rules: {set(seen) - known}"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_base_documents_are_clean(version: Version) -> None:
    """The bases carry no error, so a failing case fails for the reason it names."""
    from standards.cadt.codec import CadtV1Codec, CadtV2Codec

    for v, base, case in _cases():
        if v != version or case.get("mode") == "serialize":
            continue
        codec = (CadtV1Codec if version == "v1" else CadtV2Codec)(picklists=bundled(version))
        result = codec.parse_object(json.loads(Path(base).read_text(encoding="utf-8")))
        assert result.valid, [f.as_dict() for f in result.findings if f.is_error]
        return


def test_serialize_base_is_clean() -> None:
    """The writing cases' base (a Verra project and unit with a full operator profile) gives no error."""
    from standards.cadt.rules import RULES_V1

    base = CASES_DIR / "_base" / "v1-linking.json"
    fired = run_serialize("v1", json.loads(base.read_text(encoding="utf-8")))
    assert not [rule for rule in fired if RULES_V1[rule].severity.value == "error"], fired


def test_validator_skips_later_layers_for_a_record_that_failed_structure() -> None:
    doc = json.loads((CASES_DIR / "_base" / "v1.json").read_text(encoding="utf-8"))
    doc["units"][0]["unitCount"] = "many"  # structure error
    doc["units"][0]["unitStatus"] = "held"  # would be a picklist error
    doc["units"][0]["marketplaceIdentifier"] = ""  # would be a field error
    validation = CadtValidator("v1", bundled("v1"), default_profile("v1")).run(doc)
    rules = [f.rule for f in validation.findings]
    assert rules == ["CADT.V1.TYPE"]
    assert validation.records["units"][0].failed

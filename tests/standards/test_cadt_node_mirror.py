"""cadt-v1 validation mirrors a CADT 1.7.24 node: data-driven from carbonlink's own v1 data file.

For every field the data file (``standards/cadt/data/cadt-v1-1.7.24.json``) marks required, removing it
from a valid document must be refused; for every enforced picklist, a value outside the list must be
refused; for every text field, the empty string must be refused unless ``data/v1-empty-strings.json``
allows it. ``NODE_REQUIRED`` restates the node's Joi request schemas (github.com/Chia-Network/cadt,
src/validations/*.js at 1.7.24) so the data file cannot drift from them unnoticed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from standards.cadt.codec import CadtV1Codec
from standards.cadt.operator import operator_profile_from
from standards.cadt.picklists import bundled
from standards.cadt.spec import load_spec
from standards.codec import Medium
from standards.model import CanonicalDocument

BASE = Path(__file__).resolve().parents[2] / "conformance" / "cases" / "cadt-v1-messages" / "bases" / "v1-linking.json"
NODE_REQUIRED = {
    "project": {"projectId", "originProjectId", "registryOfOrigin", "projectName", "projectLink", "projectDeveloper",
                "sector", "projectType", "coveredByNDC", "projectStatus", "projectStatusDate", "unitMetric",
                "methodology"},
    "unit": {"countryJurisdictionOfOwner", "unitBlockStart", "unitBlockEnd", "unitCount", "vintageYear", "unitType",
             "unitStatus", "unitRegistryLink", "correspondingAdjustmentDeclaration",
             "correspondingAdjustmentStatus"},
    "issuance": {"startDate", "endDate", "verificationApproach", "verificationReportDate"},
}
#: Where one record of each entity sits in the written document.
WHERE = {"project": ("projects", 0), "unit": ("units", 0), "issuance": ("projects", 0, "issuances", 0)}


def _valid_document() -> dict[str, Any]:
    base = json.loads(BASE.read_text(encoding="utf-8"))
    codec = CadtV1Codec(picklists=bundled("v1"), operator=operator_profile_from(base["operator"], "base"))
    written = codec.serialize(CanonicalDocument.model_validate(base["document"]), medium=Medium.JSON)
    return json.loads(written.data)


VALID = _valid_document()


def _required(entity: str) -> set[str]:
    spec = load_spec("v1").entities[entity]
    return {f.name for f in spec.fields if f.required and not f.is_server_owned and f.name != "issuanceId"}


def _fired(doc: dict[str, Any]) -> set[tuple[str, str]]:
    codec = CadtV1Codec(picklists=bundled("v1"))
    return {(f.rule, f.location.pointer or "") for f in codec.parse_object(doc).findings if f.is_error}


def _record(doc: dict[str, Any], entity: str) -> dict[str, Any]:
    node: Any = doc
    for step in WHERE[entity]:
        node = node[step]
    assert isinstance(node, dict)
    return node


def _pointer(entity: str, name: str) -> str:
    return "/" + "/".join(str(s) for s in (*WHERE[entity], name))


def test_the_valid_document_is_valid() -> None:
    assert _fired(VALID) == set()


@pytest.mark.parametrize("entity", sorted(NODE_REQUIRED))
def test_the_data_file_requires_what_the_node_requires(entity: str) -> None:
    assert _required(entity) == NODE_REQUIRED[entity]


@pytest.mark.parametrize(("entity", "name"), [(e, n) for e in sorted(NODE_REQUIRED) for n in sorted(_required(e))])
def test_a_missing_required_field_is_refused(entity: str, name: str) -> None:
    doc = copy.deepcopy(VALID)
    _record(doc, entity).pop(name, None)
    if entity == "issuance":  # the unit carries a copy of its issuance
        doc["units"][0]["issuance"].pop(name, None)
    assert ("CADT.V1.REQUIRED", _pointer(entity, name)) in _fired(doc)


def _picklisted(entity: str) -> list[tuple[str, str]]:
    spec = load_spec("v1").entities[entity]
    return [(f.name, str(f.picklist)) for f in spec.fields if f.picklist and f.enforced]


@pytest.mark.parametrize(("entity", "name"), [(e, n) for e in ("project", "unit") for n, _ in _picklisted(e)])
def test_a_value_outside_an_enforced_picklist_is_refused(entity: str, name: str) -> None:
    doc = copy.deepcopy(VALID)
    _record(doc, entity)[name] = "Not in the node's list"
    assert ("CADT.V1.PICKLIST", _pointer(entity, name)) in _fired(doc)


def _text_fields(entity: str) -> list[str]:
    spec = load_spec("v1").entities[entity]
    return [f.name for f in spec.fields if f.kind in ("string", "text", "string|number") and not f.picklist
            and not f.is_server_owned and not f.non_empty and f.name != "issuanceId"]


@pytest.mark.parametrize(("entity", "name"), [(e, n) for e in sorted(NODE_REQUIRED) for n in _text_fields(e)])
def test_an_empty_string_is_refused_unless_the_node_allows_it(entity: str, name: str) -> None:
    doc = copy.deepcopy(VALID)
    _record(doc, entity)[name] = ""
    fired = {rule for rule, pointer in _fired(doc) if pointer == _pointer(entity, name)}
    allowed = {("unit", "unitTags"), ("issuance", "verificationBody")}
    assert ("CADT.V1.EMPTY_STRING" in fired) == ((entity, name) not in allowed), fired

"""The MRV documents: digests (JCS, the evidence log's bytes), canonical decimals, JSON Schemas."""

from __future__ import annotations

import json
from decimal import Decimal

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.evidence import jcs_bytes as evidence_jcs
from standards.mrv import (
    DOCUMENT_KINDS,
    MonitoringReport,
    document_digest,
    document_json,
    document_schema,
    example_chain,
    jcs_bytes,
    read_document,
)
from standards.schemas import PUBLISHED, ROOT, render
from tests.mrv.support import changed


def test_digest_is_sha256_of_the_evidence_logs_jcs_bytes() -> None:
    chain = example_chain(parameters=20)
    for doc in chain:
        data = document_json(doc)
        assert jcs_bytes(data) == evidence_jcs(data)
    # non-ASCII text and control characters in values: still the same bytes
    param = changed(chain.report.parameters[0], {"description": "Überwachung\u00e9\u2028 \u0007 \U0001f600"})
    report = changed(chain.report, {"parameters": [param], "report_id": "Überwachung-\u00e9"})
    assert jcs_bytes(document_json(report)) == evidence_jcs(document_json(report))


def test_digest_ignores_spelling_but_not_content() -> None:
    report = example_chain().report
    data = document_json(report)
    respelt = dict(reversed(list(data.items())))
    respelt["emission_reductions"] = "13140.3600"
    respelt["parameters"] = [dict(p, value=str(Decimal(p["value"]) * 1) + "0") if "." in p["value"] else p
                             for p in data["parameters"]]
    again = read_document(json.dumps(respelt), kind="monitoring-report").require()
    assert document_digest(again) == document_digest(report)
    other = changed(report, {"emission_reductions": Decimal("13140.37")})
    assert document_digest(other) != document_digest(report)


def test_the_chain_cites_digests() -> None:
    report, statement, request, notice = example_chain()
    assert statement.report_digest == document_digest(report)
    assert request.verification_digest == document_digest(statement)
    assert notice.request_digest == document_digest(request)


@pytest.mark.parametrize("kind", sorted(DOCUMENT_KINDS))
def test_committed_schemas_match_the_models(kind: str) -> None:
    rel = f"mrv/schema/{kind}.schema.json"
    assert rel in PUBLISHED
    assert (ROOT / rel).read_text(encoding="utf-8") == render(document_schema(kind)), "python -m standards.schemas"


@pytest.mark.parametrize("kind", sorted(DOCUMENT_KINDS))
def test_schema_accepts_the_example_and_agrees_with_the_model_on_bad_documents(kind: str) -> None:
    schema = json.loads((ROOT / f"mrv/schema/{kind}.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    doc = next(d for d in example_chain() if d.kind == kind)
    data = document_json(doc)
    assert list(validator.iter_errors(data)) == []
    bad = dict(data, unexpected="x", project_id="")
    assert {"/".join(map(str, e.absolute_path)) for e in validator.iter_errors(bad)} >= {"", "project_id"}
    result = read_document(bad, kind=kind)
    assert result.document is None
    assert {f.location.pointer for f in result.findings} >= {"/unexpected", "/project_id"}


def test_documents_are_frozen_and_refuse_unknown_members() -> None:
    report = example_chain().report
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        report.project_id = "other"  # type: ignore[misc]
    data = document_json(report) | {"kind": "monitoring-report", "colour": "green"}
    assert [f.rule for f in read_document(data).findings] == ["MRV.STRUCTURE"]
    assert isinstance(read_document(document_json(report)).document, MonitoringReport)


def test_json_numbers_stay_exact_decimals() -> None:
    data = document_json(example_chain().report)
    data["parameters"][0]["value"] = "__V__"
    data["emission_reductions"] = "__E__"
    text = json.dumps(data).replace('"__V__"', "123456789.123456789").replace('"__E__"', "13140.360")
    report = read_document(text, kind="monitoring-report").require()
    assert isinstance(report, MonitoringReport)
    assert report.parameters[0].value == Decimal("123456789.123456789")
    assert document_json(report)["emission_reductions"] == "13140.36"


_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30).filter(
    lambda s: not any(ord(c) < 0x20 or ord(c) == 0x7F for c in s))


@settings(max_examples=60, deadline=None)
@given(name=_text, description=st.text(st.characters(codec="utf-8"), max_size=40),
       value=st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-10**12, max_value=10**12))
def test_digest_bytes_equal_the_evidence_logs_for_any_text_and_value(name: str, description: str,
                                                                   value: Decimal) -> None:
    report = example_chain().report
    param = {"name": name, "value": value, "unit": "MWh", "description": description}
    changed_report = MonitoringReport.model_validate(report.model_dump() | {"parameters": [param]})
    data = document_json(changed_report)
    assert jcs_bytes(data) == evidence_jcs(data)
    again = read_document(json.dumps(data), kind="monitoring-report").require()
    assert document_digest(again) == document_digest(changed_report)

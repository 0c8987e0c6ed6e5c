"""Round trips through the AEF media: canonical -> AEF JSON -> XLSX -> AEF JSON -> canonical is lossless."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from standards.aef.codec import AEF
from standards.codec import Medium
from standards.model import CanonicalDocument
from tests.standards.strategies import documents

ROOT = Path(__file__).resolve().parents[2]
HAS_XLSX = importlib.util.find_spec("standards.aef.xlsxio") is not None


def _parse(data: bytes, medium: Medium) -> CanonicalDocument:
    result = AEF.parse(data, medium=medium)
    assert result.valid, [f.as_dict() for f in result.findings if f.is_error]
    return result.document


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_canonical_aef_json_round_trip(doc: CanonicalDocument) -> None:
    out = AEF.serialize(doc, medium=Medium.JSON)
    assert out.losses == []
    assert _parse(out.data, Medium.JSON) == doc


@pytest.mark.skipif(not HAS_XLSX, reason="AEF XLSX medium not installed")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_canonical_json_xlsx_json_canonical_is_lossless(doc: CanonicalDocument) -> None:
    aef_json = AEF.serialize(doc, medium=Medium.JSON).data
    workbook = AEF.serialize(_parse(aef_json, Medium.JSON), medium=Medium.XLSX).data
    back_json = AEF.serialize(_parse(workbook, Medium.XLSX), medium=Medium.JSON).data
    assert _parse(back_json, Medium.JSON) == doc
    assert json.loads(back_json) == json.loads(aef_json)


def test_example_report_round_trips_exactly() -> None:
    data = (ROOT / "standards/examples/aef-v2-report.json").read_bytes()
    doc = _parse(data, Medium.JSON)
    again = AEF.serialize(doc, medium=Medium.JSON).data
    assert json.loads(again) == json.loads(data)


def test_decimals_are_exact_in_json() -> None:
    data = (ROOT / "standards/examples/aef-v2-report.json").read_text()
    data = data.replace('"AuthorizedQuantity": 1000000', '"AuthorizedQuantity": 123456789012345.67')
    doc = _parse(data.encode(), Medium.JSON)
    assert str(doc.authorizations[0].authorized_quantity) == "123456789012345.67"
    assert b"123456789012345.67" in AEF.serialize(doc, medium=Medium.JSON).data


def test_crediting_programme_actions_are_reported_as_losses() -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from standards.model import Action, ActionType, Project, UnitBlock

    doc = CanonicalDocument(
        actions=[Action(action_type=ActionType.ISSUANCE, date=datetime(2024, 1, 1, tzinfo=UTC),
                        quantity=Decimal(10), units=UnitBlock(registry="VCS", serial="VCS-1", quantity=Decimal(10)))],
        projects=[Project(project_id="VCS1234")],
    )
    out = AEF.serialize(doc, medium=Medium.JSON)
    fields = {loss.field for loss in out.losses}
    assert {"actions.action_type", "projects"} <= fields
    assert json.loads(out.data)["Actions"] == []

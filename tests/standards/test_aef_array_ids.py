"""A JSON array or object where Table 2 or Table 5 holds an ID is a finding on that cell, not a crash: the
cross-record rules join on the IDs of every Table 2 row, including those that failed their types."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from standards.aef.codec import AEF
from standards.codec import Medium

REPORT = json.loads((Path(__file__).resolve().parents[2] / "standards/examples/aef-v2-report.json").read_text())


@pytest.mark.parametrize("value", [{}, {"a": 1}, [], ["CA0001"]], ids=["{}", "object", "[]", "array"])
@pytest.mark.parametrize(("key", "cn"), [("Authorizations", "AuthorizationID"),
                                         ("Authorizations", "CooperativeApproachID"),
                                         ("AuthorizedEntities", "CooperativeApproachID")])
def test_an_array_or_object_id_is_a_type_finding(key: str, cn: str, value: Any) -> None:
    doc = copy.deepcopy(REPORT)
    doc[key][0][cn] = value
    result = AEF.parse(json.dumps(doc).encode(), medium=Medium.JSON)
    assert not result.valid
    assert f"/{key}/0/{cn}" in [f.location.pointer for f in result.findings if f.is_error]
    report = AEF.validate(json.dumps(doc).encode(), medium=Medium.JSON)
    assert [repr(f) for f in report.findings] == [repr(f) for f in result.findings]

"""Authorizations over their versions: the T2 version in force at each action's date, whatever the row order."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from standards.aef.jsonio import read_json
from standards.aef.validate import validate_tables
from standards.aef.validate._auth import timeframe

ROOT = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = json.loads((ROOT / "standards/examples/aef-v2-report.json").read_text())


def _versions(*specs: tuple[int, str, int]) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    template = doc["Authorizations"][0]
    doc["Authorizations"] = [dict(template, AuthorizationVersion=version, DateOfAuthorization=day,
                                  AuthorizedQuantity=cap) for version, day, cap in specs]
    return doc


def _rules(doc: dict[str, Any]) -> list[tuple[str, str]]:
    findings, _ = validate_tables(read_json(json.dumps(doc).encode()))
    return sorted((f.rule, f.location.pointer) for f in findings)


@pytest.mark.parametrize(("cap_v2", "expected"), [
    (40000, []),
    (31000, [("AEF.CROSS.AUTHORIZED_QUANTITY_EXCEEDED", "/Actions/1/QuantityCO2")]),
])
def test_quantity_cap_of_the_version_in_force_does_not_flip_with_row_order(
        cap_v2: int, expected: list[tuple[str, str]]) -> None:
    specs = [(1, "2023-11-15", 30000), (2, "2024-05-01", cap_v2), (3, "2024-12-01", 1)]
    for order in itertools.permutations(specs):
        doc = _versions(*order)
        assert _rules(doc) == expected, order
        doc["Actions"].reverse()
        assert [r for r, _ in _rules(doc)] == [r for r, _ in expected], order


def test_the_version_dated_before_the_action_is_used_not_the_last_listed() -> None:
    # version 1 allows 50 000; version 2, given after both first transfers, lowers the cap to 1 000
    assert _rules(_versions((2, "2024-12-01", 1000), (1, "2023-11-15", 50000))) == []
    assert _rules(_versions((1, "2023-11-15", 50000), (2, "2024-12-01", 1000))) == []


def test_a_failing_authorization_row_gives_no_follow_on_findings() -> None:
    doc = copy.deepcopy(BASE)
    doc["Authorizations"][0]["Sectors"] = "Space mining"
    assert [rule for rule, _ in _rules(doc)] == ["AEF.CODE_LIST.VALUE"]


@pytest.mark.parametrize(("text", "years"), [("2021 - 2030", (2021, 2030)), ("2021-2025", (2021, 2025)),
                                             ("from 2021", None), (None, None)])
def test_authorized_timeframe_is_read_as_two_years(text: str | None, years: tuple[int, int] | None) -> None:
    assert timeframe(text) == years

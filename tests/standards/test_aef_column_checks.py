"""The row layers check columns over distinct values and then look at the rows they single out: a defect in
one row among many identical ones is found at that row, once, exactly as the row-by-row check finds it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from standards.aef.codec import AEF
from standards.aef.rules import CATALOGUE
from standards.codec import Medium
from standards.findings import Layer

ROOT = Path(__file__).resolve().parents[2]
BASE = json.loads((ROOT / "standards/examples/aef-v2-report.json").read_text())
ROW_LAYERS = {Layer.STRUCTURE, Layer.CODE_LIST, Layer.FIELD}
COPIES = 40


def _many() -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    doc["Actions"] = [copy.deepcopy(doc["Actions"][i % len(BASE["Actions"])]) for i in range(COPIES)]
    return doc


def _row_findings(doc: dict[str, Any]) -> list[tuple[str, str]]:
    report = AEF.validate(json.dumps(doc).encode(), medium=Medium.JSON)
    return [(f.rule, f.location.pointer) for f in report.findings if CATALOGUE[f.rule].layer in ROW_LAYERS]


def test_identical_clean_rows_have_no_row_findings() -> None:
    assert _row_findings(_many()) == []


@pytest.mark.parametrize(("cn", "value", "rule"), [
    ("Metric", "tCO2e", "AEF.CODE_LIST.VALUE"),
    ("AcquiringPartyID", "XXX", "AEF.CODE_LIST.PARTY"),
    ("ActionSubtype", "Mandatory transfer to the Adaptation Fund (A6.4 ERs)", "AEF.T3.SUBTYPE_NOT_FOR_TYPE"),
    ("ResultOfConsistencyChecks", "Consistent", "AEF.CARP_FIELD.FILLED"),
    ("AdditionalExplanatoryInformation", "x" * 256, "AEF.TEXT.TOO_LONG"),
    ("QuantityCO2", 1000.125, "AEF.QUANTITY.DECIMALS"),
    ("Non-GHGMetric", "Other", "AEF.CONDITIONAL.NOT_APPLICABLE"),
    ("Non-GHGMetric", None, "AEF.CONDITIONAL.NA_EXPECTED"),
    ("CooperativeApproachID", None, "AEF.STRUCTURE.REQUIRED"),
    # the block rules, also cleared column by column
    ("Vintage", 2019, "AEF.VINTAGE.BEFORE_2021"),
    ("Vintage", 2025, "AEF.T3.VINTAGE_AFTER_ACTION"),
    ("FirstID", 10**9, "AEF.BLOCK.RANGE"),
    ("UnderlyingUnitFirstUnitID", 10**9, "AEF.BLOCK.UNDERLYING_RANGE"),
])
def test_one_defect_among_many_rows_is_found_at_its_row(cn: str, value: object, rule: str) -> None:
    doc = _many()
    row = COPIES - 7
    doc["Actions"][row][cn] = value
    found = _row_findings(doc)
    assert found[0] == (rule, f"/Actions/{row}/{cn}")
    # one finding per defect (a changed quantity also no longer fits its block: a second rule, same cell)
    assert set(found[1:]) <= {("AEF.BLOCK.QUANTITY", f"/Actions/{row}/{cn}")}


def test_a_block_quantity_defect_among_many_rows_is_found_at_its_row() -> None:
    doc = _many()
    row = COPIES - 3
    doc["Actions"][row]["LastID"] = doc["Actions"][row]["LastID"] + 5
    assert _row_findings(doc) == [("AEF.BLOCK.QUANTITY", f"/Actions/{row}/QuantityCO2")]


def test_structure_defects_on_both_sides_of_a_typing_slice_are_found_at_their_rows() -> None:
    """Rows are typed in slices of TYPED_SLICE; defects at a slice's edges, and a slice's other rows, come out
    exactly as one pass over every row gives them."""
    from standards.aef.validate._layers import TYPED_SLICE

    doc = _many()
    rows = [0, TYPED_SLICE - 1, TYPED_SLICE, COPIES - 1]
    assert COPIES > TYPED_SLICE
    for row in rows:
        doc["Actions"][row]["AcquiringPartyID"] = "CH"
    doc["Actions"][TYPED_SLICE + 1]["QuantityCO2"] = "many"
    assert _row_findings(doc) == [("AEF.FORMAT.PARTY", f"/Actions/{row}/AcquiringPartyID") for row in rows[:3]] + [
        ("AEF.STRUCTURE.TYPE", f"/Actions/{TYPED_SLICE + 1}/QuantityCO2"),
        ("AEF.FORMAT.PARTY", f"/Actions/{COPIES - 1}/AcquiringPartyID")]

"""The structure layer types a table in one call that ignores unknown keys and keeps a failing row's place
(``screen_adapter``), then types the rows that failed or had an unknown key again with the row types, which
refuse unknown keys and word the findings. On hostile rows - unknown keys alone or with type errors, blanks,
spaces, wrong types, containers, numbers as text - every finding and every typed row is what typing every
row with the row types (in slices, as before) gives."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from standards.aef.jsonio import read_json
from standards.aef.validate import validate_run
from standards.aef.validate._layers import Run

ROOT = Path(__file__).resolve().parents[2]
BASE = json.loads((ROOT / "standards/examples/aef-v2-report.json").read_text())
COPIES = 23  # not a multiple of the slice: the last slice is short
ABSENT = object()  # the key left out

#: (field, value) set on one row: unknown keys, type errors, blanks and spaces, containers, text numbers
HOSTILE: list[tuple[str, Any]] = [
    ("Colour", "blue"), ("", 1), ("FirstID", "12"), ("FirstID", -1), ("FirstID", 1.5), ("FirstID", True),
    ("QuantityCO2", "1000"), ("QuantityCO2", -3), ("QuantityCO2", [1]), ("Metric", {"a": 1}),
    ("Metric", 7), ("Metric", "  GHG  "), ("CooperativeApproachID", "  "), ("CooperativeApproachID", ""),
    ("ActionDateTime", "01/02/2024"), ("ActionDateTime", "2024-02-30T00:00:00Z"), ("ActionDateTime", 20240101),
    ("ActionDateTime", "2024-01-01"), ("Vintage", "NA"), ("Vintage", 1800), ("AcquiringPartyID", "ch"),
    ("YearITMOUsedTowardsNDC", "2030"), ("AdditionalExplanatoryInformation", ""), ("GWPValues", None),
    # what the required check looks at, which the screen refuses so that the row is checked apart
    ("Metric", "NA"), ("Metric", " NA "), ("Metric", None), ("Metric", ABSENT), ("AuthorizationID", "NA"),
    ("AuthorizationID", "na"), ("AuthorizationID", "N"), ("AuthorizationID", "NAB"), ("AuthorizationID", None),
    ("ActionDateTime", None), ("ActionDateTime", "NA"), ("Vintage", None), ("QuantityCO2", ""),
    ("QuantityCO2", "NA"), ("FirstID", ABSENT), ("PartyITMORegistryID", "NA"), ("MitigationType", "N"),
]


def _plain(run: Run, table_id: str, rows: list[Any]) -> tuple[list[Any], list[int]]:
    return [None] * len(rows), list(range(len(rows)))  # every row left to the row types, as before


def _outcome(doc: dict[str, Any], lenient: bool) -> tuple[list[Any], list[Any]]:
    run = validate_run(read_json(json.dumps(doc).encode()), lenient=lenient)
    findings = [(f.rule, f.severity.value, f.location.pointer, f.message) for f in run.findings]
    typed = [[(k, type(v).__name__, str(v)) for k, v in row.items()] if row is not None else None
             for table in run.typed.rows.values() for row in table]
    return findings, typed


def _hostile(cases: list[tuple[int, str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = copy.deepcopy(BASE)
    doc["Actions"] = [copy.deepcopy(doc["Actions"][i % len(BASE["Actions"])]) for i in range(COPIES)]
    doc["Holdings"] = [copy.deepcopy(doc["Holdings"][i % len(BASE["Holdings"])]) for i in range(COPIES)]
    for row, cn, value in cases:
        for table in ("Actions", "Holdings", "Authorizations", "AuthorizedEntities"):
            if table in ("Authorizations", "AuthorizedEntities") and (row >= len(doc[table]) or cn in (
                    "Vintage", "FirstID", "QuantityCO2")):
                continue  # the other tables: their first rows, the fields they share with T3
            if value is ABSENT:
                doc[table][row].pop(cn, None)
            else:
                doc[table][row][cn] = value
    return doc


@pytest.mark.parametrize("lenient", [False, True])
@pytest.mark.parametrize(("cn", "value"), HOSTILE)
def test_one_hostile_value_gives_what_the_refusing_types_give(monkeypatch: pytest.MonkeyPatch, cn: str,
                                                             value: Any, lenient: bool) -> None:
    doc = _hostile([(5, cn, value), (0, cn, value)])
    fast = _outcome(doc, lenient)
    monkeypatch.setattr(Run, "_screened", _plain)
    assert fast == _outcome(doc, lenient)
    assert fast[0] or cn in ("Metric", "GWPValues", "AdditionalExplanatoryInformation") or lenient


@pytest.mark.parametrize("lenient", [False, True])
def test_many_hostile_rows_in_one_slice_and_across_slices(monkeypatch: pytest.MonkeyPatch, lenient: bool) -> None:
    # rows 0-3 share a slice: an unknown key beside a type error, two unknown keys, spaces, a clean row
    cases = [(0, "Colour", "blue"), (0, "FirstID", "x"), (1, "Colour", "red"), (1, "Shade", 2),
             (2, "Metric", "  GHG "), (9, "Colour", 1), (10, "QuantityCO2", -1), (22, "Vintage", "2023")]
    doc = _hostile(cases)
    fast = _outcome(doc, lenient)
    monkeypatch.setattr(Run, "_screened", _plain)
    plain = _outcome(doc, lenient)
    assert fast == plain
    unknown = [f for f in fast[0] if f[0] == "AEF.STRUCTURE.UNKNOWN_FIELD"]
    assert {f[2] for f in unknown} >= {"/Actions/0/Colour", "/Actions/1/Shade", "/Actions/9/Colour"}


@pytest.mark.parametrize(("cn", "value"), [("ReportedYear", None), ("ReportedYear", ABSENT), ("ReportedYear", "NA"),
                                         ("ParticipatingParty", "NA"), ("ParticipatingParty", ""),
                                         ("Colour", "blue"), ("SubmissionVersion", " NA ")])
def test_table_1_gives_what_the_refusing_types_give(monkeypatch: pytest.MonkeyPatch, cn: str, value: Any) -> None:
    doc: dict[str, Any] = copy.deepcopy(BASE)
    if value is ABSENT:
        doc["Submission"].pop(cn)
    else:
        doc["Submission"][cn] = value
    fast = _outcome(doc, False)
    monkeypatch.setattr(Run, "_screened", _plain)
    assert fast == _outcome(doc, False)
    assert fast[0]


def test_a_row_with_an_unknown_key_is_not_typed_without_it() -> None:
    doc = _hostile([(3, "Colour", "blue")])
    run = validate_run(read_json(json.dumps(doc).encode()))
    assert run.typed.rows["T3"][3] is None  # refused, as the row types refuse it
    assert run.typed.rows["T3"][2] is not None and run.typed.rows["T3"][4] is not None


"""A table of a few rows (a relayed message has one) skips the column screens: each row goes through every row check.
The screens only pick which rows those checks look at, so on every input - the bundled AEF examples, each
conformance case (the bundled report patched), the relayed transfer, and that transfer and the report's rows
with each field made hostile - the run with the shortcut gives the findings (ids, locations, messages, order),
typed rows, passed rows, rules not run and canonical document the screened run gives, strict and lenient."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.cases import CASES_ROOT, load_case_file
from gateway.demo import itmo_message
from standards.aef import validate as aef_validate
from standards.aef.codec import AefCodec
from standards.aef.jsonio import read_json
from standards.aef.mapping import tables_to_document
from standards.aef.validate import validate_run
from standards.codec import Medium
from standards.errors import CarbonlinkError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [ROOT / "standards/examples/aef-v2-report.json",
            ROOT / "tests/fixtures/spreadsheet/golden/itmo-ledger.aef.json",
            ROOT / "tests/fixtures/undp-ncr/golden-aef.json"]
REPORT = json.loads(EXAMPLES[0].read_text())
ROW_KEYS = ["Authorizations", "Actions", "Holdings", "AuthorizedEntities"]
MESSAGE = itmo_message(sender_party="GHA", receiver_party="CHE", first=1, last=10)
#: values a hostile sender may put in any field
HOSTILE: list[Any] = [None, "", " ", "NA", "na", "XXX", "GHA", "CHE", 0, -1, 10**9, 10**30, 1.5, 1000.125, "12",
                      "x" * 300, [], ["a"], {}, {"a": 1}, True, "2019", 2019, 2025, 2099, "2024-06-03",
                      "2999-01-01T00:00:00Z", "2024-06-03T10:00:00+05:00", "First transfer", "Acquisition", "Use",
                      "Cancellation", "Transfer", "GHG", "Non-GHG", "tCO2e", "Consistent", "OIMP", "NDC",
                      "Emission reductions", "CA0001", "GHA-A6-2023-001"]


def _outcome(doc: Any, lenient: bool) -> tuple[Any, ...]:
    """Everything a run gives: findings (repr: id, location, message, severity, cause), rules not run,
    typed and passed rows, and the canonical document (or the error reading it)."""
    body = json.dumps(doc).encode()
    try:
        tables = read_json(body)
    except CarbonlinkError as exc:
        return ("unreadable", repr(exc))
    run = validate_run(tables, lenient=lenient)
    parsed = AefCodec(lenient=lenient).parse(body, medium=Medium.JSON)
    document = parsed.document.model_dump_json() if parsed.valid else None
    return ([repr(f) for f in run.findings], [r.id for r in run.not_run], repr(run.typed.submission),
            {t: repr(run.typed.rows[t]) for t in sorted(run.typed.rows)},
            {t: run.passed[t] for t in sorted(run.passed)},
            [repr(f) for f in parsed.findings], document)


def _same_both_ways(doc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for lenient in (False, True):
        monkeypatch.setattr(aef_validate, "_row_by_row", True)
        shortcut = _outcome(doc, lenient)
        monkeypatch.setattr(aef_validate, "_row_by_row", False)
        assert shortcut == _outcome(doc, lenient), f"lenient={lenient}"


def _documents() -> list[tuple[str, Any]]:
    docs: list[tuple[str, Any]] = [(path.name, json.loads(path.read_text())) for path in EXAMPLES]
    docs.append(("relayed transfer", MESSAGE))
    docs.append(("relayed transfer, two rows", {**MESSAGE, "Actions": [MESSAGE["Actions"][0]] * 2}))
    docs.append(("relayed transfer, three rows", {**MESSAGE, "Actions": [MESSAGE["Actions"][0]] * 3}))
    docs.append(("relayed transfer, five rows", {**MESSAGE, "Actions": [MESSAGE["Actions"][0]] * 5}))
    for path in EXAMPLES:  # each example cut to the most rows the shortcut takes, and one more
        for rows in (aef_validate.ROW_BY_ROW, aef_validate.ROW_BY_ROW + 1):
            example = json.loads(path.read_text())
            docs.append((f"{path.name}, {rows} rows a table",
                         {k: v[:rows] if isinstance(v, list) else v for k, v in example.items()}))
    for key in ROW_KEYS:  # each table of the report alone, whole and row by row, with and without Table 1
        for i in range(len(REPORT[key])):
            docs.append((f"{key}[{i}] alone", {"format": REPORT["format"], key: [REPORT[key][i]]}))
            docs.append((f"{key}[{i}] with T1", {"Submission": REPORT["Submission"], key: [REPORT[key][i]]}))
    for path in sorted(CASES_ROOT.glob("aef*/*.cases.json")):
        docs.extend((case.id, case.build()) for case in load_case_file(path) if case.mode != "lenient")
        docs.extend((f"{case.id} (lenient)", case.build()) for case in load_case_file(path) if case.mode == "lenient")
    return docs


DOCUMENTS = _documents()


@pytest.mark.parametrize(("name", "doc"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_small_tables_give_what_the_screens_give(name: str, doc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _same_both_ways(doc, monkeypatch)


@pytest.mark.parametrize("field", sorted(MESSAGE["Actions"][0]))
def test_a_hostile_field_in_the_relayed_transfer_gives_what_the_screens_give(
        field: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for value in [*HOSTILE, "absent"]:
        doc = copy.deepcopy(MESSAGE)
        if value == "absent":
            del doc["Actions"][0][field]
        else:
            doc["Actions"][0][field] = value
        _same_both_ways(doc, monkeypatch)
        doc["Actions"].append(copy.deepcopy(MESSAGE["Actions"][0]))  # two rows: the hostile one first
        _same_both_ways(doc, monkeypatch)


@pytest.mark.parametrize("key", ROW_KEYS)
def test_a_hostile_field_in_a_row_of_the_report_gives_what_the_screens_give(
        key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    row = REPORT[key][0]
    for field in [*sorted(row), "NotAField"]:
        for value in HOSTILE[::3]:
            doc = copy.deepcopy(REPORT)
            doc[key][0][field] = value
            _same_both_ways(doc, monkeypatch)
            _same_both_ways({"format": REPORT["format"], key: doc[key]}, monkeypatch)


def test_the_relayed_transfer_takes_the_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    """The relay's message is a table small enough for the shortcut, so the screens never run on it."""
    def screened(*args: Any) -> set[int]:
        raise AssertionError("a column screen ran")

    monkeypatch.setattr(aef_validate.Run, "code_list_rows", screened)
    monkeypatch.setattr(aef_validate.Run, "conditional_rows", screened)
    run = validate_run(read_json(json.dumps(MESSAGE).encode()))
    assert run.passed["T3"] == [0] and not [f for f in run.findings if f.is_error]


def test_the_document_is_the_one_the_field_by_field_mapping_gives() -> None:
    """The canonical document from precomputed field plans equals one built field by field from the specs."""
    from standards.aef.mapping import _LIST_TYPES, _split_list
    from standards.aef.tables import NA, TABLES
    from standards.aef.vocab import NOMENCLATURE

    def reference(table_id: str, row: dict[str, Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        for f in TABLES[table_id].fields:
            value = row.get(f.cn)
            if f.type in _LIST_TYPES:
                kwargs[f.canonical] = _split_list(value)
                continue
            value = None if value is None or value == NA or value == "" else value
            if f.vocabulary is not None and isinstance(value, str):
                value = NOMENCLATURE.canonical_value(f.vocabulary, value)
            kwargs[f.canonical] = value
        return kwargs

    from standards.aef.mapping import _record_kwargs

    listed = copy.deepcopy(REPORT)
    listed["Authorizations"][0].update({"AuthorizedPartyIDs": "CHE; GHA", "AuthorizedEntityIDs": "E1, E2;E3"})
    inputs = [json.dumps(doc).encode() for _, doc in [*DOCUMENTS, ("lists", listed)]]
    for body, lenient in [(body, lenient) for body in inputs for lenient in (False, True)]:
        try:
            run = validate_run(read_json(body), lenient=lenient)
        except CarbonlinkError:
            continue
        if not [f for f in run.findings if f.is_error]:
            tables_to_document(run.typed)  # builds
        for table_id, rows in [("T1", [run.typed.submission]), *run.typed.rows.items()]:
            for row in rows:
                if row is None:
                    continue
                mine = _record_kwargs(TABLES[table_id], row)
                units = mine.pop("units", None)
                ref = reference(table_id, row)
                ref_units = {k.removeprefix("units."): ref.pop(k) for k in list(ref) if k.startswith("units.")}
                assert mine == ref
                assert (units.model_dump(exclude_unset=True) if units is not None else {}) == \
                    {k: v for k, v in ref_units.items() if v is not None}

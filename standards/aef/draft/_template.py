"""The draft AEF written in the layout of the UNDP National Carbon Registry's AEF templates.

The registry fills two workbooks (``templates/aef_actions_template.xlsx`` and
``aef_holdings_template.xlsx`` in github.com/undp/undp-national-carbon-registry): sheet ``Actions``
with the heading (Party in B3, reported year in B4), the title ``Table 2: Actions`` in A7, three
header rows (8-10: groups, sub-groups, column labels; record ID, cooperative approach and first
transfer definition merged down over the three) and data from row 11; sheet ``Holdings`` with the
title ``Table3: Holdings`` in A3, header rows 4-6 and data from row 7. carbonlink writes the same
cells and merges, numbers as numbers and dates as dates (shown ``DD-MMM-YY``), from AEF V2 tables:
each row joins its T2 authorization; V1 columns kept in T3 notes on reading are put back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from standards.aef.draft._columns import DRAFT_COLUMNS, LABEL
from standards.aef.draft._rows import NOTE_PREFIX
from standards.aef.draft._vocabulary import VocabularyMap
from standards.aef.tables import NA, TABLES, AefTables, Row
from standards.codec import Loss
from standards.itmo import ItmoId

ACTIONS_SHEET, HOLDINGS_SHEET = "Actions", "Holdings"
#: Group header cells above the column labels: (row offset from the first header row, first column,
#: last column, text); columns are 1-based. Offsets 0 and 1 are the two group rows.
_GROUPS = (
    (0, 3, 14, "ITMO"), (1, 3, 6, "Unique identifier"), (1, 7, 10, "Metric and quantity"),
    (1, 11, 14, "ITMO details"), (1, 15, 18, "Authorization"),
)
_ACTION_GROUPS = ((0, 20, 26, "Actions"), (1, 20, 25, "Action details"))
#: Columns whose label is merged down over the three header rows (record ID, approach, definition).
_TALL = (1, 2, 19)
_V1_NOTES = ("record_id", "conversion_factor", "first_transfer")
_FONT = Font(name="Times New Roman", size=10)
_BOLD = Font(name="Times New Roman", size=10, bold=True)
_DATE_FORMAT, _DATETIME_FORMAT = "dd-mmm-yy", "dd-mmm-yy hh:mm:ss"
#: The V2 fields each template row carries (the rest are reported as not written).
T3_WRITTEN = frozenset({
    "ActionDateTime", "ActionType", "CooperativeApproachID", "AuthorizationID", "FirstTransferringPartyID",
    "PartyITMORegistryID", "FirstID", "LastID", "UnderlyingUnitFirstUnitID", "UnderlyingUnitLastUnitID",
    "Metric", "QuantityCO2", "QuantityNon-GHG", "Vintage", "TransferringPartyID", "AcquiringPartyID",
    "PurposeITMOUsedForOIMP", "Using/cancellingPartyID", "Using/cancellingEntityID",
    "AdditionalExplanatoryInformation"})
T4_WRITTEN = T3_WRITTEN - {"ActionDateTime", "ActionType", "TransferringPartyID", "AcquiringPartyID",
                           "PurposeITMOUsedForOIMP", "Using/cancellingPartyID", "Using/cancellingEntityID",
                           "AdditionalExplanatoryInformation"}
T2_WRITTEN = frozenset({"AuthorizationID", "DateOfAuthorization", "CooperativeApproachID", "Metric", "Sectors",
                        "ActivityType", "PurposeForAuthorization", "OIMPAuthorized", "FirstTransferDefnForOIMP",
                        "AdditionalExplanatoryInformation"})


def write_template(tables: AefTables, *, vocabulary: VocabularyMap | None = None) -> bytes:
    """The ``Actions`` and ``Holdings`` sheets of the UNDP templates in one workbook (a sheet for
    each table that has rows; ``Actions`` with its heading even when empty)."""
    workbook = Workbook()
    actions = workbook.active
    actions.title = ACTIONS_SHEET
    writer = _RowWriter(tables, vocabulary)
    _actions_sheet(actions, tables, writer)
    if tables.rows["T4"]:
        _holdings_sheet(workbook.create_sheet(HOLDINGS_SHEET), tables, writer)
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def _actions_sheet(sheet: Any, tables: AefTables, writer: _RowWriter) -> None:
    submission = tables.submission or {}
    _put(sheet, 2, 1, "Table 1: Heading", bold=True)
    _put(sheet, 3, 1, "Party")
    _put(sheet, 3, 2, submission.get("ParticipatingParty"))
    _put(sheet, 4, 1, "Reported year")
    _put(sheet, 4, 2, submission.get("ReportedYear"))
    _put(sheet, 5, 1, "The annual period from 1 January to 31 December during which actions occurred.")
    _put(sheet, 7, 1, "Table 2: Actions", bold=True)
    _header(sheet, 8, len(DRAFT_COLUMNS), _GROUPS + _ACTION_GROUPS)
    _rows(sheet, 11, (writer.action(row) for row in tables.rows["T3"]))


def _holdings_sheet(sheet: Any, tables: AefTables, writer: _RowWriter) -> None:
    _put(sheet, 3, 1, "Table3: Holdings", bold=True)
    _header(sheet, 4, 19, _GROUPS)
    _rows(sheet, 7, (writer.holding(row) for row in tables.rows["T4"]))


def _header(sheet: Any, top: int, width: int, groups: Iterable[tuple[int, int, int, str]]) -> None:
    for offset, first, last, text in groups:
        _put(sheet, top + offset, first, text, bold=True)
        sheet.merge_cells(start_row=top + offset, start_column=first, end_row=top + offset, end_column=last)
    for column, (_key, label) in enumerate(DRAFT_COLUMNS[:width], start=1):
        row = top if column in _TALL else top + 2
        _put(sheet, row, column, label, bold=True)
        if column in _TALL:
            sheet.merge_cells(start_row=top, start_column=column, end_row=top + 2, end_column=column)


def _rows(sheet: Any, start: int, rows: Iterable[list[Any]]) -> None:
    for number, values in enumerate(rows, start=start):
        for column, value in enumerate(values, start=1):
            _put(sheet, number, column, value)


def _put(sheet: Any, row: int, column: int, value: Any, *, bold: bool = False) -> None:
    if value is None:
        return
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, datetime):
        utc = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        cell.value = utc.date() if utc.time() == time() else utc
        cell.number_format = _DATE_FORMAT if utc.time() == time() else _DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = _DATE_FORMAT
    else:
        cell.value = value
    cell.font = _BOLD if bold else _FONT
    cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")


class _RowWriter:
    """One T3 or T4 row as the template's cells, joined with its T2 authorization."""

    def __init__(self, tables: AefTables, vocabulary: VocabularyMap | None) -> None:
        self.vocabulary = vocabulary
        self.authorizations: dict[tuple[Any, Any], Row] = {}
        for row in tables.rows["T2"]:
            self.authorizations.setdefault((row.get("AuthorizationID"), row.get("CooperativeApproachID")), row)

    def holding(self, row: Row) -> list[Any]:
        return [self._cells(row, {})[key] for key, _label in DRAFT_COLUMNS[:19]]

    def action(self, row: Row) -> list[Any]:
        notes = v1_notes(row.get("AdditionalExplanatoryInformation"))
        cells = self._cells(row, notes)
        party, entity = row.get("Using/cancellingPartyID"), row.get("Using/cancellingEntityID")
        cells.update({
            "action_date": row.get("ActionDateTime"), "action_type": row.get("ActionType"),
            "transferring_party": row.get("TransferringPartyID"), "acquiring_party": row.get("AcquiringPartyID"),
            "cancellation_purpose": row.get("PurposeITMOUsedForOIMP"),
            "using": party if party not in (None, NA) or entity in (None, NA) else entity,
            "first_transfer": notes.get("first_transfer"),
        })
        return [cells[key] for key, _label in DRAFT_COLUMNS]

    def _cells(self, row: Row, notes: dict[str, str]) -> dict[str, Any]:
        auth = self.authorizations.get((row.get("AuthorizationID"), row.get("CooperativeApproachID")), {})
        ca_note = v1_notes(auth.get("AdditionalExplanatoryInformation"), cooperative_approach=True)
        word = self.vocabulary.write if self.vocabulary is not None else (lambda _cn, value: value)
        return {
            "record_id": _number_or_text(notes.get("record_id")),
            "cooperative_approach": ca_note.get("cooperative_approach", row.get("CooperativeApproachID")),
            "first_uid": _uid(row, "FirstID"), "last_uid": _uid(row, "LastID"),
            "unit_first": row.get("UnderlyingUnitFirstUnitID"), "unit_last": row.get("UnderlyingUnitLastUnitID"),
            "metric": row.get("Metric"), "quantity_metric": row.get("QuantityNon-GHG"),
            "quantity_co2": row.get("QuantityCO2"),
            "conversion_factor": _number_or_text(notes.get("conversion_factor")),
            "first_transferring_party": row.get("FirstTransferringPartyID"), "vintage": row.get("Vintage"),
            "sectors": word("Sectors", auth.get("Sectors")),
            "activity_types": word("ActivityType", auth.get("ActivityType")),
            "authorization_date": auth.get("DateOfAuthorization"), "authorization_id": row.get("AuthorizationID"),
            "purposes": word("PurposeForAuthorization", auth.get("PurposeForAuthorization")),
            "oimp_authorized": auth.get("OIMPAuthorized"),
            "first_transfer_definition": auth.get("FirstTransferDefnForOIMP"),
        }


def _uid(row: Row, cn: str) -> Any:
    """The full ITMO identifier (``CA0001-CHE01-GHA-1000-2023``) where every part is known."""
    parts = (row.get("CooperativeApproachID"), row.get("PartyITMORegistryID"), row.get("FirstTransferringPartyID"))
    serial, vintage = row.get(cn), row.get("Vintage")
    if all(isinstance(p, str) for p in parts) and isinstance(serial, int) and isinstance(vintage, int):
        return str(ItmoId(*parts, serial, vintage))  # type: ignore[arg-type]
    return serial


def _number_or_text(text: str | None) -> Any:
    """A kept V1 value back as the number it was, where it is one."""
    if text is None:
        return None
    try:
        number = Decimal(text.replace(",", ""))
    except ArithmeticError:
        return text
    return int(number) if number == number.to_integral_value() and "." not in text else number


def _note_keys(cooperative_approach: bool) -> dict[str, str]:
    if cooperative_approach:
        return {"cooperative approach": "cooperative_approach"}
    return {LABEL[key]: key for key in _V1_NOTES}


def _note_parts(text: Any, cooperative_approach: bool) -> tuple[dict[str, str], list[str]]:
    """A notes field split into the V1 values the draft reader kept there (``AEF V1 <label>: <value>``)
    and the rest."""
    keys = _note_keys(cooperative_approach)
    kept: dict[str, str] = {}
    rest: list[str] = []
    for part in text.split("; ") if isinstance(text, str) else ():
        label, _, value = part.removeprefix(NOTE_PREFIX).partition(": ")
        if part.startswith(NOTE_PREFIX) and label in keys:
            kept[keys[label]] = value
        else:
            rest.append(part)
    return kept, rest


def v1_notes(text: Any, *, cooperative_approach: bool = False) -> dict[str, str]:
    """The V1 values the draft reader kept in a notes field."""
    return _note_parts(text, cooperative_approach)[0]


def other_notes(text: Any, *, cooperative_approach: bool = False) -> str | None:
    """What a notes field holds besides the kept V1 values (the template has no column for it)."""
    return "; ".join(_note_parts(text, cooperative_approach)[1]) or None


def template_losses(tables: AefTables) -> list[Loss]:
    """The AEF V2 values the template has no column for, by field (each with the rows that hold one)."""
    found: dict[str, list[str]] = {}

    def note(field: str, where: str) -> None:
        found.setdefault(field, []).append(where)

    submission = tables.submission or {}
    for cn, value in submission.items():
        if cn not in ("ParticipatingParty", "ReportedYear") and not _blank(value):
            note(f"Submission.{cn}", "Submission")
    for table_id, written in (("T2", T2_WRITTEN), ("T3", T3_WRITTEN), ("T4", T4_WRITTEN)):
        key = TABLES[table_id].key
        for index, row in enumerate(tables.rows[table_id]):
            for cn, value in row.items():
                if cn not in written and not _blank(value):
                    note(f"{key}.{cn}", f"{key}[{index}]")
            extra = other_notes(row.get("AdditionalExplanatoryInformation"), cooperative_approach=table_id == "T2")
            if extra is not None and table_id != "T4":
                note(f"{key}.AdditionalExplanatoryInformation", f"{key}[{index}]")
    for index, _row in enumerate(tables.rows["T5"]):
        note(f"{TABLES['T5'].key}", f"{TABLES['T5'].key}[{index}]")
    return [Loss(field, tuple(rows), "the UNDP AEF templates (draft AEF layout) have no column for it")
            for field, rows in sorted(found.items())]


def _blank(value: Any) -> bool:
    return value is None or value == NA or (isinstance(value, str) and not value.strip())


def template_fields() -> frozenset[tuple[str, str]]:
    """The (table key, CN name) pairs the templates carry, e.g. ("Actions", "Metric")."""
    pairs = {(TABLES["T1"].key, "ParticipatingParty"), (TABLES["T1"].key, "ReportedYear")}
    for table_id, written in (("T2", T2_WRITTEN), ("T3", T3_WRITTEN), ("T4", T4_WRITTEN)):
        pairs.update((TABLES[table_id].key, cn) for cn in written)
    return frozenset(pairs)

"""The draft AEF (version 1) of decision 6/CMA.4, annex VII, read into AEF V2 tables.

The draft has a heading (Party, Reported year) and two wide tables, Actions (columns A-Z)
and Holdings (A-S), one row per ITMO block with the authorization repeated on every row.
:func:`read_draft` turns each row into a T2 authorization (identical ones de-duplicated by
Authorization ID) plus a T3 action or T4 holding, parsing the full ITMO unique identifiers
of columns C/D (``CA0001-CHE01-GHA-1000-2023``) into FirstID/LastID, the cooperative
approach, the Party ITMO registry, the first transferring Party and the vintage.

V1 columns with no V2 field (Article 6 database record ID, conversion factor, "First
transfer") are kept in T3 ``AdditionalExplanatoryInformation``; T4 has no such field, so
they are lost for holdings (see docs/aef-media.md). V2 fields V1 lacks stay ``None``.
Read-only: nothing writes the draft format.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter

from standards.aef.cells import draft_header_key, header_key, is_blank_row, normalize_native
from standards.aef.tables import NA, TABLES, AefTables, Row, RowOrigin
from standards.codec import Medium
from standards.errors import MalformedInput
from standards.itmo import COOPERATIVE_APPROACH_RE, InvalidItmoId, ItmoId
from standards.parties import UnknownParty, to_alpha3
from standards.tabular import is_zip, iter_sheet_rows, read_csv_records, read_workbook, unpack_csv_archive

REFERENCE = "decision 6/CMA.4, annex VII (draft AEF)"

#: Draft column keys in template order (A ... Z) with their header text.
DRAFT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("record_id", "Article 6 database record ID"),
    ("cooperative_approach", "Cooperative approach"),
    ("first_uid", "First unique identifier"),
    ("last_uid", "Last unique identifier"),
    ("unit_first", "Underlying unit block start ID"),
    ("unit_last", "Underlying unit block last ID"),
    ("metric", "Metric"),
    ("quantity_metric", "Quantity (expressed in metric)"),
    ("quantity_co2", "Quantity (t CO2 eq)"),
    ("conversion_factor", "Conversion factor (reporting Party)"),
    ("first_transferring_party", "First transferring participating Party"),
    ("vintage", "Vintage"),
    ("sectors", "Sector(s)"),
    ("activity_types", "Activity type(s)"),
    ("authorization_date", "Date of authorization"),
    ("authorization_id", "Authorization ID"),
    ("purposes", "Purposes for authorization"),
    ("oimp_authorized", "OIMP authorized by the Party"),
    ("first_transfer_definition", "First transfer definition"),
    ("action_date", "Action date"),
    ("action_type", "Action type"),
    ("transferring_party", "Transferring participating Party"),
    ("acquiring_party", "Acquiring participating Party"),
    ("cancellation_purpose", "Purposes for cancellation"),
    ("using", "Using participating Party or authorized entity or entities"),
    ("first_transfer", "First transfer"),
)
HOLDINGS_COLUMNS = tuple(key for key, _ in DRAFT_COLUMNS[:19])
ACTIONS_COLUMNS = tuple(key for key, _ in DRAFT_COLUMNS)
_BY_HEADER = {draft_header_key(text): key for key, text in DRAFT_COLUMNS}
_LABEL = dict(DRAFT_COLUMNS)
_HEADING = {"party": "ParticipatingParty", "reported year": "ReportedYear"}
HEADER_SEARCH_ROWS = 30


class DraftHeaderError(MalformedInput):
    code = "AEF.DRAFT_HEADER"


@dataclass
class _Source:
    """One sheet or CSV file: its rows as (number, cells) and how to name a place in it."""

    name: str
    rows: Iterator[tuple[int, tuple[Any, ...]]]
    is_sheet: bool

    def place(self, number: int, position: int | None = None) -> str:
        if self.is_sheet:
            cell = f"{get_column_letter(position + 1)}{number}" if position is not None else f"row {number}"
            return f"sheet {self.name!r} {cell}"
        return f"{self.name} line {number}" + (f" column {position + 1}" if position is not None else "")


@dataclass
class _State:
    tables: AefTables = field(default_factory=AefTables)
    heading: dict[str, tuple[Any, str]] = field(default_factory=dict)
    authorizations: dict[object, list[int]] = field(default_factory=dict)
    data_sources: int = 0


def read_draft(data: bytes, medium: Medium, *, authorization_version: int | None = None) -> AefTables:
    """Read a draft AEF (V1) workbook or CSV (or zip of CSVs) into AEF V2 tables.

    ``authorization_version`` fills T2 ``AuthorizationVersion``, which V1 does not carry
    (default: left empty for validation to report).
    """
    state = _State()
    if medium is Medium.XLSX:
        workbook = read_workbook(data, what="draft AEF workbook")
        try:
            for sheet in workbook.worksheets:
                _read_source(_Source(sheet.title, iter_sheet_rows(sheet, what="draft AEF workbook"), True),
                             state, authorization_version)
        finally:
            workbook.close()
    elif medium is Medium.CSV:
        files = unpack_csv_archive(data) if is_zip(data) else [("CSV file", data)]
        for name, content in files:
            records = read_csv_records(content, what=name)
            rows = ((r.line, tuple(r.cells)) for r in records)
            _read_source(_Source(name, rows, False), state, authorization_version)
    else:
        raise MalformedInput(f"the draft AEF is read from XLSX or CSV, not {medium.value}",
                             code="AEF.DRAFT_MEDIUM")
    if state.data_sources == 0:
        raise DraftHeaderError("no Actions or Holdings table of the draft AEF found: no row has the headers "
                               "'First unique identifier' and 'Last unique identifier' "
                               f"in its first {HEADER_SEARCH_ROWS} rows")
    if state.heading:
        submission: Row = {f.cn: None for f in TABLES["T1"].fields}
        for cn, (value, _place) in state.heading.items():
            submission[cn] = value
        state.tables.submission = submission
    return state.tables


def _read_source(source: _Source, state: _State, authorization_version: int | None) -> None:
    columns: dict[int, str] | None = None
    for number, cells in source.rows:
        if columns is None:
            columns = _header(cells, source, number)
            if columns is None:
                _heading(cells, source, number, state)
                if number >= HEADER_SEARCH_ROWS:
                    return
            else:
                state.data_sources += 1
            continue
        if is_blank_row(cells):
            continue
        stray = next((p for p in range(len(cells)) if p not in columns and not is_blank_row((cells[p],))), None)
        if stray is not None:
            raise DraftHeaderError(f"{source.place(number, stray)} has a value in a column without a header; "
                                   "name the column or empty it")
        values = {key: cells[position] if position < len(cells) else None for position, key in columns.items()}
        position_of = {key: position + 1 for position, key in columns.items()}
        _convert(values, position_of, source, number, state, authorization_version)


def _header(cells: tuple[Any, ...], source: _Source, number: int) -> dict[int, str] | None:
    keys = [draft_header_key(c) if isinstance(c, str) else "" for c in cells]
    if "first unique identifier" not in keys or "last unique identifier" not in keys:
        return None
    columns: dict[int, str] = {}
    unknown: list[str] = []
    for position, key in enumerate(keys):
        if not key:
            continue
        column = _BY_HEADER.get(key)
        if column is None or column in columns.values():
            unknown.append(f"{source.place(number, position)} {str(cells[position]).strip()!r}")
        else:
            columns[position] = column
    expected = ACTIONS_COLUMNS if "action_type" in columns.values() or "action_date" in columns.values() \
        else HOLDINGS_COLUMNS
    missing = [_LABEL[k] for k in expected if k not in columns.values()]
    if unknown or missing:
        parts = []
        if unknown:
            parts.append("unknown or repeated column(s) " + ", ".join(unknown))
        if missing:
            parts.append("missing column(s) " + ", ".join(map(repr, missing)))
        kind = "Actions" if expected is ACTIONS_COLUMNS else "Holdings"
        raise DraftHeaderError(f"{source.place(number)}: draft AEF {kind} header has " + "; ".join(parts))
    return columns


def _heading(cells: tuple[Any, ...], source: _Source, number: int, state: _State) -> None:
    """Pick up ``Party`` / ``Reported year`` followed (on the same row) by their value."""
    for position, cell in enumerate(cells):
        if not isinstance(cell, str):
            continue
        cn = _HEADING.get(header_key(cell).rstrip(":").strip())
        if cn is None:
            continue
        value = next((v for v in cells[position + 1:] if v is not None and str(v).strip()), None)
        if value is None:
            continue
        spec = TABLES["T1"].by_cn[cn]
        parsed = _party(value) if cn == "ParticipatingParty" else normalize_native(spec, value)
        place = source.place(number, position + 1)
        previous = state.heading.get(cn)
        if previous is not None and previous[0] != parsed:
            raise MalformedInput(f"draft AEF heading {spec.label!r} is {previous[0]!r} at {previous[1]} but "
                                 f"{parsed!r} at {place}", code="AEF.DRAFT_HEADING")
        state.heading[cn] = (parsed, place)


def _party(value: Any) -> Any:
    """A Party code as alpha-3 when the text names a country; otherwise the value as given."""
    if not isinstance(value, str) or not value.strip() or value.strip().upper() == NA:
        return value
    try:
        return to_alpha3(value)[0]
    except UnknownParty:
        return value


def _party_or_entity(value: Any) -> tuple[Any, Any]:
    """Column Y names a Party or an authorized entity: ``(party, entity)``, ``NA`` in both if NA."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, str) and value.strip().upper() == NA:
        return NA, NA
    if isinstance(value, str):
        try:
            return to_alpha3(value)[0], None
        except UnknownParty:
            pass
    return None, value


def _uid(value: Any) -> tuple[ItmoId | None, Any]:
    """A full ITMO identifier parsed, or the serial alone when the cell holds a bare number."""
    if isinstance(value, str):
        try:
            return ItmoId.parse(value), None
        except InvalidItmoId:
            text = value.strip()
            return None, int(text) if text.isdigit() else value
    if isinstance(value, float) and value.is_integer():
        return None, int(value)
    return None, value


def _convert(values: dict[str, Any], position_of: dict[str, int], source: _Source, number: int,
             state: _State, authorization_version: int | None) -> None:
    tables = state.tables
    is_action = "action_type" in values
    table_id = "T3" if is_action else "T4"
    spec = TABLES[table_id].by_cn
    first, first_serial = _uid(values["first_uid"])
    last, last_serial = _uid(values["last_uid"])
    series = first or last

    ca_given = values["cooperative_approach"]
    ca_text = str(ca_given).strip() if ca_given is not None else ""
    if COOPERATIVE_APPROACH_RE.match(ca_text):
        cooperative_approach: Any = ca_text
    elif series is not None:
        cooperative_approach = series.cooperative_approach
    else:
        cooperative_approach = ca_given
    notes: list[str] = []
    ca_note = (f"AEF V1 cooperative approach: {ca_text}"
               if ca_text and cooperative_approach != ca_text else None)

    vintage = normalize_native(spec["Vintage"], values["vintage"])
    if vintage is None and series is not None:
        vintage = series.vintage
    first_party = series.first_transferring_party if series is not None else _party(
        values["first_transferring_party"])

    record: Row = {f.cn: None for f in TABLES[table_id].fields}
    record.update({
        "CooperativeApproachID": cooperative_approach,
        "AuthorizationID": normalize_native(spec["AuthorizationID"], values["authorization_id"]),
        "FirstTransferringPartyID": first_party,
        "PartyITMORegistryID": series.registry if series is not None else None,
        "FirstID": first.serial if first is not None else first_serial,
        "LastID": last.serial if last is not None else last_serial,
        "UnderlyingUnitFirstUnitID": normalize_native(spec["UnderlyingUnitFirstUnitID"], values["unit_first"]),
        "UnderlyingUnitLastUnitID": normalize_native(spec["UnderlyingUnitLastUnitID"], values["unit_last"]),
        "Metric": normalize_native(spec["Metric"], values["metric"]),
        "QuantityCO2": normalize_native(spec["QuantityCO2"], values["quantity_co2"]),
        "QuantityNon-GHG": normalize_native(spec["QuantityNon-GHG"], values["quantity_metric"]),
        "Vintage": vintage,
    })
    for key in ("record_id", "conversion_factor", "first_transfer"):
        value = values.get(key)
        if value is not None and str(value).strip():
            notes.append(f"AEF V1 {_LABEL[key]}: {str(value).strip()}")
    if is_action:
        using = values["using"]
        using_party, using_entity = _party_or_entity(using)
        record.update({
            "ActionDateTime": normalize_native(spec["ActionDateTime"], values["action_date"]),
            "ActionType": normalize_native(spec["ActionType"], values["action_type"]),
            "TransferringPartyID": _party(values["transferring_party"]),
            "AcquiringPartyID": _party(values["acquiring_party"]),
            "PurposeITMOUsedForOIMP": normalize_native(spec["PurposeITMOUsedForOIMP"],
                                                       values["cancellation_purpose"]),
            "Using/cancellingPartyID": using_party,
            "Using/cancellingEntityID": normalize_native(spec["Using/cancellingEntityID"], using_entity),
            "AdditionalExplanatoryInformation": "; ".join(notes) or None,
        })
    origin_columns = _origin_columns(table_id, position_of)
    rows = tables.rows[table_id]
    tables.origins[(table_id, len(rows))] = _origin(source, number, origin_columns)
    rows.append(record)
    _authorization(values, position_of, source, number, state, cooperative_approach, ca_note,
                   authorization_version)


_T3_SOURCES = {
    "ActionDateTime": ("action_date",), "ActionType": ("action_type",),
    "CooperativeApproachID": ("cooperative_approach",), "AuthorizationID": ("authorization_id",),
    "FirstTransferringPartyID": ("first_uid", "first_transferring_party"), "PartyITMORegistryID": ("first_uid",),
    "FirstID": ("first_uid",), "LastID": ("last_uid",), "UnderlyingUnitFirstUnitID": ("unit_first",),
    "UnderlyingUnitLastUnitID": ("unit_last",), "Metric": ("metric",), "QuantityCO2": ("quantity_co2",),
    "QuantityNon-GHG": ("quantity_metric",), "Vintage": ("vintage",),
    "TransferringPartyID": ("transferring_party",), "AcquiringPartyID": ("acquiring_party",),
    "PurposeITMOUsedForOIMP": ("cancellation_purpose",), "Using/cancellingPartyID": ("using",),
    "Using/cancellingEntityID": ("using",), "AdditionalExplanatoryInformation": ("record_id",),
}
_T2_SOURCES = {
    "AuthorizationID": ("authorization_id",), "DateOfAuthorization": ("authorization_date",),
    "CooperativeApproachID": ("cooperative_approach",), "Metric": ("metric",), "Sectors": ("sectors",),
    "ActivityType": ("activity_types",), "PurposeForAuthorization": ("purposes",),
    "OIMPAuthorized": ("oimp_authorized",), "FirstTransferDefnForOIMP": ("first_transfer_definition",),
}


def _origin_columns(table_id: str, position_of: dict[str, int]) -> tuple[tuple[str, int], ...]:
    sources = _T2_SOURCES if table_id == "T2" else _T3_SOURCES
    known = TABLES[table_id].by_cn
    out = []
    for cn, keys in sources.items():
        if cn not in known:
            continue
        column = next((position_of[k] for k in keys if k in position_of), None)
        if column is not None:
            out.append((cn, column))
    return tuple(out)


def _origin(source: _Source, number: int, columns: tuple[tuple[str, int], ...]) -> RowOrigin:
    if source.is_sheet:
        return RowOrigin(sheet=source.name, row=number, columns=columns)
    return RowOrigin(line=number, columns=columns)


def _authorization(values: dict[str, Any], position_of: dict[str, int], source: _Source, number: int,
                   state: _State, cooperative_approach: Any, ca_note: str | None,
                   authorization_version: int | None) -> None:
    spec = TABLES["T2"].by_cn
    authorization: Row = {f.cn: None for f in TABLES["T2"].fields}
    authorization.update({
        "AuthorizationID": normalize_native(spec["AuthorizationID"], values["authorization_id"]),
        "DateOfAuthorization": normalize_native(spec["DateOfAuthorization"], values["authorization_date"]),
        "CooperativeApproachID": cooperative_approach,
        "AuthorizationVersion": authorization_version,
        "Metric": normalize_native(spec["Metric"], values["metric"]),
        "Sectors": normalize_native(spec["Sectors"], values["sectors"]),
        "ActivityType": normalize_native(spec["ActivityType"], values["activity_types"]),
        "PurposeForAuthorization": normalize_native(spec["PurposeForAuthorization"], values["purposes"]),
        "OIMPAuthorized": normalize_native(spec["OIMPAuthorized"], values["oimp_authorized"]),
        "FirstTransferDefnForOIMP": normalize_native(spec["FirstTransferDefnForOIMP"],
                                                     values["first_transfer_definition"]),
        "AdditionalExplanatoryInformation": ca_note,
    })
    key = authorization["AuthorizationID"]
    rows = state.tables.rows["T2"]
    same_id = state.authorizations.setdefault(_hashable(key), [])
    if any(rows[i] == authorization for i in same_id):
        return
    # a row whose authorization differs from an earlier one with the same ID is kept as its own
    # T2 row, so validation reports the duplicate ID with both places
    same_id.append(len(rows))
    state.tables.origins[("T2", len(rows))] = _origin(source, number, _origin_columns("T2", position_of))
    rows.append(authorization)


def _hashable(value: Any) -> object:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value

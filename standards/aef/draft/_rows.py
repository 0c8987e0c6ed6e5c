"""One draft row into a T3 action or T4 holding, plus its T2 authorization (de-duplicated)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from openpyxl.utils import get_column_letter

from standards.aef.cells import normalize_native
from standards.aef.draft._columns import LABEL
from standards.aef.tables import NA, TABLES, AefTables, Row, RowOrigin
from standards.itmo import COOPERATIVE_APPROACH_RE, InvalidItmoId, ItmoId
from standards.parties import UnknownParty, to_alpha3


@dataclass
class Source:
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
class ReadState:
    tables: AefTables = field(default_factory=AefTables)
    heading: dict[str, tuple[Any, str]] = field(default_factory=dict)
    authorizations: dict[object, list[int]] = field(default_factory=dict)
    data_sources: int = 0


def party_code(value: Any) -> Any:
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


#: How the V1 columns AEF V2 has no field for are kept in T3 ``AdditionalExplanatoryInformation``.
NOTE_PREFIX = "AEF V1 "
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DD_MMM_YY = re.compile(r"^\s*(\d{1,2})-([A-Za-z]{3})-(\d{2}|\d{4})\s*$")


def template_date(value: Any) -> Any:
    """``DD-MMM-YY`` text (as the UNDP registry fills its templates; a two-digit year is 20YY) as a
    date; anything else as given."""
    m = _DD_MMM_YY.match(value) if isinstance(value, str) else None
    if m is None or m[2].casefold() not in _MONTHS:
        return value
    year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
    try:
        return date(year, _MONTHS.index(m[2].casefold()) + 1, int(m[1]))
    except ValueError:
        return value


def _note_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


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


def convert_row(values: dict[str, Any], position_of: dict[str, int], source: Source, number: int,
             state: ReadState, authorization_version: int | None) -> None:
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
    first_party = series.first_transferring_party if series is not None else party_code(
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
            if is_action:
                notes.append(f"{NOTE_PREFIX}{LABEL[key]}: {_note_text(value)}")
            elif _note_text(value).upper() != NA:  # T4 has no field to keep it in ("NA" loses nothing)
                tables.lost.append(("T4", len(tables.rows["T4"]), LABEL[key], _note_text(value)))
    if is_action:
        using = values["using"]
        using_party, using_entity = _party_or_entity(using)
        record.update({
            "ActionDateTime": normalize_native(spec["ActionDateTime"], template_date(values["action_date"])),
            "ActionType": normalize_native(spec["ActionType"], values["action_type"]),
            "TransferringPartyID": party_code(values["transferring_party"]),
            "AcquiringPartyID": party_code(values["acquiring_party"]),
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


def _origin(source: Source, number: int, columns: tuple[tuple[str, int], ...]) -> RowOrigin:
    if source.is_sheet:
        return RowOrigin(sheet=source.name, row=number, columns=columns)
    return RowOrigin(line=number, columns=columns)


def _authorization(values: dict[str, Any], position_of: dict[str, int], source: Source, number: int,
                   state: ReadState, cooperative_approach: Any, ca_note: str | None,
                   authorization_version: int | None) -> None:
    spec = TABLES["T2"].by_cn
    authorization: Row = {f.cn: None for f in TABLES["T2"].fields}
    authorization.update({
        "AuthorizationID": normalize_native(spec["AuthorizationID"], values["authorization_id"]),
        "DateOfAuthorization": normalize_native(spec["DateOfAuthorization"],
                                                template_date(values["authorization_date"])),
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

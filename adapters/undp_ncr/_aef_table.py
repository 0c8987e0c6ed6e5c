"""The AEF actions table of the registry's export: its columns, codes, and cell readers and writers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from adapters.undp_ncr._rules import R_AEF_VALUE, R_PARTY
from adapters.undp_ncr._values import _Bad, _serial
from standards import (
    Action,
    ActionType,
    CsvRecord,
    UnknownParty,
    XlsxWriter,
    iter_sheet_rows,
    to_alpha3,
)
from standards.serials import Serial

# ------------------------------------------------------------------------------------ AEF export (CSV)

#: The AEF actions export: (column label as the registry's i18n file writes it, the registry's key).
AEF_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Article 6 database record ID", "article6RecordId"),
    ("Cooperative approach", "cooperativeApproach"),
    ("First unique identifier", "firstUniqueIdentifier"),
    ("Last unique identifier", "lastUniqueIdentifier"),
    ("Underlying unit block start ID", "creditBlockStartId"),
    ("Underlying unit block last ID", "creditBlockEndId"),
    ("Metric", "metric"),
    ("Quantity (expressed in metric)", "quantityInMetric"),
    ("Quantity (t CO2 eq)", "creditAmount"),
    ("Conversion factor (reporting Party)", "conversionFactor"),
    ("First transferring participating Party", "firstTransferingParty"),
    ("Vintage", "vintage"),
    ("Sector(s)", "sector"),
    ("Activity type(s)", "sectoralScope"),
    ("Date of authorization", "projectAuthorizationTime"),
    ("Authorization ID", "authorizationId"),
    ("Purposes for authorization", "purposeForAuthorization"),
    ("OIMP authorized by the Party", "oimp"),
    ("First transfer definition", "firstTransferDefinition"),
    ("Action date", "actionTime"),
    ("Action type", "actionType"),
    ("Transferring participating Party", "transferingParty"),
    ("Acquiring participating Party", "aquiringParty"),
    ("Purposes for cancellation", "purposeForCancellation"),
    ("Using participating Party or authorized entity or entities", "actionBy"),
    ("First transfer", "firstTransfer"),
)


AEF_REQUIRED = ("creditBlockStartId", "creditBlockEndId", "creditAmount", "actionTime", "actionType")


#: The registry's stored action types, and the canonical action each one is.
AEF_ACTION_TYPES: dict[str, ActionType] = {
    "authorization": ActionType.AUTHORIZATION,
    "transfer": ActionType.TRANSFER,
    "retire": ActionType.VOLUNTARY_CANCELLATION,
    "crossboardertransfer": ActionType.TRANSFER,
}


_AEF_WRITE_TYPES = {ActionType.AUTHORIZATION: "authorization", ActionType.TRANSFER: "transfer",
                    ActionType.VOLUNTARY_CANCELLATION: "retire", ActionType.RETIREMENT: "retire"}


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


_DMY_TEXT = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{2}|\d{4})")


_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?")


_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


_NA = ("", "NA", "N/A")


_SPACES = re.compile(r"\s+")


def _header_key(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


_AEF_BY_HEADER = {_header_key(label): key for label, key in AEF_COLUMNS} | {
    _header_key(key): key for _label, key in AEF_COLUMNS}


_AEF_LABEL = dict((key, label) for label, key in AEF_COLUMNS)


def _aef_date(text: str, key: str) -> date:
    """``DD-MMM-YY`` (the registry's templates), ISO ``YYYY-MM-DD`` or ``DD/MM/YYYY``."""
    value = text.strip()
    try:
        if m := _DMY_TEXT.fullmatch(value):
            month = _MONTHS.index(m[2].casefold()) + 1
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            return date(year, month, int(m[1]))
        if m := _ISO.fullmatch(value):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _DMY.fullmatch(value):
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        pass
    raise _Bad(R_AEF_VALUE, key, f"{_AEF_LABEL[key]} is {text!r}, which is not a date (DD-MMM-YY, YYYY-MM-DD or "
                                 "DD/MM/YYYY)")


def _aef_party(text: str, key: str) -> str | None:
    if text.strip() in _NA:
        return None
    try:
        return to_alpha3(text)[0]
    except UnknownParty as exc:
        raise _Bad(R_PARTY, key, f"{_AEF_LABEL[key]} is {text!r}, which is no known Party") from exc


def _aef_unit(text: str, key: str) -> tuple[int, Serial | None]:
    """A block start/end cell: a unit number, or a UNDP unit serial (``prefix-N-N-vintage``)."""
    value = text.strip().replace(",", "")
    if value.isdigit() and int(value) >= 1:
        return int(value), None
    info = _serial(text.strip(), key)
    return (info.serial.first if key == "creditBlockStartId" else info.serial.last), info.serial


def _cell_text(value: Any) -> str:
    """A workbook cell as the export's text: dates as ISO dates, whole numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return (value.date() if isinstance(value, datetime) else value).isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
        return str(int(number)) if number == number.to_integral_value() else format(number.normalize(), "f")
    return str(value)


def _merged_down(texts: tuple[str, ...], above: list[tuple[str, ...]]) -> tuple[str, ...]:
    """A header row with each blank cell given the column label right above it: the registry's template
    merges the record ID, cooperative approach and first transfer definition labels down over its two
    group rows (``ITMO``, ``Actions``; group labels are not column labels and are not taken)."""
    width = max([len(texts), *map(len, above)])
    filled = list(texts) + [""] * (width - len(texts))
    for position, text in enumerate(filled):
        if text:
            continue
        for row in above:
            label = row[position] if position < len(row) else ""
            if label:
                filled[position] = label if _header_key(label) in _AEF_BY_HEADER else ""
                break
    return tuple(filled)


def _sheet_table(sheet: Any) -> list[CsvRecord] | None:
    """The export table of a sheet (header row first), or None when the sheet has none."""
    rows = iter(iter_sheet_rows(sheet, what="UNDP AEF export"))
    above: list[tuple[str, ...]] = []
    for number, values in rows:
        texts = tuple(_cell_text(v).strip() for v in values)
        keys = {_AEF_BY_HEADER.get(_header_key(t)) for t in texts if t}
        if all(k in keys for k in AEF_REQUIRED):
            texts = _merged_down(texts, above)
            width = max(i for i, t in enumerate(texts, start=1) if t)
            table = [CsvRecord(number, texts[:width])]
            for row_number, row in rows:
                cells = tuple(_cell_text(v) for v in row[:width])
                if not any(c.strip() for c in cells):
                    break
                table.append(CsvRecord(row_number, cells + ("",) * (width - len(cells))))
            return table
        above = [texts, *above[:1]]
    return None


def _xlsx_bytes(rows: list[list[str]]) -> bytes:
    writer = XlsxWriter()
    sheet = writer.add_sheet("Actions", rows=len(rows), columns=len(rows[0]))
    for row in rows:
        writer.append(sheet, row)
    return writer.to_bytes()


@dataclass(slots=True)
class _AefRow:
    action: Action
    authorization: Any | None


def _same_text(value: str | None) -> Callable[[str], bool]:
    return lambda old: (None if old.strip() in _NA else old.strip()) == value

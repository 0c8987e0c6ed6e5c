"""The ``undp-ncr`` adapter: the UNDP National Carbon Registry v2 (Article 6 edition) <-> canonical.

Two native shapes are read and written (``docs/adapters/undp-ncr.md`` has the field tables):

* **JSON**, the registry's entities with their own field names: ``creditBlocks``
  (CreditBlocksEntity), ``transactions`` (CreditTransactionsEntity) and ``projects``
  (ProjectEntity), in one object; a bare list of such records, or ``{"data": [...]}``, is also
  read (record kinds are told apart by their identifying fields).
* **CSV**, the registry's AEF actions export (``downloadAefReport``), one row per credit-block
  event with the AEF column labels of the registry's i18n file.

Serials are UNDP v2 ITMO-style block serials (``CA0004-VU-CH-356-3001-5000-2024``) parsed with
:mod:`standards.serials`; their alpha-2 Parties become alpha-3 with :mod:`standards.parties`.
Every native record is also kept whole in ``extra["undp"]``, so a round trip writes back the
native spelling; what the registry cannot hold is found by writing each record, reading it back
and comparing, and is reported as a loss.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from openpyxl.utils import get_column_letter
from pydantic import BaseModel, ValidationError

from adapters._rules import rule_declarer
from adapters._streams import as_binary_stream
from adapters.protocol import ByteStream
from standards import (
    Action,
    ActionType,
    Authorization,
    CanonicalDocument,
    CsvRecord,
    Finding,
    FormatCodec,
    InputTooLarge,
    Layer,
    Location,
    Loss,
    Medium,
    MessageKind,
    Metric,
    ParseResult,
    Project,
    Rule,
    RuleCatalogue,
    SerializeResult,
    Severity,
    UnitBlock,
    UnitStatus,
    UnknownFormat,
    UnknownParty,
    XlsxWriter,
    iter_csv_records,
    iter_sheet_rows,
    json_pointer,
    load_json,
    max_input_bytes,
    read_csv_records,
    read_workbook,
    to_alpha2,
    to_alpha3,
    write_csv_bytes,
)
from standards.serials import InvalidSerial, Serial, build_serial, default_catalogue, parse_serial

STANDARD = "undp-ncr"
SCHEME = "undp-v2"
REF_MODEL = "UNDP National Carbon Registry v2 entities (github.com/undp/undp-national-carbon-registry, entities)"
REF_SERIAL = ("UNDP NCR v2 serial = ITMO ID (github.com/undp/undp-national-carbon-registry, "
              "serial-number-management.service.ts; decision 6/CMA.4, annex I, para 5)")
REF_AEF = "UNDP NCR v2 AEF export (github.com/undp/undp-national-carbon-registry, aef-report-management.service.ts)"
#: The registry's placeholder for an unconfigured first transferring Party (config FIRST_TRANSFERRING_PARTY_ID).
UNCONFIGURED_PARTY = "XX"
#: Deployment settings the registry's data does not carry (see :class:`UndpProfile`).
REGISTRY_SUFFIX_ENV = "CARBONLINK_UNDP_REGISTRY_SUFFIX"
MITIGATION_TYPE_ENV = "CARBONLINK_UNDP_MITIGATION_TYPE"
AUTHORIZATION_VERSION_ENV = "CARBONLINK_UNDP_AUTHORIZATION_VERSION"

RULES = RuleCatalogue(STANDARD)
_E, _W = Severity.ERROR, Severity.WARNING


_rule = rule_declarer(RULES)


R_SHAPE = _rule("UNDP.SHAPE", _E, Layer.STRUCTURE, "The JSON holds UNDP registry records", REF_MODEL)
R_REQUIRED = _rule("UNDP.REQUIRED", _E, Layer.STRUCTURE, "Required entity fields are present", REF_MODEL)
R_TYPE = _rule("UNDP.TYPE", _E, Layer.FIELD, "Fields have the entity's types (numbers, ids, epoch times)",
               REF_MODEL)
R_SERIAL = _rule("UNDP.SERIAL", _E, Layer.FIELD, "Serials are UNDP v2 block serials", REF_SERIAL)
R_SERIAL_QUANTITY = _rule("UNDP.SERIAL_QUANTITY", _E, Layer.FIELD,
                          "A block's credit amount equals its serial range; a transaction does not exceed it",
                          REF_SERIAL)
R_VINTAGE = _rule("UNDP.VINTAGE", _E, Layer.FIELD, "The vintage field agrees with the serial's vintage",
                  REF_SERIAL)
R_PARTY = _rule("UNDP.PARTY", _E, Layer.FIELD, "Parties in serials and countries are ISO 3166-1 codes or names",
                "ISO 3166-1; github.com/undp/undp-national-carbon-registry, serial-number-management.service.ts")
R_PARTY_PLACEHOLDER = _rule("UNDP.PARTY_PLACEHOLDER", _W, Layer.FIELD,
                            "The first transferring Party is configured (not the placeholder XX)",
                            "UNDP NCR v2 config serialNumber.FIRST_TRANSFERRING_PARTY_ID "
                            "(github.com/undp/undp-national-carbon-registry, app-config/configuration.ts)")
R_CODE = _rule("UNDP.CODE", _E, Layer.CODE_LIST,
               "Statuses, transaction and retirement types are the registry's values", REF_MODEL)
R_COUNTRY = _rule("UNDP.COUNTRY", _E, Layer.FIELD, "A cross-border retirement names the acquiring country",
                  "UNDP NCR v2 retireRequest (country and organization required for cross-border)")
R_OVERLAP = _rule("UNDP.BLOCK_OVERLAP", _E, Layer.CROSS_RECORD, "Credit blocks of one series do not overlap",
                  REF_SERIAL)
R_DUPLICATE = _rule("UNDP.DUPLICATE_ID", _E, Layer.CROSS_RECORD, "Record ids are unique", REF_MODEL)
R_COLUMNS = _rule("UNDP.AEF_COLUMNS", _E, Layer.STRUCTURE, "The AEF export has the registry's columns", REF_AEF)
R_AEF_VALUE = _rule("UNDP.AEF_VALUE", _E, Layer.FIELD, "AEF export cells hold valid dates, numbers and ids",
                    REF_AEF)

BLOCK_FIELDS = ("creditBlockId", "txRef", "txData", "txType", "txTime", "transactionRecords",
                "previousOwnerCompanyId", "ownerCompanyId", "projectRefId", "serialNumber", "vintage",
                "creditAmount", "isNotTransferred", "reservedCreditAmount", "createTime")
TRANSACTION_FIELDS = ("id", "type", "senderId", "recieverId", "status", "creditBlockId", "serialNumber", "amount",
                      "projectRefId", "retirementType", "remarks", "country", "organizationName", "createTime")
PROJECT_FIELDS = ("refId", "serialNumber", "title", "companyId", "independentCertifiers", "projectProposalStage",
                  "noObjectionLetterUrl", "letterOfAuthorizationUrl", "sector", "sectoralScope",
                  "projectAuthorizationTime", "authorizationId", "activities", "txType", "txRef", "txTime",
                  "createTime", "updateTime", "creditEst", "creditBalance", "creditRetired", "creditTransferred",
                  "creditIssued", "creditChange")

BLOCK_STATUS = {"Issued": UnitStatus.ISSUED, "Transfered": UnitStatus.HELD, "Retired": UnitStatus.RETIRED}
TRANSACTION_STATUS = {"Completed": None, "Pending": UnitStatus.PENDING, "Rejected": UnitStatus.REJECTED,
                      "Cancelled": UnitStatus.REJECTED}
TRANSACTION_TYPES = ("Issued", "Transfered", "Retired")
CROSS_BORDER = "Cross-Border Transactions"
VOLUNTARY = "Voluntary Cancellations"
#: AEF V2 reports the transferring Party only for acquisitions; UNDP writes its country on every row.
TRANSFER_LIKE = (ActionType.ACQUISITION,)


class _Bad(ValueError):
    """A native value that cannot be read; carries the rule and the JSON pointer tail."""

    def __init__(self, rule: Rule, key: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.key = rule, key


# ------------------------------------------------------------------------------------ value readers

def _text(value: Any, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Bad(R_TYPE, key, f"{key} must be text or a whole number, not {type(value).__name__}")
    return str(value)


def _number(value: Any, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _Bad(R_TYPE, key, f"{key} must be a number, not {type(value).__name__}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _Bad(R_TYPE, key, f"{key} is {value!r}, which is not a number") from None
    if not number.is_finite() or number < 0:
        raise _Bad(R_TYPE, key, f"{key} is {value!r}; a credit amount is a finite number of at least 0")
    return number


def _year(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit() \
            or not 1900 <= int(value) <= 2100:
        raise _Bad(R_TYPE, key, f"{key} is {value!r}, which is not a year between 1900 and 2100")
    return int(value)


def _epoch(value: Any, key: str) -> datetime:
    """Epoch seconds or milliseconds (TypeORM returns bigint columns as text)."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise _Bad(R_TYPE, key, f"{key} is {value!r}, which is not an epoch time in milliseconds")
    number = int(value)
    seconds = number / 1000 if number >= 100_000_000_000 else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise _Bad(R_TYPE, key, f"{key} is {value!r}, which is no date") from None


def _epoch_ms(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def _plain_number(number: Decimal) -> int | str:
    return int(number) if number == number.to_integral_value() else format(number, "f")


# ------------------------------------------------------------------------------------ serial parts

@dataclass(frozen=True, slots=True)
class SerialInfo:
    """A UNDP v2 serial with its Parties in alpha-3."""

    serial: Serial
    originating: str | None
    first_transferring: str | None
    placeholder: bool

    @property
    def cooperative_approach(self) -> str:
        return str(self.serial.part("cooperative_approach"))

    @property
    def project(self) -> str:
        return str(self.serial.part("project"))


def _serial(text: Any, key: str) -> SerialInfo:
    if not isinstance(text, str):
        raise _Bad(R_TYPE, key, f"{key} must be text, not {type(text).__name__}")
    try:
        serial = parse_serial(text.strip(), SCHEME)
    except InvalidSerial as exc:
        raise _Bad(R_SERIAL, key, f"{exc.message} (expected CA####-<party>-<party>-<project>-<first>-<last>"
                                  "-<vintage>, e.g. CA0004-VU-CH-356-3001-5000-2024)") from None
    return _serial_info(serial, key)


def _serial_info(serial: Serial, key: str) -> SerialInfo:
    """Check a parsed UNDP serial's range and convert its alpha-2 Parties."""
    if serial.first < 1 or serial.last < serial.first:
        raise _Bad(R_SERIAL, key, f"serial {serial} has the range {serial.first}-{serial.last}; the first unit "
                                  "must be at least 1 and not after the last")
    parties: list[str | None] = []
    placeholder = False
    for part in ("originating_party", "first_transferring_party"):
        code = str(serial.part(part))
        if code == UNCONFIGURED_PARTY:
            placeholder = True
            parties.append(None)
            continue
        try:
            parties.append(to_alpha3(code)[0])
        except UnknownParty:
            raise _Bad(R_PARTY, key, f"serial {serial}: {code!r} is not an ISO 3166-1 Party code") from None
    return SerialInfo(serial, parties[0], parties[1], placeholder)


# ------------------------------------------------------------------------------------ the adapter

@dataclass(frozen=True, slots=True)
class UndpProfile:
    """What one registry deployment knows but its exports do not say (all unset by default).

    ``registry_suffix``: the two digits of the Party ITMO registry ID (``VUT`` + ``01``);
    ``mitigation_type``: the CN mitigation type of every action (e.g. ``Emission reductions``);
    ``authorization_version``: the version given to authorizations read from the AEF export;
    ``sectors`` / ``activity_types``: the registry's labels -> Common Nomenclature names.
    """

    registry_suffix: str | None = None
    mitigation_type: str | None = None
    authorization_version: int | None = None
    sectors: Mapping[str, str] = field(default_factory=dict)
    activity_types: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.registry_suffix is not None and re.fullmatch(r"\d{2}", self.registry_suffix) is None:
            raise ValueError(f"registry_suffix must be two digits, not {self.registry_suffix!r}")

    @classmethod
    def from_env(cls) -> UndpProfile:
        suffix = os.environ.get(REGISTRY_SUFFIX_ENV) or None
        version = os.environ.get(AUTHORIZATION_VERSION_ENV) or None
        return cls(suffix if suffix and re.fullmatch(r"\d{2}", suffix) else None,
                   os.environ.get(MITIGATION_TYPE_ENV) or None,
                   int(version) if version and version.isdigit() else None)

    def sector(self, native: str | None) -> str | None:
        """The CN sector for the registry's sector label (the label itself when no mapping is set)."""
        return None if native is None else self.sectors.get(native, native)

    def activity_type(self, native: str | None) -> str | None:
        return None if native is None else self.activity_types.get(native, native)

    def registry_id(self, party: str | None) -> str | None:
        return None if self.registry_suffix is None or party is None else party + self.registry_suffix


@dataclass
class _Context:
    """One parse: findings, the project index and the deployment profile."""

    profile: UndpProfile
    findings: list[Finding] = field(default_factory=list)
    authorizations: dict[str, str] = field(default_factory=dict)

    def bad(self, exc: _Bad, pointer: list[str | int], line: int | None = None) -> None:
        self.findings.append(exc.rule.finding(str(exc), Location(pointer=json_pointer([*pointer, exc.key]),
                                                                  line=line)))

    def invalid(self, exc: ValidationError, pointer: list[str | int], line: int | None = None) -> None:
        """A value the canonical model refuses (an empty id, a year out of range)."""
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        self.findings.append(R_TYPE.finding(f"{where}: {first['msg']}", Location(json_pointer(pointer), line=line)))


def _require(record: dict[str, Any], keys: Iterable[str], what: str) -> None:
    for key in keys:
        if record.get(key) is None:
            raise _Bad(R_REQUIRED, key, f"the {what} has no {key}")


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
    except UnknownParty:
        raise _Bad(R_PARTY, key, f"{_AEF_LABEL[key]} is {text!r}, which is no known Party") from None


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


def _sheet_table(sheet: Any) -> list[CsvRecord] | None:
    """The export table of a sheet (header row first), or None when the sheet has none."""
    rows = iter(iter_sheet_rows(sheet, what="UNDP AEF export"))
    for number, values in rows:
        texts = tuple(_cell_text(v).strip() for v in values)
        keys = {_AEF_BY_HEADER.get(_header_key(t)) for t in texts if t}
        if all(k in keys for k in AEF_REQUIRED):
            width = max(i for i, t in enumerate(texts, start=1) if t)
            table = [CsvRecord(number, texts[:width])]
            for row_number, row in rows:
                cells = tuple(_cell_text(v) for v in row[:width])
                if not any(c.strip() for c in cells):
                    break
                table.append(CsvRecord(row_number, cells + ("",) * (width - len(cells))))
            return table
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


class _AefExport:
    """The registry's AEF actions export (CSV): reading, streaming and writing."""

    @property
    def profile(self) -> UndpProfile:
        raise NotImplementedError

    def parse_csv(self, records: Iterable[CsvRecord], *, sheet: str | None = None) -> ParseResult:
        """Rows of the export (CSV records, or a sheet's rows from the header row on) as canonical records."""
        document = CanonicalDocument()
        findings: list[Finding] = []
        seen_authorizations: set[str] = set()
        for item in self._rows(records, findings, sheet=sheet):
            if isinstance(item, Finding):
                findings.append(item)
                continue
            document.actions.append(item.action)
            auth = item.authorization
            if auth is not None and auth.authorization_id not in seen_authorizations:
                seen_authorizations.add(auth.authorization_id)
                document.authorizations.append(auth)
        return _result(document, findings)

    def iter_csv(self, records: Iterable[CsvRecord], *, findings: list[Finding] | None = None) -> Iterator[Action]:
        """Actions from AEF export rows; see :meth:`iter_records` for what ``findings`` changes."""
        from standards import ValidationFailed

        collected: list[Finding] = []
        for item in self._rows(records, collected):
            if isinstance(item, Finding):
                if findings is None:
                    raise ValidationFailed(f"UNDP AEF export: {item.location.render()}: {item.message}",
                                           findings=[item])
                findings.append(item)
                continue
            yield item.action
        if collected and findings is None:
            raise ValidationFailed("UNDP AEF export: " + collected[0].message, findings=collected)
        if findings is not None:
            findings.extend(collected)

    def _rows(self, records: Iterable[CsvRecord], findings: list[Finding], *,
              sheet: str | None = None) -> Iterator[_AefRow | Finding]:
        iterator = iter(records)
        header = next(iterator, None)
        if header is None:
            findings.append(R_COLUMNS.finding("the AEF export is empty", Location(line=1, sheet=sheet)))
            return
        keys = [_AEF_BY_HEADER.get(_header_key(cell)) for cell in header.cells]
        missing = [_AEF_LABEL[k] for k in AEF_REQUIRED if k not in keys]
        if missing:
            findings.append(R_COLUMNS.finding(
                f"the AEF export has no column {', '.join(repr(m) for m in missing)} (its header is: "
                f"{', '.join(header.cells)[:300]})", Location(line=header.line, sheet=sheet)))
            return
        profile = self.profile
        for index, record in enumerate(iterator):
            cells: dict[str, str] = {}
            unknown: dict[str, str] = {}
            for name, key, value in zip(header.cells, keys, record.cells, strict=True):
                if key is None:
                    unknown[name] = value
                else:
                    cells[key] = value
            ctx = _Context(profile)
            try:
                yield self.aef_row(cells, unknown, profile)
                continue
            except _Bad as exc:
                ctx.bad(exc, ["rows", index], line=record.line)
                column = keys.index(exc.key) + 1 if exc.key in keys else 1
            except ValidationError as exc:
                ctx.invalid(exc, ["rows", index], line=record.line)
                column = 1
            finding = ctx.findings[0]
            if sheet is not None:
                finding = replace(finding, location=Location(
                    pointer=finding.location.pointer, sheet=sheet, cell=f"{get_column_letter(column)}{record.line}"))
            yield finding

    def parse_xlsx(self, data: bytes) -> ParseResult:
        """The AEF export workbook: the first sheet with a row holding the required column labels.

        The registry's template puts "Table 1: Heading" (Party, year) above the actions table, so
        rows before the header row are skipped; the table ends at the first empty row.
        """
        workbook = read_workbook(data, what="UNDP AEF export")
        try:
            for sheet in workbook.worksheets:
                records = _sheet_table(sheet)
                if records is not None:
                    return self.parse_csv(records, sheet=str(sheet.title))
        finally:
            workbook.close()
        wanted = ", ".join(repr(_AEF_LABEL[k]) for k in AEF_REQUIRED)
        return ParseResult(CanonicalDocument(), [R_COLUMNS.finding(
            f"no sheet of the workbook has a header row with the columns {wanted}", Location())])

    def aef_row(self, cells: dict[str, str], unknown: dict[str, str],
                profile: UndpProfile | None = None) -> _AefRow:
        """One export row as a canonical Action (and the authorization it embeds)."""
        profile = profile or self.profile
        def cell(key: str) -> str | None:
            value = cells.get(key, "").strip()
            return None if value in _NA else value

        for key in AEF_REQUIRED:
            if cell(key) is None:
                raise _Bad(R_AEF_VALUE, key, f"{_AEF_LABEL[key]} is empty")
        kind = AEF_ACTION_TYPES.get(re.sub(r"[\s_-]", "", str(cell("actionType"))).casefold())
        if kind is None:
            try:
                kind = ActionType(str(cell("actionType")))
            except ValueError:
                raise _Bad(R_CODE, "actionType", f"Action type {cell('actionType')!r} is not one of "
                                                 f"{', '.join(AEF_ACTION_TYPES)}") from None
        first, first_serial = _aef_unit(cells["creditBlockStartId"], "creditBlockStartId")
        last, last_serial = _aef_unit(cells["creditBlockEndId"], "creditBlockEndId")
        if last < first:
            raise _Bad(R_AEF_VALUE, "creditBlockEndId", f"the block ends at {last}, before its start {first}")
        quantity = _number(str(cell("creditAmount")).replace(",", ""), "creditAmount")
        if quantity != last - first + 1:
            raise _Bad(R_SERIAL_QUANTITY, "creditAmount", f"Quantity (t CO2 eq) is {cell('creditAmount')} but the "
                                                          f"block {first}-{last} holds {last - first + 1} units")
        if first_serial is not None and last_serial is not None and first_serial.series != last_serial.series:
            raise _Bad(R_SERIAL, "creditBlockEndId", f"the block starts in series {first_serial} but ends in "
                                                     f"{last_serial}")
        serial = first_serial or last_serial
        info = _serial_info(serial.with_range(first, last), "creditBlockStartId") if serial is not None else None
        serial_text = None if info is None else str(info.serial)
        vintage = None if cell("vintage") is None else _year(cell("vintage"), "vintage")
        if info is not None and vintage is not None and info.serial.vintage != vintage:
            raise _Bad(R_VINTAGE, "vintage", f"Vintage is {vintage} but the block serial is of vintage "
                                             f"{info.serial.vintage}")
        first_party = _aef_party(cells.get("firstTransferingParty", ""), "firstTransferingParty")
        approach = cell("cooperativeApproach")
        ca = info.cooperative_approach if info is not None else (
            approach if approach is not None and re.fullmatch(r"CA\d{4}", approach) else None)
        metric_text = (cell("metric") or "").casefold()
        metric = Metric.GHG if metric_text in ("tco2", "tco2e", "tco2eq", "ghg") else (
            Metric.NON_GHG if metric_text == "non-ghg" else None)
        using = cell("actionBy")
        using_party = _safe_party(using) if using is not None and len(using) in (2, 3) else None
        authorized = cell("projectAuthorizationTime")
        auth_id = cell("authorizationId")
        origin = info.originating if info is not None else None
        units = UnitBlock(serial=serial_text, serial_first=first, serial_last=last,
                          quantity=quantity, vintage=vintage, country=origin,
                          project_id=None if info is None else info.project, itmo_reference=serial_text)
        transferring = _aef_party(cells.get("transferingParty", ""), "transferingParty")
        action = Action(
            action_type=kind,
            date=datetime.combine(_aef_date(str(cell("actionTime")), "actionTime"), datetime.min.time(), UTC),
            cooperative_approach=ca, authorization_id=auth_id, first_transferring_party=first_party,
            registry=profile.registry_id(origin), mitigation_type=profile.mitigation_type,
            first_id=first, last_id=last, units=units, metric=metric, quantity=quantity, vintage=vintage,
            transferring_party=transferring if kind in TRANSFER_LIKE else None,
            acquiring_party=_aef_party(cells.get("aquiringParty", ""), "aquiringParty"),
            using_party=using_party, using_entity=using if using is not None and using_party is None else None,
            extra={"undp": dict(cells) | ({"_unknown": unknown} if unknown else {})})
        authorization = None
        if auth_id is not None and authorized is not None:
            authorization = Authorization(
                authorization_id=auth_id, date=_aef_date(authorized, "projectAuthorizationTime"),
                version=profile.authorization_version,
                cooperative_approach=ca or approach or "", purposes=cell("purposeForAuthorization"),
                sectors=profile.sector(cell("sector")), activity_types=profile.activity_type(cell("sectoralScope")),
                oimp_authorized=cell("oimp"),
                first_transfer_definition=cell("firstTransferDefinition") if "OIMP" in (cell(
                    "purposeForAuthorization") or "") else None, metric=metric,
                extra={"undp": {k: cells[k] for k in ("projectAuthorizationTime", "cooperativeApproach")
                                if k in cells}})
        return _AefRow(action, authorization)

    def serialize_csv(self, document: CanonicalDocument, medium: Medium = Medium.CSV) -> SerializeResult:
        """The AEF actions export as CSV, or as an XLSX workbook with one ``Actions`` sheet."""
        authorizations = {a.authorization_id: a for a in document.authorizations}
        profile = self.profile
        used: set[str] = set()
        rows: list[list[str]] = [[label for label, _key in AEF_COLUMNS]]
        losses: dict[tuple[str, str], list[str]] = {}
        for index, action in enumerate(document.actions):
            pointer = f"/actions/{index}"
            auth = authorizations.get(action.authorization_id or "")
            try:
                cells = self._aef_cells(action, auth)
                back = self.aef_row(cells, {}, profile)
            except (_Refused, _Bad, ValidationError) as exc:
                losses.setdefault(("actions", f"not an AEF export row: {exc}"), []).append(pointer)
                continue
            if auth is not None:
                used.add(auth.authorization_id)
            rows.append([cells.get(key, "") for _label, key in AEF_COLUMNS])
            for name in _lost_fields(action, back.action):
                losses.setdefault((f"actions.{name}", "the AEF export has no column for it"), []).append(pointer)
            unknown = (action.extra.get("undp") or {}).get("_unknown") if isinstance(action.extra.get("undp"),
                                                                                      dict) else None
            if unknown:
                losses.setdefault(("extra.undp._unknown", "columns the registry's export does not have"),
                                  []).append(pointer)
            if auth is not None and back.authorization is not None:
                for name in _lost_fields(auth, back.authorization):
                    losses.setdefault((f"authorizations.{name}", "the AEF export has no column for it"),
                                      []).append(f"/authorizations/{document.authorizations.index(auth)}")
        unused = [f"/authorizations/{i}" for i, a in enumerate(document.authorizations)
                  if a.authorization_id not in used]
        if unused:
            losses[("authorizations", "the AEF actions export holds authorizations only beside their actions")] = unused
        for name in ("holdings", "authorized_entities", "projects", "units"):
            if getattr(document, name):
                losses[(name, f"the AEF actions export holds no {name.replace('_', ' ')}")] = [
                    f"/{name}/{i}" for i in range(len(getattr(document, name)))]
        if document.submission is not None:
            losses[("submission", "the AEF actions export has no submission header")] = ["/submission"]
        loss_list = [Loss(f, tuple(sorted(set(ids), key=ids.index)), reason)
                     for (f, reason), ids in sorted(losses.items())]
        if medium is Medium.XLSX:
            return SerializeResult(data=_xlsx_bytes(rows), medium=Medium.XLSX, losses=loss_list)
        return SerializeResult(data=write_csv_bytes(rows), medium=Medium.CSV, losses=loss_list)

    def _aef_cells(self, action: Action, auth: Any | None) -> dict[str, str]:
        units = action.units or UnitBlock()
        native: dict[str, str] = {}
        saved = action.extra.get("undp")
        if isinstance(saved, dict):
            native = {k: str(v) for k, v in saved.items() if k in _AEF_LABEL}
        first = action.first_id if action.first_id is not None else units.serial_first
        last = action.last_id if action.last_id is not None else units.serial_last
        if first is None or last is None:
            raise _Refused("the export needs the block's first and last unit")
        kind = AEF_ACTION_TYPES.get(re.sub(r"[\s_-]", "", native.get("actionType", "")).casefold())
        if kind != action.action_type:
            if action.action_type is ActionType.TRANSFER and action.acquiring_party is not None:
                native["actionType"] = "crossBoarderTransfer"
            elif action.action_type in _AEF_WRITE_TYPES:
                native["actionType"] = _AEF_WRITE_TYPES[action.action_type]
            else:
                native["actionType"] = action.action_type.value
        quantity = action.quantity if action.quantity is not None else Decimal(last - first + 1)
        cells = dict(native)

        def put(key: str, value: str | None, same: Callable[[str], bool]) -> None:
            old = native.get(key)
            if old is not None:
                try:
                    if same(old):
                        return
                except (_Bad, ValueError):
                    pass
            cells[key] = "NA" if value is None else value

        def party_same(value: str | None) -> Callable[[str], bool]:
            return lambda old: _aef_party(old, "firstTransferingParty") == value

        serial = units.serial
        put("creditBlockStartId", str(first), lambda old: _aef_unit(old, "creditBlockStartId")[0] == first)
        put("creditBlockEndId", str(last), lambda old: _aef_unit(old, "creditBlockEndId")[0] == last)
        if serial is not None and "creditBlockStartId" not in native:
            cells["creditBlockStartId"] = str(_serial(serial, "serial").serial.with_range(first, first))
            cells["creditBlockEndId"] = str(_serial(serial, "serial").serial.with_range(last, last))
        put("creditAmount", format(quantity, "f"), lambda old: _number(old.replace(",", ""), "creditAmount")
            == quantity)
        put("vintage", None if action.vintage is None else str(action.vintage),
            lambda old: (None if old.strip() in _NA else _year(old, "vintage")) == action.vintage)
        put("actionTime", action.date.date().isoformat(), lambda old: _aef_date(old, "actionTime")
            == action.date.date())
        put("firstTransferingParty", action.first_transferring_party, party_same(action.first_transferring_party))
        if action.action_type in TRANSFER_LIKE or "transferingParty" not in native:
            put("transferingParty", action.transferring_party, party_same(action.transferring_party))
        put("aquiringParty", action.acquiring_party, party_same(action.acquiring_party))
        using = action.using_party or action.using_entity
        put("actionBy", using, lambda old: (None if old.strip() in _NA else old.strip()) in (
            action.using_entity, _safe_party(old) and action.using_party))
        put("authorizationId", action.authorization_id, lambda old: (None if old.strip() in _NA else old.strip())
            == action.authorization_id)
        if action.metric is not None:
            put("metric", "tCO2" if action.metric.value == "GHG" else "non-GHG",
                lambda old: old.casefold() in (("tco2", "tco2e", "tco2eq", "ghg") if action.metric is not None
                                               and action.metric.value == "GHG" else ("non-ghg",)))
        if action.cooperative_approach is not None and not re.fullmatch(
                rf"{re.escape(action.cooperative_approach)}|Article 6\.2", native.get("cooperativeApproach", "")):
            cells["cooperativeApproach"] = action.cooperative_approach
        if auth is not None:
            put("projectAuthorizationTime", auth.date.isoformat(),
                lambda old: _aef_date(old, "projectAuthorizationTime") == auth.date)
            profile = self.profile
            put("sector", auth.sectors, lambda old: profile.sector(None if old.strip() in _NA else old.strip())
                == auth.sectors)
            put("sectoralScope", auth.activity_types, lambda old: profile.activity_type(
                None if old.strip() in _NA else old.strip()) == auth.activity_types)
            for key, value in (("purposeForAuthorization", auth.purposes), ("oimp", auth.oimp_authorized)):
                put(key, value, _same_text(value))
            if auth.first_transfer_definition is not None or "firstTransferDefinition" not in native:
                put("firstTransferDefinition", auth.first_transfer_definition,
                    _same_text(auth.first_transfer_definition))
        for key in _AEF_LABEL:
            cells.setdefault(key, "NA")
        return cells


class UndpNcrAdapter(_AefExport, FormatCodec):
    """UNDP National Carbon Registry v2: entity JSON and the AEF actions CSV export."""

    name = STANDARD
    version = "1.0.0"
    description = ("UNDP National Carbon Registry v2 (Article 6 edition): credit blocks, transactions and "
                   "projects as entity JSON; the AEF actions export as CSV; ITMO-style block serials")
    reads = frozenset({MessageKind.UNIT_BLOCKS, MessageKind.TRANSFERS, MessageKind.RETIREMENTS,
                       MessageKind.ISSUANCES, MessageKind.ACTIONS, MessageKind.PROJECTS})
    writes = reads
    media = (Medium.JSON, Medium.CSV, Medium.XLSX)
    rules = RULES

    def __init__(self, profile: UndpProfile | None = None) -> None:
        self._profile = profile

    @property
    def profile(self) -> UndpProfile:
        """The deployment profile given, else one read from the ``CARBONLINK_UNDP_*`` variables."""
        return self._profile if self._profile is not None else UndpProfile.from_env()

    # ------------------------------------------------------------------ parse
    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        self.check_medium(medium)
        if medium is Medium.CSV:
            return self.parse_csv(read_csv_records(data, what="UNDP AEF export"))
        if medium is Medium.XLSX:
            return self.parse_xlsx(data)
        limit = max_input_bytes()
        if len(data) > limit:
            raise InputTooLarge(f"UNDP registry JSON is {len(data)} bytes, over the limit of {limit} bytes")
        return self.parse_json(load_json(data, what="UNDP registry JSON"))

    def parse_json(self, raw: Any) -> ParseResult:
        ctx = _Context(self.profile)
        groups = self._groups(raw, ctx)
        document = CanonicalDocument()
        if groups is None:
            return ParseResult(document, ctx.findings)
        for index, record in enumerate(groups["projects"]):
            project = self._project(record, ["projects", index], ctx)
            if project is not None:
                document.projects.append(project)
        for index, record in enumerate(groups["creditBlocks"]):
            unit = self._block(record, ["creditBlocks", index], ctx)
            if unit is not None:
                document.units.append(unit)
        for index, record in enumerate(groups["transactions"]):
            action = self._transaction(record, ["transactions", index], ctx)
            if action is not None:
                document.actions.append(action)
        self._cross_checks(groups, ctx)
        return _result(document, ctx.findings)

    def _groups(self, raw: Any, ctx: _Context) -> dict[str, list[Any]] | None:
        groups: dict[str, list[Any]] = {"projects": [], "creditBlocks": [], "transactions": []}
        if isinstance(raw, dict) and isinstance(raw.get("data"), list) and not (set(raw) & set(groups)):
            raw = raw["data"]
        if isinstance(raw, dict):
            unknown = sorted(set(raw) - set(groups))
            if unknown or not raw:
                ctx.findings.append(R_SHAPE.finding(
                    f"the JSON object has {', '.join(unknown) or 'no keys'}; expected creditBlocks, transactions "
                    "and/or projects", Location(pointer="")))
                return None
            for key, value in raw.items():
                if not isinstance(value, list):
                    ctx.findings.append(R_SHAPE.finding(f"{key} must be a list of records",
                                                        Location(pointer=json_pointer([key]))))
                    return None
                groups[key] = value
            return groups
        if not isinstance(raw, list):
            ctx.findings.append(R_SHAPE.finding(
                "the JSON must be an object of record lists or a list of records", Location(pointer="")))
            return None
        for index, record in enumerate(raw):
            kind = _kind(record)
            if kind is None:
                ctx.findings.append(R_SHAPE.finding(
                    "this is no credit block (creditBlockId), transaction (recieverId) or project (refId)",
                    Location(pointer=json_pointer([index]))))
                return None
            groups[kind].append(record)
        return groups

    def _project(self, record: Any, pointer: list[str | int], ctx: _Context) -> Project | None:
        if not isinstance(record, dict):
            ctx.findings.append(R_SHAPE.finding("a project must be an object", Location(json_pointer(pointer))))
            return None
        try:
            _require(record, ("refId", "title"), "project")
            authorized = record.get("projectAuthorizationTime")
            project = Project(
                registry=STANDARD, project_id=_text(record["refId"], "refId"), name=_text(record["title"], "title"),
                developer=None if record.get("companyId") is None else _text(record["companyId"], "companyId"),
                sector=_opt_text(record, "sector"), project_type=_opt_text(record, "sectoralScope"),
                status=_opt_text(record, "projectProposalStage"),
                status_date=None if authorized is None else _epoch(authorized, "projectAuthorizationTime").date(),
                extra={"undp": dict(record)})
            serial = record.get("serialNumber")
            if record.get("authorizationId") is not None:
                ctx.authorizations[project.project_id] = _text(record["authorizationId"], "authorizationId")
            if serial is not None and not isinstance(serial, str):
                raise _Bad(R_TYPE, "serialNumber", "serialNumber must be text")
        except _Bad as exc:
            ctx.bad(exc, pointer)
            return None
        except ValidationError as exc:
            ctx.invalid(exc, pointer)
            return None
        return project

    def _block(self, record: Any, pointer: list[str | int], ctx: _Context) -> UnitBlock | None:
        if not isinstance(record, dict):
            ctx.findings.append(R_SHAPE.finding("a credit block must be an object", Location(json_pointer(pointer))))
            return None
        try:
            _require(record, ("creditBlockId", "serialNumber", "creditAmount", "ownerCompanyId", "projectRefId"),
                     "credit block")
            info = _serial(record["serialNumber"], "serialNumber")
            amount = _number(record["creditAmount"], "creditAmount")
            if amount != info.serial.quantity:
                raise _Bad(R_SERIAL_QUANTITY, "creditAmount",
                           f"creditAmount is {record['creditAmount']} but serial {info.serial} covers "
                           f"{info.serial.quantity} credits ({info.serial.last} - {info.serial.first} + 1)")
            vintage = info.serial.vintage
            if record.get("vintage") is not None and _year(record["vintage"], "vintage") != vintage:
                raise _Bad(R_VINTAGE, "vintage", f"vintage is {record['vintage']} but serial {info.serial} is of "
                                                 f"vintage {vintage}")
            status = None
            if record.get("txType") is not None:
                status = BLOCK_STATUS.get(str(record["txType"]))
                if status is None:
                    raise _Bad(R_CODE, "txType", f"txType {record['txType']!r} is not one of "
                                                 f"{', '.join(BLOCK_STATUS)}")
            tx_time = record.get("txTime")
            unit = UnitBlock(
                serial=str(info.serial), serial_first=info.serial.first,
                serial_last=info.serial.last, quantity=amount, vintage=vintage, status=status,
                status_date=None if tx_time is None else _epoch(tx_time, "txTime").date(),
                project_id=_text(record["projectRefId"], "projectRefId"), country=info.originating,
                owner=_text(record["ownerCompanyId"], "ownerCompanyId"), itmo_reference=str(info.serial),
                extra={"undp": dict(record)})
        except _Bad as exc:
            ctx.bad(exc, pointer)
            return None
        except ValidationError as exc:
            ctx.invalid(exc, pointer)
            return None
        self._placeholder(info, pointer, ctx)
        return unit

    def _placeholder(self, info: SerialInfo, pointer: list[str | int], ctx: _Context) -> None:
        if info.placeholder:
            ctx.findings.append(R_PARTY_PLACEHOLDER.finding(
                f"serial {info.serial} names the Party 'XX', the registry's unconfigured placeholder; the first "
                "transferring Party is left empty", Location(json_pointer([*pointer, "serialNumber"]))))

    def transaction_action(self, record: dict[str, Any], ctx: _Context) -> Action:
        """Map one CreditTransactionsEntity record (raises :class:`_Bad`)."""
        _require(record, ("id", "serialNumber", "amount", "createTime", "status"), "transaction")
        info = _serial(record["serialNumber"], "serialNumber")
        amount = _number(record["amount"], "amount")
        if amount > info.serial.quantity:
            raise _Bad(R_SERIAL_QUANTITY, "amount", f"amount {record['amount']} is more than the "
                                                    f"{info.serial.quantity} credits of block {info.serial}")
        status_text = str(record["status"])
        if status_text not in TRANSACTION_STATUS:
            raise _Bad(R_CODE, "status", f"status {status_text!r} is not one of {', '.join(TRANSACTION_STATUS)}")
        kind = record.get("type")
        if kind is not None and kind not in TRANSACTION_TYPES:
            raise _Bad(R_CODE, "type", f"type {kind!r} is not one of {', '.join(TRANSACTION_TYPES)}")
        retirement = record.get("retirementType")
        acquiring = None
        if retirement == CROSS_BORDER:
            action_type = ActionType.TRANSFER
            if not record.get("country"):
                raise _Bad(R_COUNTRY, "country", "a cross-border retirement must name the acquiring country")
            try:
                acquiring = to_alpha3(_text(record["country"], "country"))[0]
            except UnknownParty:
                raise _Bad(R_PARTY, "country", f"country {record['country']!r} is no known country") from None
        elif retirement == VOLUNTARY or (retirement is None and kind == "Retired"):
            action_type = ActionType.VOLUNTARY_CANCELLATION
        elif retirement is not None:
            raise _Bad(R_CODE, "retirementType", f"retirementType {retirement!r} is not {CROSS_BORDER!r} or "
                                                 f"{VOLUNTARY!r}")
        else:
            action_type = ActionType.ISSUANCE if kind == "Issued" else ActionType.TRANSFER
        status = TRANSACTION_STATUS[status_text]
        if status is None:
            status = UnitStatus.TRANSFERRED if action_type is ActionType.TRANSFER else (
                UnitStatus.ISSUED if action_type is ActionType.ISSUANCE else UnitStatus.RETIRED)
        whole = amount == info.serial.quantity or amount != amount.to_integral_value()
        first = info.serial.first if whole else info.serial.last - int(amount) + 1
        project = record.get("projectRefId")
        project_id = info.project if project is None else _text(project, "projectRefId")
        units = UnitBlock(
            serial=str(info.serial), serial_first=info.serial.first, serial_last=info.serial.last,
            quantity=amount, vintage=info.serial.vintage, status=status, project_id=project_id,
            country=info.originating, itmo_reference=str(info.serial),
            owner=None if record.get("recieverId") is None else _text(record["recieverId"], "recieverId"),
            beneficiary=_opt_text(record, "organizationName"))
        profile = ctx.profile
        return Action(
            action_type=action_type, date=_epoch(record["createTime"], "createTime"),
            message_id=_text(record["id"], "id"), quantity=amount, units=units,
            cooperative_approach=info.cooperative_approach, first_transferring_party=info.first_transferring,
            registry=profile.registry_id(info.originating), mitigation_type=profile.mitigation_type,
            metric=Metric.GHG, first_id=first, last_id=info.serial.last, vintage=info.serial.vintage,
            acquiring_party=acquiring,
            authorization_id=ctx.authorizations.get(project_id), additional_information=_opt_text(record, "remarks"),
            extra={"undp": dict(record)})

    def _transaction(self, record: Any, pointer: list[str | int], ctx: _Context) -> Action | None:
        if not isinstance(record, dict):
            ctx.findings.append(R_SHAPE.finding("a transaction must be an object", Location(json_pointer(pointer))))
            return None
        try:
            action = self.transaction_action(record, ctx)
        except _Bad as exc:
            ctx.bad(exc, pointer)
            return None
        except ValidationError as exc:
            ctx.invalid(exc, pointer)
            return None
        self._placeholder(_serial(record["serialNumber"], "serialNumber"), pointer, ctx)
        return action

    def _cross_checks(self, groups: dict[str, list[Any]], ctx: _Context) -> None:
        for group, key in (("creditBlocks", "creditBlockId"), ("transactions", "id"), ("projects", "refId")):
            seen: dict[str, int] = {}
            for index, record in enumerate(groups[group]):
                if not isinstance(record, dict) or record.get(key) is None:
                    continue
                ident = str(record[key])
                if ident in seen:
                    ctx.findings.append(R_DUPLICATE.finding(
                        f"{key} {ident} is used again (first at {group}[{seen[ident]}])",
                        Location(json_pointer([group, index, key]))))
                else:
                    seen[ident] = index
        serials: list[tuple[int, Serial]] = []
        for index, record in enumerate(groups["creditBlocks"]):
            text = record.get("serialNumber") if isinstance(record, dict) else None
            try:
                serial = parse_serial(text, SCHEME) if isinstance(text, str) else None
            except InvalidSerial:
                serial = None
            if serial is not None:
                serials.append((index, serial))
        # one sorted sweep per series: n log n, whatever the number of blocks
        serials.sort(key=lambda pair: (pair[1].series, pair[1].first, pair[0]))
        reach: tuple[int, Serial] | None = None  # the block reaching furthest so far in this series
        for index, serial in serials:
            if reach is not None and reach[1].series == serial.series and serial.first <= reach[1].last:
                ctx.findings.append(R_OVERLAP.finding(
                    f"block {serial} overlaps block {reach[1]} (creditBlocks[{reach[0]}])",
                    Location(json_pointer(["creditBlocks", index, "serialNumber"]))))
            if reach is None or reach[1].series != serial.series or serial.last > reach[1].last:
                reach = (index, serial)

    # -------------------------------------------------------------- streaming
    def iter_records(self, stream: ByteStream, *, medium: Medium, findings: list[Finding] | None = None,
                     limit: int | None = None) -> Iterator[Action]:
        """Stream the AEF actions CSV export one canonical Action at a time.

        With a ``findings`` list, rows with errors are left out and their findings appended to it;
        without one, the first bad row raises :class:`~standards.errors.ValidationFailed`. At most
        ``limit`` bytes are read (default ``CARBONLINK_MAX_INPUT_BYTES``)."""
        self.check_medium(medium)
        if medium is not Medium.CSV:
            raise UnknownFormat("undp-ncr streams the CSV AEF export only; read JSON and XLSX with parse()")
        records = iter_csv_records(as_binary_stream(stream), what="UNDP AEF export", limit=limit)
        yield from self.iter_csv(records, findings=findings)

    # -------------------------------------------------------------- serialize
    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        self.check_medium(medium)
        if medium in (Medium.CSV, Medium.XLSX):
            return self.serialize_csv(document, medium)
        losses: dict[tuple[str, str], list[str]] = {}
        out: dict[str, list[dict[str, Any]]] = {"projects": [], "creditBlocks": [], "transactions": []}
        authorizations: dict[str, str] = {}
        writers: tuple[tuple[str, str, list[Any], Callable[[Any], dict[str, Any]]], ...] = (
            ("projects", "projects", list(document.projects), self._write_project),
            ("units", "creditBlocks", list(document.units), self._write_block),
            ("actions", "transactions", list(document.actions), self._write_transaction))
        for source, target, records, write in writers:
            for index, record in enumerate(records):
                pointer = f"/{source}/{index}"
                try:
                    native = write(record)
                except _Refused as exc:
                    losses.setdefault((source, str(exc)), []).append(pointer)
                    continue
                back = self._read_back(target, native, authorizations)
                if isinstance(back, str):
                    losses.setdefault((source, f"the record would not be a valid UNDP record: {back}"),
                                      []).append(pointer)
                    continue
                out[target].append(native)
                if target == "projects" and native.get("authorizationId") is not None:
                    authorizations[str(native["refId"])] = str(native["authorizationId"])
                for name in _lost_fields(record, back):
                    losses.setdefault((f"{source}.{name}", "the UNDP registry has no field for it"),
                                      []).append(pointer)
        for name in ("authorizations", "holdings", "authorized_entities"):
            if getattr(document, name):
                losses.setdefault((name, f"the UNDP registry entities hold no {name.replace('_', ' ')}"), []).extend(
                    f"/{name}/{i}" for i in range(len(getattr(document, name))))
        if document.submission is not None:
            losses.setdefault(("submission", "the UNDP registry entities hold no AEF submission header"),
                              []).append("/submission")
        body = {k: v for k, v in out.items() if v}
        try:
            data = orjson.dumps(body, option=orjson.OPT_INDENT_2)
        except TypeError:  # a kept native value orjson cannot write (an integer over 64 bits...)
            data = json.dumps(body, indent=2, ensure_ascii=False, default=str).encode("utf-8")
        return SerializeResult(data=data, medium=Medium.JSON,
                               losses=[Loss(f, tuple(ids), reason) for (f, reason), ids in sorted(losses.items())])

    def _read_back(self, target: str, native: dict[str, Any], authorizations: dict[str, str]) -> BaseModel | str:
        """Read a written record back (the canonical record it gives), or the first error as text."""
        ctx = _Context(self.profile, authorizations=authorizations)
        if target == "projects":
            result: BaseModel | None = self._project(native, [], ctx)
        elif target == "creditBlocks":
            result = self._block(native, [], ctx)
        else:
            result = self._transaction(native, [], ctx)
        errors = [f.message for f in ctx.findings if f.is_error]
        if result is None or errors:
            return errors[0] if errors else "unreadable"
        return result

    def _write_project(self, project: Project) -> dict[str, Any]:
        native = _native(project)
        native["refId"] = _keep(native, "refId", project.project_id, str)
        native["title"] = _keep(native, "title", project.name, str)
        if project.name is None:
            raise _Refused("the UNDP registry needs a project title")
        _put(native, "companyId", project.developer, str)
        _put(native, "sector", project.sector, str)
        _put(native, "sectoralScope", project.project_type, str)
        _put(native, "projectProposalStage", project.status, str)
        if project.status_date is None:
            native.pop("projectAuthorizationTime", None)
        elif "projectAuthorizationTime" not in native or _safe_date(native["projectAuthorizationTime"]) \
                != project.status_date:
            native["projectAuthorizationTime"] = _epoch_ms(datetime.combine(project.status_date, datetime.min.time(),
                                                                            UTC))
        return _ordered(native, PROJECT_FIELDS)

    def _write_block(self, unit: UnitBlock) -> dict[str, Any]:
        native = _native(unit)
        serial = self._serial_for(unit.serial, unit.serial_first, unit.serial_last, unit.project_id, unit.vintage,
                                  None, unit.country, None)
        if unit.owner is None or unit.project_id is None:
            raise _Refused("the UNDP registry needs the block's owner and project")
        native["serialNumber"] = _keep(native, "serialNumber", str(serial), str)
        native.setdefault("creditBlockId", "-".join(str(serial).split("-")[:5]))
        quantity = unit.quantity if unit.quantity is not None else Decimal(serial.quantity)
        native["creditAmount"] = _keep_number(native, "creditAmount", quantity)
        native["vintage"] = _keep(native, "vintage", serial.vintage, int)
        native["projectRefId"] = _keep(native, "projectRefId", unit.project_id, str)
        native["ownerCompanyId"] = _keep(native, "ownerCompanyId", unit.owner, str)
        if unit.status is not None:
            names = {v: k for k, v in BLOCK_STATUS.items()}
            if unit.status not in names:
                native.pop("txType", None)
            elif BLOCK_STATUS.get(str(native.get("txType"))) != unit.status:
                native["txType"] = names[unit.status]
        else:
            native.pop("txType", None)
        if unit.status_date is None:
            native.pop("txTime", None)
        elif _safe_date(native.get("txTime")) != unit.status_date:
            native["txTime"] = _epoch_ms(datetime.combine(unit.status_date, datetime.min.time(), UTC))
        return _ordered(native, BLOCK_FIELDS)

    def _write_transaction(self, action: Action) -> dict[str, Any]:
        units = action.units or UnitBlock()
        native = _native(action)
        if not action.message_id:
            raise _Refused("the UNDP registry needs a transaction id (message_id)")
        serial = self._serial_for(units.serial, units.serial_first, units.serial_last, units.project_id,
                                  units.vintage if units.vintage is not None else action.vintage,
                                  action.cooperative_approach, units.country, action.first_transferring_party)
        native["id"] = _keep(native, "id", action.message_id, str)
        native["serialNumber"] = _keep(native, "serialNumber", str(serial), str)
        quantity = action.quantity if action.quantity is not None else units.quantity
        native["amount"] = _keep_number(native, "amount", quantity if quantity is not None else
                                        Decimal(serial.quantity))
        if _safe_epoch(native.get("createTime")) != action.date:
            native["createTime"] = _epoch_ms(action.date)
        kind = action.action_type
        if kind is ActionType.TRANSFER and action.acquiring_party is not None:
            native["retirementType"] = CROSS_BORDER
            if native.get("country") is None or _safe_party(native["country"]) != action.acquiring_party:
                native["country"] = action.acquiring_party
        elif kind in (ActionType.VOLUNTARY_CANCELLATION, ActionType.RETIREMENT):
            if native.get("type") != "Retired" or native.get("retirementType") is not None:
                native["retirementType"] = VOLUNTARY
        elif kind is ActionType.ISSUANCE:
            native["type"] = "Issued"
            native.pop("retirementType", None)
        elif kind is ActionType.TRANSFER:
            native.pop("retirementType", None)
            if native.get("type") not in (None, "Transfered"):
                native["type"] = "Transfered"
        else:
            raise _Refused(f"the UNDP registry has no transaction for the action type {kind.value!r}")
        status = units.status
        if status is None or TRANSACTION_STATUS.get(str(native.get("status")), "?") not in (status, None):
            native["status"] = {UnitStatus.PENDING: "Pending", UnitStatus.REJECTED: "Rejected"}.get(
                status or UnitStatus.TRANSFERRED, "Completed")
        native.setdefault("status", "Completed")
        _put(native, "recieverId", units.owner, str)
        _put(native, "organizationName", units.beneficiary, str)
        _put(native, "remarks", action.additional_information, str)
        if units.project_id is not None:
            native["projectRefId"] = _keep(native, "projectRefId", units.project_id, str)
        return _ordered(native, TRANSACTION_FIELDS)

    def _serial_for(self, text: str | None, first: int | None, last: int | None, project: str | None,
                    vintage: int | None, approach: str | None, country: str | None,
                    first_party: str | None) -> Serial:
        """The block's UNDP serial: the native one if it is one, else built from the ITMO parts."""
        if text is not None:
            try:
                serial = parse_serial(text, SCHEME)
            except InvalidSerial:
                serial = None
            if serial is not None:
                if first is not None and last is not None and (first, last) != (serial.first, serial.last):
                    return serial.with_range(first, last)
                return serial
        parts = {"cooperative_approach": approach, "originating_party": _alpha2(country),
                 "first_transferring_party": _alpha2(first_party) or (UNCONFIGURED_PARTY if country else None),
                 "project": project, "first": first, "last": last, "vintage": vintage}
        if any(v is None for v in parts.values()):
            raise _Refused("the UNDP registry needs a UNDP block serial, or the ITMO parts to build one "
                           "(cooperative approach, originating Party, project, first and last unit, vintage)")
        try:
            return build_serial(default_catalogue().variant(SCHEME), parts)
        except InvalidSerial as exc:
            raise _Refused(f"the ITMO parts do not make a UNDP serial: {exc.message}") from None


class _Refused(Exception):
    """A canonical record the UNDP registry cannot hold at all."""


def _kind(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    if "creditBlockId" in record and "ownerCompanyId" in record:
        return "creditBlocks"
    if "recieverId" in record or ("amount" in record and "status" in record):
        return "transactions"
    if "refId" in record:
        return "projects"
    return None


def _result(document: CanonicalDocument, findings: list[Finding]) -> ParseResult:
    """No partial result: an input with errors gives an empty document and its findings."""
    if any(f.is_error for f in findings):
        return ParseResult(CanonicalDocument(), findings)
    return ParseResult(document, findings)


def _opt_text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    return None if value is None else _text(value, key)


def _native(record: BaseModel) -> dict[str, Any]:
    extra = getattr(record, "extra", {})
    native = extra.get("undp") if isinstance(extra, dict) else None
    return dict(native) if isinstance(native, dict) else {}


def _keep(native: dict[str, Any], key: str, value: Any, parse: Callable[[Any], Any]) -> Any:
    """The native value when it reads as ``value``; otherwise ``value`` itself."""
    if key in native and native[key] is not None:
        try:
            if parse(native[key]) == value:
                return native[key]
        except (TypeError, ValueError):
            pass
    return value


def _keep_number(native: dict[str, Any], key: str, value: Decimal) -> Any:
    try:
        if key in native and Decimal(str(native[key])) == value:
            return native[key]
    except InvalidOperation:
        pass
    return _plain_number(value)


def _put(native: dict[str, Any], key: str, value: str | None, parse: Callable[[Any], Any]) -> None:
    if value is None:
        native.pop(key, None)
    else:
        native[key] = _keep(native, key, value, parse)


def _ordered(native: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    known = {k: native[k] for k in order if k in native}
    return known | {k: v for k, v in native.items() if k not in known}


def _safe_epoch(value: Any) -> datetime | None:
    try:
        return _epoch(value, "time")
    except _Bad:
        return None


def _safe_date(value: Any) -> date | None:
    moment = _safe_epoch(value)
    return None if moment is None else moment.date()


def _safe_party(value: Any) -> str | None:
    try:
        return to_alpha3(str(value))[0]
    except UnknownParty:
        return None


def _alpha2(party: str | None) -> str | None:
    if party is None:
        return None
    try:
        return to_alpha2(party)
    except UnknownParty:
        return None


def _lost_fields(original: BaseModel, read_back: BaseModel) -> list[str]:
    """Canonical fields with a value in ``original`` that reading the written record does not give back."""
    lost: list[str] = []
    for name in type(original).model_fields:
        value = getattr(original, name)
        if value is None or value == {} or value == [] or name == "extra":
            continue
        back = getattr(read_back, name)
        if isinstance(value, BaseModel) and isinstance(back, BaseModel):
            lost += [f"{name}.{sub}" for sub in _lost_fields(value, back)]
        elif value != back:
            lost.append(name)
    extra = getattr(original, "extra", {})
    lost += [f"extra.{key}" for key in extra if key != "undp"]
    return lost


adapter = UndpNcrAdapter()

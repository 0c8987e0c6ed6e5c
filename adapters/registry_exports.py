"""Shared machinery for adapters of registry CSV exports (Verra, Gold Standard, the APX family).

An :class:`ExportFile` names one export layout by its exact column headers; a
:class:`CsvExportAdapter` subclass maps each row of a recognised layout to a canonical record and
back. This module does the parts every such adapter needs the same way: reading CSV safely
through :mod:`standards.tabular` (whole file or streamed), matching headers that registries spell
with doubled or trailing spaces, parsing quantities and dates, turning problems into coded
findings with the CSV line and column, keeping native spellings in ``extra`` so a round trip
gives the same text back, and writing formula-safe CSV.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters._streams import as_binary_stream
from adapters.protocol import ByteStream
from standards import (
    CanonicalDocument,
    CsvRecord,
    Finding,
    FormatCodec,
    InvalidSerial,
    Layer,
    Location,
    Loss,
    Medium,
    ParseResult,
    Project,
    Rule,
    RuleCatalogue,
    Serial,
    SerializeResult,
    SerialQuantityMismatch,
    Severity,
    UnitBlock,
    UnknownParty,
    ValidationFailed,
    iter_csv_records,
    parse_serial,
    party_name,
    read_csv_records,
    to_alpha3,
    write_csv_bytes,
)

Record = UnitBlock | Project
#: Default cap on a streamed export (bytes); override with ``CARBONLINK_MAX_STREAM_BYTES``.
DEFAULT_MAX_STREAM_BYTES = 8 * 1024**3


def max_stream_bytes() -> int:
    """Streaming reads hold one row at a time, so their cap is far above the whole-file limit."""
    raw = os.environ.get("CARBONLINK_MAX_STREAM_BYTES", "")
    return int(raw) if raw.isdigit() else DEFAULT_MAX_STREAM_BYTES
_SPACES = re.compile(r"\s+")
_QUANTITY = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T].*)?")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?")


def header_key(name: str) -> str:
    """How headers are matched: spaces collapsed and trimmed, case ignored (``Status Effective  (GMT)``)."""
    return _SPACES.sub(" ", name).strip().casefold()


@dataclass(frozen=True)
class ExportFile:
    """One CSV export layout: its exact headers (as the registry writes them) and which are required."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    kind: str  # "units" or "projects"
    description: str = ""

    def missing(self, keys: set[str]) -> list[str]:
        return [c for c in self.required if header_key(c) not in keys]

    def score(self, keys: set[str]) -> int:
        return sum(header_key(c) in keys for c in self.columns)


class RowFindings:
    """Collects the findings of one row, with its CSV line and column as the location."""

    __slots__ = ("findings", "line", "rules", "source")

    def __init__(self, rules: RuleCatalogue, line: int, findings: list[Finding], source: str = "") -> None:
        self.rules = rules
        self.line = line
        self.findings = findings
        self.source = source

    def add(self, rule_id: str, column: str | None, message: str, *, severity: Severity | None = None) -> None:
        pointer = f"/{self.line}/{column}" if column else f"/{self.line}"
        rule: Rule = self.rules[rule_id]
        self.findings.append(rule.finding(message, Location(pointer=pointer, line=self.line),
                                          severity=severity))


# ---------------------------------------------------------------------------------------- values


def parse_quantity(text: str) -> Decimal:
    """``"1,454,054"`` or ``425`` or ``12.5`` as a Decimal; raises ValueError otherwise."""
    if text.isdigit() and text.isascii():
        return Decimal(int(text))
    raw = text.strip()
    if not _QUANTITY.fullmatch(raw):
        raise ValueError(f"{text!r} is not a quantity")
    try:
        return Decimal(raw.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimal digits
        raise ValueError(f"{text!r} is not a quantity") from None


def render_quantity(value: Decimal, *, grouped: bool = False) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if grouped and "." not in text:
        return f"{int(text):,}"
    return text


def parse_date(text: str, *, order: str) -> date:
    """ISO (optionally with a time) or ``d/m/yyyy`` (``order="dmy"``) / ``m/d/yyyy`` (``"mdy"``)."""
    raw = text.strip()
    m = _ISO_DATE.fullmatch(raw)
    if m is not None:
        return date(int(m[1]), int(m[2]), int(m[3]))
    m = _SLASH_DATE.fullmatch(raw)
    if m is not None:
        a, b = int(m[1]), int(m[2])
        day, month = (a, b) if order == "dmy" else (b, a)
        return date(int(m[3]), month, day)
    raise ValueError(f"{text!r} is not a date")


def read_date(row: RowFindings, extra: dict[str, Any], raw: str, column: str, prefix: str,
              order: str) -> date | None:
    """A date cell: None when empty; a ``<PREFIX>.DATE_INVALID`` finding when unreadable; the native
    spelling kept in ``extra`` when it is not ISO."""
    if not raw:
        return None
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    elif not raw.strip():
        return None
    try:
        value = parse_date(raw, order=order)
    except ValueError:
        shown = "YYYY-MM-DD or " + ("DD/MM/YYYY" if order == "dmy" else "MM/DD/YYYY")
        row.add(f"{prefix}.DATE_INVALID", column, f"{column} {raw!r} is not a date ({shown})")
        return None
    keep_native(extra, column, raw, value.isoformat())
    return value


_COUNTRIES: dict[str, str | None] = {}


def country_from_name(text: str) -> str | None:
    """Alpha-3 for a country name or code; None when it cannot be resolved."""
    found = _COUNTRIES.get(text, "")
    if found != "":
        return found
    try:
        found = to_alpha3(text)[0]
    except UnknownParty:
        found = None
    if len(_COUNTRIES) < 4096:
        _COUNTRIES[text] = found
    return found


def country_name(alpha3: str | None) -> str:
    if alpha3 is None:
        return ""
    try:
        return party_name(alpha3)
    except UnknownParty:
        return alpha3


def iso_date(value: date | None) -> str:
    """A date as ISO text; empty when absent."""
    return value.isoformat() if value is not None else ""


def same_date(value: date | None, order: str) -> Callable[[str], bool]:
    """A test for :func:`native_or`: does a native date cell (``order`` "dmy" or "mdy") mean ``value``?"""
    def same(raw: str) -> bool:
        try:
            return parse_date(raw, order=order) == value
        except ValueError:
            return False
    return same


def same_quantity(value: Decimal | None) -> Callable[[str], bool]:
    """A test for :func:`native_or`: does a native quantity cell mean ``value``?"""
    def same(raw: str) -> bool:
        try:
            return parse_quantity(raw) == value
        except ValueError:
            return False
    return same


def keep_native(extra: dict[str, Any], column: str, raw: str, rendered: str) -> None:
    """Remember the registry's own spelling when the canonical value would be written differently."""
    if raw != rendered:
        extra[column] = raw


def native_or(extra: Mapping[str, Any], column: str, rendered: str,
              same: Callable[[str], bool]) -> str:
    """The remembered native spelling if it still means the canonical value, else ``rendered``."""
    raw = extra.get(column)
    if isinstance(raw, str) and same(raw):
        return raw
    return rendered


def check_serial(row: RowFindings, prefix: str, column: str, text: str, schemes: str | Sequence[str],
                 quantity: Decimal | None) -> Serial | None:
    """Parse a serial, reporting ``<PREFIX>.SERIAL_INVALID`` / ``<PREFIX>.SERIAL_QUANTITY`` findings."""
    try:
        serial = parse_serial(text, schemes)
    except InvalidSerial as exc:
        row.add(f"{prefix}.SERIAL_INVALID", column, exc.message)
        return None
    if quantity is not None:
        try:
            serial.check_quantity(quantity)
        except SerialQuantityMismatch as exc:
            row.add(f"{prefix}.SERIAL_QUANTITY", column, exc.message)
    return serial


# ------------------------------------------------------------------------------------- reading


@dataclass
class RowMapper:
    """What one recognised export needs per row: the layout and a column-index lookup."""

    file: ExportFile
    header: tuple[str, ...]
    index: dict[str, int] = field(default_factory=dict)
    unknown: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        known = {header_key(c): c for c in self.file.columns}
        unknown: list[tuple[str, int]] = []
        for i, name in enumerate(self.header):
            canonical = known.get(header_key(name))
            if canonical is not None and canonical not in self.index:
                self.index[canonical] = i
            else:  # kept in extra; a header-less column (an exporter's trailing comma) gets a made-up name
                unknown.append((name if name.strip() else f"(column {i + 1})", i))
        self.unknown = tuple(unknown)

    def row(self, cells: Sequence[str]) -> tuple[dict[str, str], dict[str, Any]]:
        """Cells by the layout's column names (missing optional columns read as ``""``) and extras."""
        values = {name: cells[i] for name, i in self.index.items()}
        extra = {name: cells[i] for name, i in self.unknown if cells[i] != ""}
        return values, extra


class CsvExportAdapter(FormatCodec):
    """Base of the registry-export adapters: CSV reading, layout detection, findings, writing."""

    rules: RuleCatalogue
    files: tuple[ExportFile, ...] = ()
    prefix: str = ""
    serial_schemes: tuple[str, ...] = ()

    # subclasses implement these two
    def map_row(self, mapper: RowMapper, values: dict[str, str], extra: dict[str, Any],
                row: RowFindings) -> Record | None:
        raise NotImplementedError

    def write_rows(self, document: CanonicalDocument) -> tuple[dict[str, list[list[str]]], list[Loss]]:
        """Rows per export file name (header first) and the losses."""
        raise NotImplementedError

    # --- reading

    def detect(self, header: Sequence[str], findings: list[Finding]) -> RowMapper | None:
        keys = {header_key(h) for h in header}
        ranked = sorted(self.files, key=lambda f: (-f.score(keys), len(f.missing(keys))))
        best = ranked[0]
        missing = best.missing(keys)
        if best.score(keys) == 0 or missing:
            wanted = ", ".join(repr(m) for m in missing) if best.score(keys) else "any known column"
            expected = "; ".join(f"{f.name}: {', '.join(f.required)}" for f in self.files)
            findings.append(self.rules[f"{self.prefix}.COLUMNS"].finding(
                f"the header is not a {self.name} export this adapter knows: missing {wanted} "
                f"(required columns, {expected})", Location(pointer="/1", line=1)))
            return None
        return RowMapper(best, tuple(header))

    def _records(self, rows: Iterator[CsvRecord], findings: list[Finding], *,
                 stop_on_error: bool = False) -> Iterator[Record]:
        first = next(rows, None)
        if first is None:
            return
        mapper = self.detect(first.cells, findings)
        if mapper is None:
            return
        fast = self.fast_reader(mapper)
        row = RowFindings(self.rules, 0, findings)  # one collector, moved from line to line
        for record in rows:
            if fast is not None:
                unit = fast(record.cells)
                if unit is not None:
                    yield unit
                    continue
            row.line = record.line
            values, extra = mapper.row(record.cells)
            before = len(findings)
            mapped = self.map_row(mapper, values, extra, row)
            if len(findings) == before or not any(f.is_error for f in findings[before:]):
                if mapped is not None:
                    yield mapped
            elif stop_on_error:
                return

    def fast_reader(self, mapper: RowMapper) -> Callable[[Sequence[str]], Record | None] | None:
        """An optional quick reader for rows of ``mapper``'s file: it returns the record when the full
        mapping would give exactly that record and no finding, else None (the full mapping then runs
        and reports). None: every row takes the full mapping."""
        return None

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        self.check_medium(medium)
        return self.parse_csv(data)

    def parse_csv(self, data: bytes) -> ParseResult:
        findings: list[Finding] = []
        records = read_csv_records(data, what=f"{self.name} export")
        if not records:
            findings.append(self.rules[f"{self.prefix}.COLUMNS"].finding(
                f"the {self.name} export has no header row", Location(pointer="/1", line=1)))
        document = CanonicalDocument()
        for rec in self._records(iter(records), findings):
            if isinstance(rec, Project):
                document.projects.append(rec)
            else:
                document.units.append(rec)
        if len(records) == 1 and not findings:
            findings.append(self.rules[f"{self.prefix}.EMPTY"].finding(
                f"the {self.name} export has a header but no rows", Location(pointer="/2", line=2)))
        findings.extend(self.check_document(document))
        return ParseResult(document=document, findings=findings)

    def iter_records(self, stream: ByteStream, *, medium: Medium, findings: list[Finding] | None = None,
                     limit: int | None = None) -> Iterator[Record]:
        """Stream canonical records one by one in bounded memory.

        Rows with errors are left out and their findings appended to ``findings``; without a
        ``findings`` list the first error raises :class:`ValidationFailed` instead, so nothing is
        dropped silently. Streams may be larger than whole-file inputs: at most ``limit`` bytes
        (default :func:`max_stream_bytes`).
        """
        self.check_medium(medium)
        sink: list[Finding] = [] if findings is None else findings
        rows = iter_csv_records(as_binary_stream(stream), what=f"{self.name} export",
                                limit=max_stream_bytes() if limit is None else limit)
        yield from self._records(rows, sink, stop_on_error=findings is None)
        if findings is None and any(f.is_error for f in sink):
            raise ValidationFailed(f"the {self.name} export has errors", findings=sink)

    def check_document(self, document: CanonicalDocument) -> list[Finding]:
        """Cross-record checks: blocks of one series must not overlap."""
        rule = self.rules[f"{self.prefix}.SERIAL_OVERLAP"]
        blocks: list[tuple[tuple[object, ...], int, int, int]] = []
        for i, unit in enumerate(document.units):
            if unit.serial is None:
                continue
            try:
                serial = parse_serial(unit.serial, self.serial_schemes)
            except InvalidSerial:
                continue
            blocks.append((serial.series, serial.first, serial.last, i))
        blocks.sort(key=lambda b: (repr(b[0]), b[1]))
        out: list[Finding] = []
        reach: tuple[tuple[object, ...], int, int] | None = None  # series, furthest last unit, its block
        for series, first, last, i in blocks:
            if reach is not None and reach[0] == series and first <= reach[1]:
                a, b = document.units[reach[2]], document.units[i]
                out.append(rule.finding(
                    f"serial blocks {a.serial} and {b.serial} overlap: a unit cannot be in two blocks",
                    Location(pointer=f"/units/{i}/serial")))
            if reach is None or reach[0] != series or last > reach[1]:
                reach = (series, last, i)
        return out

    def read_country(self, raw: str, column: str, extra: dict[str, Any], row: RowFindings) -> str | None:
        """A country cell as alpha-3: None when empty; unknown names are reported
        (``<PREFIX>.COUNTRY_UNKNOWN``) and kept as text in ``extra``; other spellings kept there too."""
        if not raw.strip():
            return None
        country = country_from_name(raw)
        if country is None:
            row.add(f"{self.prefix}.COUNTRY_UNKNOWN", column,
                    f"{raw!r} is not a country carbonlink knows; kept as text")
            extra[column] = raw
        else:
            keep_native(extra, column, raw, country_name(country))
        return country

    # --- writing

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        self.check_medium(medium)
        data, files, losses = self.serialize_csv(document)
        return SerializeResult(data=data, medium=medium, losses=losses, files=files)

    @staticmethod
    def write_country(alpha3: str | None, extra: Mapping[str, Any], column: str) -> str:
        """A country cell: the remembered native spelling when it still names ``alpha3``, else its
        name; without a country, the text kept in ``extra`` (or empty)."""
        if alpha3 is None:
            raw = extra.get(column)
            return raw if isinstance(raw, str) else ""
        return native_or(extra, column, country_name(alpha3), lambda raw: country_from_name(raw) == alpha3)

    def serialize_csv(self, document: CanonicalDocument) -> tuple[bytes, dict[str, bytes], list[Loss]]:
        tables, losses = self.write_rows(document)
        written = {name: write_csv_bytes(rows, bom=False) for name, rows in tables.items() if len(rows) > 1}
        if not written:
            first = next(iter(tables), None)
            return (write_csv_bytes(tables[first], bom=False) if first else b""), {}, losses
        if len(written) == 1:
            return next(iter(written.values())), {}, losses
        return next(iter(written.values())), {f"{n}.csv": b for n, b in written.items()}, losses


def declare_common_rules(rules: RuleCatalogue, prefix: str, reference: str) -> None:
    """The rules every export adapter shares (ids ``<PREFIX>.COLUMNS`` ...)."""
    add = rules.add
    add(f"{prefix}.COLUMNS", severity=Severity.ERROR, layer=Layer.STRUCTURE,
        title="the header is a known export layout with all required columns", reference=reference)
    add(f"{prefix}.EMPTY", severity=Severity.WARNING, layer=Layer.STRUCTURE,
        title="the export has data rows", reference=reference)
    add(f"{prefix}.REQUIRED", severity=Severity.ERROR, layer=Layer.FIELD,
        title="required cells are filled", reference=reference)
    add(f"{prefix}.QUANTITY_INVALID", severity=Severity.ERROR, layer=Layer.FIELD,
        title="quantities are whole or decimal numbers (thousands separators allowed)", reference=reference)
    add(f"{prefix}.DATE_INVALID", severity=Severity.ERROR, layer=Layer.FIELD,
        title="dates are ISO or the registry's slash format", reference=reference)
    add(f"{prefix}.VINTAGE_INVALID", severity=Severity.ERROR, layer=Layer.FIELD,
        title="vintages are years between 1900 and 2100", reference=reference)
    add(f"{prefix}.COUNTRY_UNKNOWN", severity=Severity.WARNING, layer=Layer.CODE_LIST,
        title="countries are ISO 3166-1 names or codes", reference="ISO 3166-1; " + reference)
    add(f"{prefix}.SERIAL_INVALID", severity=Severity.ERROR, layer=Layer.FIELD,
        title="serial numbers have the registry's layout", reference=reference)
    add(f"{prefix}.SERIAL_QUANTITY", severity=Severity.ERROR, layer=Layer.CROSS_RECORD,
        title="the serial range length (last - first + 1) equals the quantity", reference=reference)
    add(f"{prefix}.SERIAL_MISMATCH", severity=Severity.WARNING, layer=Layer.CROSS_RECORD,
        title="the serial's project, country and vintage agree with the row's columns", reference=reference)
    add(f"{prefix}.SERIAL_OVERLAP", severity=Severity.ERROR, layer=Layer.CROSS_RECORD,
        title="no two serial blocks of one series overlap", reference=reference)


def other_record_losses(document: CanonicalDocument) -> list[Loss]:
    """Whole record lists a registry export has no place for."""
    out: list[Loss] = []
    for attr in ("authorizations", "actions", "holdings", "authorized_entities"):
        records = getattr(document, attr)
        if records:
            out.append(Loss(attr, tuple(f"{attr}[{i}]" for i in range(len(records))),
                            f"a registry export has no table for {attr.replace('_', ' ')}"))
    if document.submission is not None:
        out.append(Loss("submission", ("submission",), "a registry export has no submission header"))
    return out

"""The base of the registry-export adapters: CSV reading (whole or streamed), layout detection,
cross-record checks and writing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from adapters._options import DEFAULT_MAX_STREAM_BYTES as DEFAULT_MAX_STREAM_BYTES  # re-exported
from adapters._options import current_options
from adapters._streams import as_binary_stream
from adapters.protocol import ByteStream
from adapters.registry_exports._layout import (
    ExportFile,
    PendingBlock,
    Record,
    RowFindings,
    RowMapper,
    header_key,
)
from adapters.registry_exports._reconcile import split_issued_blocks
from adapters.registry_exports._values import country_from_name, country_name, keep_native, native_or
from standards import (
    CanonicalDocument,
    CsvRecord,
    Finding,
    FormatCodec,
    InvalidSerial,
    Location,
    Loss,
    Medium,
    ParseResult,
    Project,
    RuleCatalogue,
    SerializeResult,
    UnitBlock,
    UnitStatus,
    ValidationFailed,
    iter_csv_records,
    parse_serial,
    read_csv_records,
    write_csv_bytes,
)
from standards.tabular import is_zip, unpack_csv_archive


def max_stream_bytes() -> int:
    """Streaming reads hold one row at a time, so their cap is far above the whole-file limit
    (:attr:`adapters.Options.max_stream_bytes`, ``CARBONLINK_MAX_STREAM_BYTES`` at the edge)."""
    return current_options().max_stream_bytes


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
        for record in self._mapped(rows, findings, stop_on_error=stop_on_error, pending=False):
            yield record.block() if isinstance(record, PendingBlock) else record  # none: not asked for

    def _mapped(self, rows: Iterator[CsvRecord], findings: list[Finding], *, stop_on_error: bool,
                pending: bool) -> Iterator[Record | PendingBlock]:
        """The records of ``rows``; with ``pending``, the blocks of :meth:`pending_reader` unbuilt."""
        first = next(rows, None)
        if first is None:
            return
        mapper = self.detect(first.cells, findings)
        if mapper is None:
            return
        fast: Callable[[Sequence[str]], Record | PendingBlock | None] | None = None
        if pending:
            fast = self.pending_reader(mapper)
        if fast is None:
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

    def pending_reader(self, mapper: RowMapper) -> Callable[[Sequence[str]], PendingBlock | None] | None:
        """:meth:`fast_reader`, handing out each block it reads as a :class:`PendingBlock` (not built);
        None (the default): :meth:`iter_pending` builds every record."""
        return None

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        self.check_medium(medium)
        return self.parse_csv(data)

    def parse_csv(self, data: bytes) -> ParseResult:
        """One export, or several of one registry packed as a zip of CSV files (a folder given to the CLI,
        or several files): read together as one document, each finding naming its file."""
        document = CanonicalDocument()
        findings: list[Finding] = []
        if is_zip(data):
            origin: list[int] = []
            for number, (name, content) in enumerate(unpack_csv_archive(data, what=f"the {self.name} exports")):
                found: list[Finding] = []
                self._read_export(content, document, found)
                findings.extend(replace(f, message=f"{name}: {f.message}") for f in found)
                origin.extend([number] * (len(document.units) - len(origin)))
            # a later state of part of an issued block (a retirement row) is a state change, not a second block
            document.units, _split = split_issued_blocks(document.units, origin, self.serial_schemes)
        else:
            self._read_export(data, document, findings)
        findings.extend(self.check_document(document))
        return ParseResult(document=document, findings=findings)

    def _read_export(self, data: bytes, document: CanonicalDocument, findings: list[Finding]) -> None:
        before = len(findings)
        records = read_csv_records(data, what=f"{self.name} export")
        if not records:
            findings.append(self.rules[f"{self.prefix}.COLUMNS"].finding(
                f"the {self.name} export has no header row", Location(pointer="/1", line=1)))
        for rec in self._records(iter(records), findings):
            if isinstance(rec, Project):
                document.projects.append(rec)
            else:
                document.units.append(rec)
        if len(records) == 1 and len(findings) == before:
            findings.append(self.rules[f"{self.prefix}.EMPTY"].finding(
                f"the {self.name} export has a header but no rows", Location(pointer="/2", line=2)))

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

    def iter_pending(self, stream: ByteStream, findings: list[Finding]) -> Iterator[Record | PendingBlock]:
        """:meth:`iter_records` of a CSV export (findings into ``findings``), with the blocks the
        :meth:`pending_reader` reads handed out as :class:`PendingBlock` (built when needed)."""
        if type(self).pending_reader is CsvExportAdapter.pending_reader:  # none: every record built, as ever
            yield from self.iter_records(stream, medium=Medium.CSV, findings=findings)
            return
        rows = iter_csv_records(as_binary_stream(stream), what=f"{self.name} export", limit=max_stream_bytes())
        yield from self._mapped(rows, findings, stop_on_error=False, pending=True)

    def status_notes(self, tally: Mapping[UnitStatus | None, tuple[int, int]]) -> list[Finding]:
        """Document-level notes on the blocks' statuses (``tally``: per status, how many blocks and the
        index of the first, :func:`status_tally`), appended after the rows' findings; none by default. The
        streaming translation (:mod:`adapters.stream_translate`) keeps the same tally as it reads."""
        return []

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


def status_tally(units: Iterable[UnitBlock]) -> dict[UnitStatus | None, tuple[int, int]]:
    """Per status of ``units``: how many blocks hold it, and the index of the first."""
    tally: dict[UnitStatus | None, tuple[int, int]] = {}
    for index, unit in enumerate(units):
        count, first = tally.get(unit.status, (0, index))
        tally[unit.status] = (count + 1, first)
    return tally


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

"""The spreadsheet adapter: CSV and XLSX files read and written through a column mapping."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from adapters._streams import as_binary_stream, byte_chunks
from adapters.protocol import ByteStream
from adapters.spreadsheet._common import _extra, _norm, _Where
from adapters.spreadsheet._encoding import _encode_legacy, _read_capped, _transcode, _transcoded
from adapters.spreadsheet._reader import _read_rows
from adapters.spreadsheet._rules import _ALL_KINDS, _DOCUMENT_LISTS, _KINDS, RULES, SHEET_MISSING
from adapters.spreadsheet._writer import _RowWriter
from adapters.spreadsheet_mapping import (
    CompiledMapping,
    MappingError,
    SpreadsheetMapping,
    configured_mapping,
    load_mapping,
)
from standards import (
    CanonicalDocument,
    Finding,
    FormatCodec,
    Location,
    Loss,
    MalformedInput,
    Medium,
    ParseResult,
    SerializeResult,
    json_pointer,
)
from standards.tabular import (
    XlsxWriter,
    iter_csv_records,
    iter_sheet_rows,
    read_csv_records,
    read_workbook,
    write_csv_bytes,
)

MappingRef = str | Path | SpreadsheetMapping | CompiledMapping | dict[str, Any]


# --------------------------------------------------------------------------- the adapter


class SpreadsheetAdapter(FormatCodec):
    """CSV/XLSX registers read and written through a declarative mapping.

    ``SpreadsheetAdapter()`` uses the configured mapping, :attr:`adapters.Options.spreadsheet_mapping`
    in force when it is made (``CARBONLINK_SPREADSHEET_MAPPING`` at the edge: a path or a built-in
    name; default ``ministry-itmo-ledger``); ``SpreadsheetAdapter(mapping)`` takes a name, a path, a dict
    or a :class:`~adapters.spreadsheet_mapping.SpreadsheetMapping`. A bad mapping raises
    :class:`~adapters.spreadsheet_mapping.MappingError` naming the key; a configured one's is
    raised at first use, so the other adapters still load. ``name`` registers a second mapping
    beside the first one (``SpreadsheetAdapter("credit-block-ledger", name="vu-blocks")``).
    """

    name = "spreadsheet"
    version = "1.0.0"
    media: tuple[Medium, ...] = (Medium.CSV, Medium.XLSX)
    rules = RULES

    def __init__(self, mapping: MappingRef | None = None, *, name: str | None = None) -> None:
        if name is not None:
            self.name = name
        self._error: MappingError | None = None
        self._mapping: CompiledMapping | None = None
        if mapping is not None:
            self._mapping = load_mapping(mapping)
        else:
            try:
                self._mapping = configured_mapping()
            except MappingError as exc:
                self._error = exc
        if self._mapping is not None:
            spec = self._mapping.spec
            self.reads = self.writes = _KINDS[spec.record]
            self.description = (f"Excel/CSV register through the mapping {spec.name!r}"
                                + (f": {spec.description}" if spec.description else ""))
        else:
            self.reads = self.writes = _ALL_KINDS
            self.description = "Excel/CSV register through a declarative mapping (the configured one is invalid)"

    @property
    def mapping(self) -> CompiledMapping:
        if self._mapping is None:
            assert self._error is not None
            raise self._error
        return self._mapping

    # -- reading

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        self.check_medium(medium)
        mapping = self.mapping
        findings: list[Finding] = []
        records = list(self._records(data, medium, mapping, findings))
        document = CanonicalDocument(**{mapping.document_list: records})
        return ParseResult(document=document, findings=findings)

    def iter_records(self, stream: ByteStream, *, medium: Medium, findings: list[Finding] | None = None,
                     limit: int | None = None) -> Iterator[BaseModel]:
        """Yield canonical records one by one; CSV is read in bounded memory.

        Findings go to ``findings`` when given. A workbook must be read whole (XLSX is a zip whose
        directory is at its end), but its rows are still walked one at a time. At most ``limit``
        bytes are read (default ``CARBONLINK_MAX_INPUT_BYTES``).
        """
        self.check_medium(medium)
        mapping = self.mapping
        sink = findings if findings is not None else []
        if medium is Medium.XLSX:
            yield from self._records(_read_capped(stream, limit), medium, mapping, sink)
            return
        reader = as_binary_stream(_transcoded(byte_chunks(stream), mapping.spec.csv.encoding))
        rows = ((i, rec.line, rec.cells) for i, rec in enumerate(iter_csv_records(reader, limit=limit), 1))
        yield from _read_rows(mapping, rows, _Where(), sink)

    def _records(self, data: bytes, medium: Medium, mapping: CompiledMapping,
                 findings: list[Finding]) -> Iterator[BaseModel]:
        if medium is Medium.CSV:
            records = read_csv_records(_transcode(data, mapping.spec.csv.encoding))
            rows: Iterable[tuple[int, int, Sequence[Any]]] = (
                (i, rec.line, rec.cells) for i, rec in enumerate(records, 1))
            yield from _read_rows(mapping, rows, _Where(), findings)
            return
        workbook = read_workbook(data)
        try:
            wanted = mapping.spec.sheet
            names = list(workbook.sheetnames)
            if wanted is not None and wanted not in names:
                findings.append(SHEET_MISSING.finding(
                    f"the workbook has no sheet named {wanted!r} (it has: {', '.join(names)})",
                    Location(pointer="", sheet=wanted)))
                return
            if not names:
                raise MalformedInput("the workbook has no sheets", code="INPUT.XLSX")
            sheet = workbook[wanted] if wanted is not None else workbook[names[0]]
            rows = ((n, n, cells) for n, cells in iter_sheet_rows(sheet))
            yield from _read_rows(mapping, rows, _Where(sheet=sheet.title), findings)
        finally:
            workbook.close()

    # -- writing

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        self.check_medium(medium)
        mapping = self.mapping
        spec = mapping.spec
        losses: list[Loss] = []
        for attr in _DOCUMENT_LISTS:
            items = getattr(document, attr)
            if attr != mapping.document_list and items:
                losses.append(Loss(attr, tuple(f"{attr}[{i}]" for i in range(len(items))),
                                   f"the mapping {spec.name!r} writes {mapping.document_list} only"))
        if document.submission is not None:
            losses.append(Loss("submission", ("submission",), f"the mapping {spec.name!r} has no submission header"))
        records: list[BaseModel] = list(getattr(document, mapping.document_list))
        headers = [c.header for c in mapping.columns]
        kept = self._kept_extra(records, headers) if spec.unmapped_columns == "keep" else []
        xlsx = XlsxWriter() if medium is Medium.XLSX else None
        sheet = xlsx.add_sheet(spec.sheet or "Sheet1") if xlsx is not None else None
        writer = _RowWriter(mapping, medium, xlsx, sheet)
        width = len(headers) + len(kept)
        rows: list[list[Any]] = []
        for n in range(1, spec.header_row):
            rows.append([spec.title if n == 1 and spec.title else None] + [None] * (width - 1))
        rows.append(headers + kept)
        for i, record in enumerate(records):
            record_id = f"{mapping.document_list}[{i}]"
            rows.append(writer.row(record, record_id, json_pointer([mapping.document_list, i]), kept))
        grouped: dict[str, list[str]] = {}
        reasons: dict[str, str] = {}
        for (path, reason), ids in sorted(writer.lost.items()):
            key = path if path not in reasons or reasons[path] == reason else f"{path} ({reason})"
            grouped.setdefault(key, []).extend(ids)
            reasons.setdefault(key, reason)
        losses.extend(Loss(path, tuple(ids), reasons[path]) for path, ids in grouped.items())
        if xlsx is not None:
            for row in rows:
                xlsx.append(sheet, row)
            data = xlsx.to_bytes()
        else:
            data = write_csv_bytes(rows, delimiter=spec.csv.delimiter)
            if spec.csv.encoding != "utf-8":
                data = _encode_legacy(data, spec.csv.encoding)
        return SerializeResult(data=data, medium=medium, losses=losses, findings=writer.findings)

    def _kept_extra(self, records: Sequence[BaseModel], headers: list[str]) -> list[str]:
        """Native columns carried in ``extra`` that are written back after the mapped ones."""
        taken = {_norm(h) for h in headers}
        used = {c.info.path.removeprefix("extra.") for c in self.mapping.columns if c.info.path.startswith("extra.")}
        used.update(p.removeprefix("extra.") for p in self.mapping.defaults if p.startswith("extra."))
        for col in self.mapping.columns:
            used.update(g.path.removeprefix("extra.") for g in col.groups.values()
                        if g is not None and g.path.startswith("extra."))
        out: list[str] = []
        seen: set[str] = set()
        for record in records:
            for key in _extra(record):
                if key in seen or key in used or _norm(key) in taken or not key.strip():
                    continue
                seen.add(key)
                out.append(key)
        return out


#: The adapter registered under the ``carbonlink.adapters`` entry point ``spreadsheet``.
adapter = SpreadsheetAdapter()

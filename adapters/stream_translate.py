"""Streaming translation of a registry export file to CAD Trust v2 or v1: what ``carbonlink translate`` runs first.

``carbonlink translate FILE --from <registry> --to cadt-v2`` (or ``--to cadt-v1``) reads the export row by row
(the adapter's :meth:`~adapters.registry_exports.CsvExportAdapter.iter_records`) and hands each block to
:class:`standards.cadt.stream_v2.V2UnitStream` (v1: :class:`standards.cadt.stream_v1.V1UnitStream`, the same
stream with the v1 target model), which maps, links and validates it and spools it to a temporary file.
Memory is bounded by the export's distinct projects, issuances and serial series, not its rows, so the file
is held to the streamed-input cap (``max_stream_bytes``, ``CARBONLINK_MAX_STREAM_BYTES``, 8 GiB by default)
instead of the whole-file input limit (``max_input_bytes``, 64 MiB).

The outcome is the one :func:`adapters.translate.translate` gives for the same file: the same document,
byte for byte; the same errors (:class:`~standards.ValidationFailed` for a source with errors,
:class:`~standards.TranslationError` for an output that fails its own validation,
:class:`~adapters.translate.NothingCarried`, :class:`~adapters.translate.RecordsLost`); nothing is written
unless the whole output passed. Two things differ by design: a lost field names at most
:data:`~standards.cadt.stream_v2.LOSS_IDS_KEPT` record ids (its reason gives the full count), and blocks of one
serial series that overlap are reported block by block as they arrive (``<PREFIX>.SERIAL_OVERLAP``, the same
rule) rather than after sorting the whole export.

:func:`stream_translation` answers None when the translation cannot stream (another target, a folder or
zip of exports, a projects export, output into a folder or archive, a codec that drops flagged records);
the caller then translates the file whole.
"""

from __future__ import annotations

import os
import sys
import tempfile
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from adapters._catalog import AdapterCatalog, default_catalog
from adapters._gc_pause import cyclic_gc_paused
from adapters.registry_exports import CsvExportAdapter, PendingBlock
from adapters.translate import NothingCarried, RecordsLost, is_record_loss, lost_kind
from standards import (
    Finding,
    Location,
    Loss,
    Medium,
    TranslationError,
    UnitBlock,
    UnitStatus,
    ValidationFailed,
)
from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.stream_v1 import V1UnitStream
from standards.cadt.stream_v2 import NotStreamable, V2UnitStream
from standards.serials import InvalidSerial, parse_serial
from standards.tabular import is_zip

STREAMED_TARGETS = frozenset({"cadt-v1", "cadt-v2"})
#: The stream of each streamed target's codec.
_STREAMS: dict[type, type[V2UnitStream]] = {CadtV2Codec: V2UnitStream, CadtV1Codec: V1UnitStream}


@dataclass
class StreamedTranslation:
    """A streamed translation that passed every check; :meth:`write` puts the document where it goes."""

    stream: V2UnitStream
    records_read: int
    losses: list[Loss]
    records_lost: int
    source_findings: list[Finding] = field(default_factory=list)
    target_findings: list[Finding] = field(default_factory=list)

    @property
    def records_written(self) -> int:
        return max(self.records_read - self.records_lost, 0)

    def write(self, output: Path | None) -> list[str]:
        """Write the document to ``output`` (through a temporary file renamed into place), or stdout."""
        try:
            if output is None:
                self.stream.write(sys.stdout.buffer)
                sys.stdout.flush()
                return ["<stdout>"]
            folder = output.resolve().parent
            handle = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{output.name}.", delete=False)  # noqa: SIM115
            try:
                with handle:
                    self.stream.write(handle)
                os.replace(handle.name, output)
            except BaseException:
                Path(handle.name).unlink(missing_ok=True)
                raise
            return [str(output)]
        finally:
            self.stream.close()


def streamable(files: list[Path], output: Path | None, *, target: str, source_medium: Medium,
               target_medium: Medium) -> bool:
    """Whether the command's input and output can take the streaming path at all."""
    if target not in STREAMED_TARGETS or source_medium is not Medium.CSV or target_medium is not Medium.JSON:
        return False
    if len(files) != 1 or not files[0].is_file():
        return False
    if output is not None and (output.is_dir() or output.suffix.lower() in ("", ".zip")):
        return False
    with files[0].open("rb") as handle:
        return not is_zip(handle.read(4))


def stream_translation(files: list[Path], output: Path | None, *, source: str, target: str,
                       source_medium: Medium, target_medium: Medium, catalog: AdapterCatalog | None = None,
                       accept_losses: bool = False) -> StreamedTranslation | None:
    """Translate the one export in ``files`` by streaming it, or None when it cannot stream (see the module
    docstring). Raises as :func:`adapters.translate.translate` does; the refusal of a file over the streamed
    cap is :class:`~standards.InputTooLarge` (``INPUT.TOO_LARGE``)."""
    if not streamable(files, output, target=target, source_medium=source_medium, target_medium=target_medium):
        return None
    adapters = catalog or default_catalog()
    src, dst = adapters.get(source), adapters.get(target)
    make = _STREAMS.get(type(dst))
    if not isinstance(src, CsvExportAdapter) or make is None or not isinstance(dst, CadtV1Codec | CadtV2Codec):
        return None
    try:
        stream = make(dst)  # type: ignore[arg-type]  # the stream of that codec's own type
    except NotStreamable:
        return None
    try:
        with cyclic_gc_paused():
            result = _run(files[0], src, stream, source=source, target=target, accept_losses=accept_losses)
    except BaseException:
        stream.close()
        raise
    if result is None:
        stream.close()
    return result


def _run(path: Path, src: CsvExportAdapter, stream: V2UnitStream, *, source: str, target: str,
         accept_losses: bool) -> StreamedTranslation | None:
    findings: list[Finding] = []
    overlaps = SeriesBlocks(src)
    tally: dict[UnitStatus | None, tuple[int, int]] = {}
    erred = 0  # findings already looked at for errors
    failed = False
    add_block, add_values = overlaps.add_block, stream.add_values
    try:
        with path.open("rb") as handle:
            for record in src.iter_pending(handle, findings):
                if isinstance(record, PendingBlock):  # a clean row: built only if the stream needs the block
                    values = record.values
                    status = values["status"]
                elif isinstance(record, UnitBlock):
                    status = record.status
                else:
                    return None  # a projects export: its projects must be known before the units
                counted = tally.get(status)
                tally[status] = (counted[0] + 1, counted[1]) if counted else (1, overlaps.count)
                if isinstance(record, PendingBlock):
                    add_block(values["serial"], values["first_id"], values["last_id"])
                else:
                    overlaps.add(record)
                if not failed and len(findings) > erred:
                    failed = any(f.is_error for f in findings[erred:])
                    erred = len(findings)
                if failed:  # a source with errors is not translated: keep reading, for its findings only
                    continue
                if isinstance(record, PendingBlock):
                    add_values(values, record.build, record.group)
                else:
                    stream.add(record)
    except NotStreamable:
        return None
    if not overlaps.count:
        return None  # no block at all: the whole-file path says why (no header, no rows)
    findings.extend(overlaps.findings)
    findings.extend(src.status_notes(tally))
    if failed or any(f.is_error for f in findings):
        raise ValidationFailed(f"the {source} input has errors; nothing was translated", findings=findings)
    stream.finish()
    losses = stream.losses.as_losses()
    counts = stream.losses.counts
    # as count_lost_records counts them: the export holds units only (a project the target leaves out was derived)
    lost = min(sum(counts[loss.field] for loss in losses if lost_kind(loss) == "units"), stream.read)
    result = StreamedTranslation(stream, stream.read, losses, lost, findings, stream.findings)
    if result.records_read and not result.records_written:
        reasons = sorted({loss.reason for loss in losses if is_record_loss(loss)})
        raise NothingCarried(f"no record could be carried: the {source} input holds {result.records_read} "
                             f"records ({result.records_read} units) and {target} writes none of them ("
                             + "; ".join(reasons) + ")", findings=stream.findings)
    if not stream.valid:
        raise TranslationError(f"the {target} output failed its own validation; nothing was written",
                               findings=stream.findings)
    if result.records_lost and not accept_losses:
        raise RecordsLost(f"{result.records_lost} of {result.records_read} records cannot be written as "
                          f"{target} (see the losses); nothing was written. Accept the losses to write "
                          f"the other {result.records_written}", losses=losses)
    return result


class SeriesBlocks:
    """Serial blocks seen so far, per serial series, as merged unit ranges: an overlap is found as its block
    arrives. Memory grows with the series and the gaps between their blocks, not with the blocks."""

    def __init__(self, adapter: CsvExportAdapter) -> None:
        self._schemes = adapter.serial_schemes
        self._rule = adapter.rules[f"{adapter.prefix}.SERIAL_OVERLAP"]
        self._ranges: dict[tuple[object, ...], tuple[list[int], list[int]]] = {}
        self.findings: list[Finding] = []
        self.count = 0
        #: A serial's text around its range -> its series' ranges (see :meth:`_series`)
        self._templates: dict[str, tuple[list[int], list[int]]] = {}
        #: The last known serial's text before and after its range, with its series' ranges (none yet)
        self._last: tuple[str | None, str | None, tuple[list[int], list[int]]] = (None, None, ([], []))

    def _series(self, text: str, first: int | None, last: int | None) -> tuple[tuple[list[int], list[int]], int,
                                                                               int] | None:
        """The ranges of the serial's series (starts and ends, see :meth:`add_block`) and its unit range. A serial
        that writes the block's own range once, as ``-<first>-<last>-``, is known by its text around it: the
        series of a template parsed once (the templates are as many as the series; the last one is compared
        first); any other serial is parsed."""
        template = None
        if first is not None and last is not None:
            cut = f"-{first}-{last}-"
            head, sep, tail = text.partition(cut)
            if sep and cut not in tail:
                last_head, last_tail, ranges = self._last
                if head == last_head and tail == last_tail:
                    return ranges, first, last
                template = f"{head}\x00{tail}"
                known = self._templates.get(template)
                if known is not None:
                    self._last = (head, tail, known)
                    return known, first, last
        try:
            serial = parse_serial(text, self._schemes)
        except InvalidSerial:
            return None
        ranges = self._ranges.setdefault(serial.series, ([], []))
        if template is not None and (serial.first, serial.last) == (first, last):
            self._templates[template] = ranges
            self._last = (head, tail, ranges)
        return ranges, serial.first, serial.last

    def add(self, unit: UnitBlock) -> None:
        self.add_block(unit.serial, unit.first_id, unit.last_id)

    def add_block(self, serial: str | None, first_id: int | None, last_id: int | None) -> None:
        """The next block, by its serial and unit range."""
        index = self.count
        self.count += 1
        if serial is None:
            return
        found = self._series(serial, first_id, last_id)
        if found is None:
            return
        (starts, ends), first, last = found
        i = bisect_right(starts, first)
        left = i > 0 and ends[i - 1] >= first
        if left or (i < len(starts) and starts[i] <= last):
            j = i - 1 if left else i
            self.findings.append(self._rule.finding(
                f"serial block {serial} overlaps units {starts[j]}-{ends[j]} of an earlier block of its "
                "series: a unit cannot be in two blocks", Location(pointer=f"/units/{index}/serial")))
            return
        if i > 0 and ends[i - 1] + 1 == first:
            ends[i - 1] = last
            if i < len(starts) and starts[i] == last + 1:
                ends[i - 1] = ends[i]
                del starts[i], ends[i]
        elif i < len(starts) and starts[i] == last + 1:
            starts[i] = first
        else:
            starts.insert(i, first)
            ends.insert(i, last)

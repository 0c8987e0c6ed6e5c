"""Hub-and-spoke translation: source adapter -> canonical document -> target adapter.

The source is validated while it is parsed; a source with errors is not translated. Every
output, one file or several, is validated against the target format before it is returned, so
a translation never hands back something its own target would refuse. A translation that
carries no record at all is refused, and one that leaves whole records out is refused unless
the caller accepts the losses.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field, replace

from adapters._catalog import AdapterCatalog, default_catalog
from adapters._gc_pause import cyclic_gc_paused
from adapters.protocol import RegistryAdapter
from adapters.registry_exports._base import CsvExportAdapter
from standards import (
    CanonicalDocument,
    CarbonlinkError,
    Finding,
    InputError,
    Loss,
    LossyTranslation,
    Medium,
    SerializeResult,
    TranslationError,
    UnknownFormat,
    ValidationFailed,
    read_csv_records,
)
from standards.codec import RECORD_KINDS
from standards.tabular import is_zip, unpack_csv_archive

#: Loss fields that name whole records left out: a record list the target has no place for, and the
#: AEF's actions of a type it has no code for (a CAD Trust codec also reports ``<resource>.record``).
_WHOLE_RECORD_FIELDS = frozenset((*RECORD_KINDS, "submission", "actions.action_type"))


class NothingCarried(TranslationError):
    """Not one record of the source can be written in the target format."""

    code = "TRANSLATION.EMPTY"


class RecordsLost(LossyTranslation):
    """The target leaves whole records of the source out (accept with ``accept_losses``)."""

    code = "TRANSLATION.RECORDS_LOST"


def is_record_loss(loss: Loss) -> bool:
    """Whether ``loss`` reports whole records left out, not one field of records that are written."""
    return lost_kind(loss) is not None


def lost_kind(loss: Loss) -> str | None:
    """The record list (or ``submission``) whose records ``loss`` leaves out whole; None for a field loss."""
    if loss.field.endswith(".record"):
        return loss.field.removesuffix(".record")
    if loss.field in _WHOLE_RECORD_FIELDS:
        return loss.field.split(".")[0]
    return None


def count_lost_records(document: CanonicalDocument, losses: list[Loss]) -> int:
    """How many of ``document``'s records the losses leave out whole.

    Each record is counted once, and never more than the source holds of its kind: a CAD Trust
    codec also reports the project records it derived from units, which the source never held."""
    named: dict[str, set[str]] = {}
    for loss in losses:
        kind = lost_kind(loss)
        if kind is not None:
            named.setdefault(kind, set()).update(loss.records)
    held = {kind: len(getattr(document, kind)) for kind in RECORD_KINDS}
    held["submission"] = int(document.submission is not None)
    return sum(min(len(ids), held.get(kind, 0)) for kind, ids in named.items())


@dataclass(slots=True)
class Translation:
    output: SerializeResult
    document: CanonicalDocument
    source_findings: list[Finding] = field(default_factory=list)
    target_findings: list[Finding] = field(default_factory=list)

    @property
    def losses(self) -> list[Loss]:
        return self.output.losses

    @property
    def records_read(self) -> int:
        return self.document.record_count()

    @property
    def records_lost(self) -> int:
        return count_lost_records(self.document, self.losses)

    @property
    def records_written(self) -> int:
        return max(self.records_read - self.records_lost, 0)


def translate(data: bytes, *, source: str, target: str, source_medium: Medium, target_medium: Medium,
              catalog: AdapterCatalog | None = None, accept_losses: bool = False) -> Translation:
    """Translate ``data`` from one format to another, validating both ends.

    Raises :class:`ValidationFailed` when the source has errors; :class:`TranslationError` (with
    the findings) when the output, or any of its files, fails the target's validation;
    :class:`NothingCarried` when no record of the source can be written; and
    :class:`RecordsLost` when whole records are left out and ``accept_losses`` is false.

    The cyclic garbage collector is paused meanwhile (:mod:`adapters._gc_pause`).
    """
    with cyclic_gc_paused():
        return _translate(data, source=source, target=target, source_medium=source_medium,
                          target_medium=target_medium, catalog=catalog, accept_losses=accept_losses)


def _translate(data: bytes, *, source: str, target: str, source_medium: Medium, target_medium: Medium,
               catalog: AdapterCatalog | None, accept_losses: bool) -> Translation:
    adapters = catalog or default_catalog()
    src = adapters.get(source)
    dst = adapters.get(target)
    parsed = src.parse(data, medium=source_medium)
    if not parsed.valid:
        raise ValidationFailed(f"the {source} input has errors; nothing was translated",
                               findings=parsed.findings)
    out = dst.serialize(parsed.document, medium=target_medium)
    result = Translation(output=out, document=parsed.document, source_findings=parsed.findings)
    if result.records_read and not result.records_written:
        reasons = sorted({loss.reason for loss in out.losses if is_record_loss(loss)})
        raise NothingCarried(f"no record could be carried: the {source} input holds {result.records_read} "
                             f"records ({_kinds(parsed.document)}) and {target} writes none of them ("
                             + "; ".join(reasons) + ")", findings=out.findings)  # the findings it points to
    checks = _validate_output(dst, out, target_medium)
    target_findings = list(out.findings) + checks
    result.target_findings = target_findings
    if any(f.is_error for f in target_findings):
        raise TranslationError(f"the {target} output failed its own validation; nothing was written",
                               findings=target_findings)
    if result.records_lost and not accept_losses:
        raise RecordsLost(f"{result.records_lost} of {result.records_read} records cannot be written as "
                          f"{target} (see the losses); nothing was written. Accept the losses to write "
                          f"the other {result.records_written}", losses=out.losses)
    return result


def _kinds(document: CanonicalDocument) -> str:
    counts = [(attr.replace("_", " "), len(getattr(document, attr))) for attr in RECORD_KINDS]
    held = [f"{n} {name}" for name, n in counts if n]
    if document.submission is not None:
        held.insert(0, "1 submission")
    return ", ".join(held)


def _validate_output(dst: RegistryAdapter, out: SerializeResult, medium: Medium) -> list[Finding]:
    """The target's findings on the output: the one document, or every file of a several-file output.

    A several-file output is validated as one archive when the target reads archives (its tables
    refer to each other), otherwise file by file, each finding naming its file."""
    # a target whose layout cannot hold every field it reads checks its output with validate_output
    validate = getattr(dst, "validate_output", dst.validate)
    if not out.files:
        return list(validate(out.data, medium=medium).findings)
    try:
        return list(validate(pack_files(out.files), medium=medium).findings)
    except InputError:
        pass  # the target reads one file at a time
    findings: list[Finding] = []
    for name, content in out.files.items():
        findings.extend(replace(f, message=f"{name}: {f.message}")
                        for f in validate(content, medium=medium).findings)
    return findings


def pack_files(files: dict[str, bytes]) -> bytes:
    """The files of a several-file output as one zip archive, in the order given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


class FormatNotDetected(UnknownFormat):
    """No adapter recognises the input's header or shape."""

    code = "FORMAT.UNDETECTED"


def detect_format(data: bytes, *, medium: Medium, catalog: AdapterCatalog | None = None) -> str:
    """The name of the format ``data`` is written in, judged by its header or shape, never its file name.

    The only reader of a medium is taken as is. Otherwise a registry export is recognised by its
    header alone (its required columns, and at least half of the file's columns known to its layout;
    the closest layout wins), without reading the rows. Failing that, every other adapter that reads
    ``medium`` validates the input, and recognises it when it counts at least one record; the one with
    the fewest errors wins (then catalogue order). Raises :class:`FormatNotDetected` when no adapter
    recognises the input, and the readers' own :class:`InputError` when none can read it at all (not
    UTF-8, not JSON)."""
    adapters = catalog or default_catalog()
    readers = [a for a in adapters if medium in a.media]
    if len(readers) == 1:
        return readers[0].name
    exports = [a for a in readers if isinstance(a, CsvExportAdapter)] if medium is Medium.CSV else []
    if exports:
        by_header = _by_header(exports, data)
        if by_header is not None:
            return by_header
    ranked: list[tuple[int, int, str]] = []
    unreadable: list[InputError] = []
    for order, adapter in enumerate(readers):
        if adapter in exports:
            continue
        try:
            errors = _recognition_errors(adapter, data, medium)
        except InputError as exc:
            unreadable.append(exc)
            continue
        if errors is not None:
            ranked.append((errors, order, adapter.name))
    if not ranked and unreadable and len(unreadable) == len(readers) - len(exports):
        raise unreadable[0]  # not readable as this medium at all: say why, as any reader would
    if not ranked:
        tried = ", ".join(a.name for a in readers) or "none"
        raise FormatNotDetected(f"no format carbonlink reads recognises this {medium.value} input (tried: {tried}); "
                                "name it with --format (see `carbonlink formats`)")
    return min(ranked)[2]


def _by_header(exports: list[CsvExportAdapter], data: bytes) -> str | None:
    """The registry export whose layout knows the CSV header best, or None when none recognises it. A folder of
    CSV files (packed as a zip) is one registry's exports when every file's header names the same adapter."""
    if is_zip(data):
        try:
            members = unpack_csv_archive(data)
        except InputError:
            return None
        found = {_by_header(exports, content) for _name, content in members}
        return found.pop() if len(found) == 1 else None
    try:
        header = next(iter(read_csv_records(data[:65536].rsplit(b"\n", 1)[0] or data)), None)
    except InputError:
        return None  # the other readers say why the input cannot be read
    if header is None:
        return None
    matches: list[tuple[int, int, str]] = []
    for order, adapter in enumerate(exports):
        mapper = adapter.detect(header.cells, [])
        if mapper is not None and 2 * len(mapper.unknown) <= len(mapper.header):
            matches.append((len(mapper.unknown), order, adapter.name))
    return min(matches)[2] if matches else None


def _recognition_errors(adapter: RegistryAdapter, data: bytes, medium: Medium) -> int | None:
    """How many errors ``adapter`` finds in ``data`` when its validation counts a record in it, else
    None; an :class:`InputError` when it cannot read ``data`` at all."""
    try:
        report = adapter.validate(data, medium=medium)
    except InputError:
        raise
    except CarbonlinkError:
        return None
    if not report.records:
        return None
    return sum(1 for f in report.findings if f.is_error)

"""The CAD Trust v2 document of a stream of canonical units, written in memory bounded by its projects.

:class:`V2UnitStream` takes the units of a registry export one at a time and builds, for each, the very
record :func:`standards.cadt.mapping_v2.from_document` builds for it (the same mapping, the same
:class:`~standards.cadt.linking_v2.V2Linker` completion and UUIDv5 links). Each unit record is validated
(the validator's per-record layers) before it is spooled, as indented JSON, to a temporary file; the
records the linker derives once per project, issuance, verification, location or methodology stay in
memory. :meth:`V2UnitStream.finish` completes the projects, validates those records with the whole-document
validator, checks the units' links and ids against them, and :meth:`V2UnitStream.write` writes the
document byte for byte as :meth:`CadtV2Codec.serialize` would (``orjson`` with two-space indents).

What is kept per unit: a 64-bit prefix of its ``cadTrustUnitId`` (8 bytes, for the duplicate-id check).
Loss record ids are kept up to :data:`LOSS_IDS_KEPT` per field, with the full count in the loss's reason
beyond that. A document whose units must all be known before the first can be completed (a registry
vocabulary with an ``issuanceKey`` column, whose blocks are linked to issuances named by other rows) is
not streamed: :class:`NotStreamable`. Issuance-report rows (:mod:`standards.cadt._issuance_rows`: rows
without a serial block) are linked as their project's issuance and left out of the units, as the whole-file
path leaves them out: the units' findings are numbered as the output's units (:mod:`standards.cadt._stream_rows`).

The stream is parameterised by its target model: :class:`standards.cadt.stream_v1.V1UnitStream` is this
stream for CAD Trust v1 (its own mapping, linker, document layout; no templates).
"""

from __future__ import annotations

import contextlib
import itertools
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from typing import IO, Any

from standards.cadt import aef
from standards.cadt._issuance_rows import is_issuance_row, lose_row
from standards.cadt._stream_output import Forgetful, ForgetfulIndices, new_spool, write_list
from standards.cadt._stream_output import render as render
from standards.cadt._stream_rows import IssueDatesSoFar, place_unit_findings
from standards.cadt._stream_rows import NotStreamable as NotStreamable
from standards.cadt._unit_templates import UnitTemplate, UnitTemplates
from standards.cadt.codec import CadtV2Codec
from standards.cadt.common import LossLog, grown, less_counts, without_none
from standards.cadt.linking_v2 import V2Linker, _Slot, _v2_vocabulary
from standards.cadt.mapping_v2 import _Output, _unit_record
from standards.cadt.spec import Version, load_spec
from standards.cadt.validate import CadtValidator, default_locator
from standards.cadt.vocab import Vocabulary
from standards.codec import Loss
from standards.findings import Finding
from standards.model import CanonicalDocument, UnitBlock

#: Record ids a streamed translation names per lost field (the count is always complete).
LOSS_IDS_KEPT = 1000
#: Unit losses a linked unit makes good (as :meth:`V2Linker.forget_losses` drops them).
_MADE_GOOD = frozenset(f"unit.{name}" for name in ("registry", "project_name", "project_id", "issuance_date"))
#: What :meth:`V2UnitStream._from_template` answers for a unit it wrote.
_WRITTEN = object()
_UNKNOWN = object()


class BoundedLossLog(LossLog):
    """A :class:`LossLog` that counts every record but names at most :data:`LOSS_IDS_KEPT` per field."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        #: While a list: every loss added, as (field, record id, reason) (a unit's, for its template).
        self.recording: list[tuple[str, str, str]] | None = None

    def add(self, name: str, record: str, reason: str) -> None:
        if self.recording is not None:
            self.recording.append((name, record, reason))
        count = self.counts.get(name, 0)
        self.counts[name] = count + 1
        if count < LOSS_IDS_KEPT:
            self.fields.setdefault(name, []).append(record)
        self.reasons.setdefault(name, reason)

    def add_each(self, losses: tuple[tuple[str, str], ...], record: str) -> None:
        """:meth:`add` for each (field, reason) of ``losses``, all of record ``record`` (not recorded)."""
        counts, fields, reasons = self.counts, self.fields, self.reasons
        for name, reason in losses:
            count = counts.get(name, 0)
            counts[name] = count + 1
            if count < LOSS_IDS_KEPT:
                fields.setdefault(name, []).append(record)
            if name not in reasons:
                reasons[name] = reason

    def as_losses(self) -> list[Loss]:
        out = []
        for name, ids in sorted(self.fields.items()):
            count, reason = self.counts[name], self.reasons[name]
            if count > len(ids):
                reason = f"{reason} ({count} records; the first {len(ids)} named)"
            out.append(Loss(name, tuple(ids), reason))
        return out


class _UnitLosses(LossLog):
    """The losses of the unit being built: passed on to ``sink`` at once, except those its link may make
    good, which wait for :meth:`settle`."""

    def __init__(self, sink: LossLog, waiting: frozenset[str] = _MADE_GOOD) -> None:
        super().__init__()
        self.sink = sink
        self.waiting = waiting
        self.pending: list[tuple[str, str, str]] = []

    def add(self, name: str, record: str, reason: str) -> None:
        if name in self.waiting:
            self.pending.append((name, record, reason))
        else:
            self.sink.add(name, record, reason)

    def settle(self, linked: bool, made_good: frozenset[str] = _MADE_GOOD) -> None:
        """Pass on the losses waiting, but those in ``made_good`` when the unit was ``linked``."""
        for name, record, reason in self.pending:
            if not linked or name not in made_good:
                self.sink.add(name, record, reason)
        self.pending.clear()


class V2UnitStream:
    """Builds, validates and spools the v2 records of a stream of units (see the module docstring)."""

    #: Whether units of a group already built may be built from its template (False: every unit the whole way).
    use_templates = True
    #: The target model: its version, the units' resource and the units' id field.
    version: Version = "v2"
    unit_resource = "unit"
    unit_id_field = "cadTrustUnitId"

    #: Whether the stream leaves out the records an error points at (``--accept-losses``; v1 only).
    drops_flagged = False

    def __init__(self, codec: CadtV2Codec) -> None:
        if codec.accept_losses and not self.drops_flagged:
            raise NotStreamable("a codec that drops flagged records needs the whole document")
        self.codec = codec
        self.spec = load_spec(self.version)
        self._unit_fields = self.spec.entities["unit"].by_name
        self.losses = BoundedLossLog()
        #: The issuance dates the linker takes for undated blocks, from the blocks read so far.
        self.issue_dates = IssueDatesSoFar()
        self._start_target(codec)
        self.validator = CadtValidator(self.version, codec.picklists, codec.profile)
        self.unit_findings: list[Finding] = []
        self.validator._findings = self.unit_findings
        self.validator._locate = default_locator
        self._issuance_refs: dict[str, int] = {}  # cadTrustIssuanceId -> first unit that passed naming it
        self._issuances_placed: set[str] = set()
        # the 64-bit prefixes of the units' ids, in 256 buckets by their first byte (sorted one at a time)
        self._id_prefixes = [array("Q") for _ in range(256)]
        self._spool: IO[bytes] = new_spool()  # closed by close()
        self.units = 0
        #: Issuance-report rows read (linked as their project's issuance, not written as units).
        self.rows = 0
        self.findings: list[Finding] = []
        self.templates = UnitTemplates(self.spec, self.validator)
        #: Units built from their group's template (the others went the whole way).
        self.templated = 0
        self._vocabularies: dict[Any, Any] = {}  # registry -> its v2 vocabulary (None: none)
        self._saturated: list[UnitTemplate] = []  # templates with units whose losses and counts wait for settle()

    def _start_target(self, codec: CadtV2Codec) -> None:
        """What the target model's mapping and linking keep while units pass."""
        self._out = _Output(self.spec)
        self.linker = V2Linker(codec.picklists, codec.operator, codec.profile.optional)
        self.linker._native = self._out.records
        self.linker.linked_units = Forgetful()
        self.linker.linked_indices = ForgetfulIndices()
        self.linker._issue_dates = self.issue_dates
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._unit_losses = _UnitLosses(self.losses)

    @staticmethod
    def vocabulary_of(registry: str | None) -> Vocabulary | None:
        """The vocabulary the target's linker completes a unit of ``registry`` with (None: not linked)."""
        return _v2_vocabulary(registry)

    @property
    def read(self) -> int:
        """The records read: the units and the issuance-report rows."""
        return self.units + self.rows

    # -- per unit -------------------------------------------------------------------------------

    def add(self, unit: UnitBlock) -> None:
        """Map, complete, validate and spool one unit (the ``self.units``-th of the document): from its
        group's template when it has one (:mod:`standards.cadt._unit_templates`), else the whole way."""
        self.issue_dates.note(unit.registry, unit.project_id, unit.vintage, unit.issuance_date)
        vocab = self.vocabulary_of(unit.registry)
        key = self._from_template(unit.__dict__, vocab)
        if key is not _WRITTEN:
            self._add_whole(unit, vocab, key)

    def add_values(self, values: dict[str, Any], build: Callable[[dict[str, Any]], UnitBlock],
                   group: Any = None) -> None:
        """:meth:`add` of the unit ``build(values)``, built only when its group's template does not write it.
        ``values``: every field of the model, as the built block holds them (its ``__dict__``), so the group
        and the unit's own values are read from them exactly as from the block. ``group``: the reader's mark of
        the block's group (see :class:`adapters.registry_exports.PendingBlock`), None when it gives none."""
        if values["serial"] is None:
            self.add(build(values))
            return
        registry = values["registry"]
        self.issue_dates.note(registry, values["project_id"], values["vintage"], values["issuance_date"])
        vocab = self._vocabularies.get(registry, _UNKNOWN)
        if vocab is _UNKNOWN:
            vocab = self._vocabularies[registry] = self.vocabulary_of(registry)
        key = self._from_template(values, vocab, group)
        if key is not _WRITTEN:
            self._add_whole(build(values), vocab, key)

    def _from_template(self, given: dict[str, Any], vocab: Vocabulary | None, group: Any = None) -> Any:
        """Spool the unit whose field values are ``given`` from its group's template and answer
        :data:`_WRITTEN`; when it cannot, answer its group's key (None: no group) for the whole way."""
        if not self.use_templates:
            return None
        templates = self.templates
        key = templates.key_of(given, vocab) if group is None else templates.key_by(group, given, vocab)
        template = templates.get(key) if key is not None else None
        if template is None or (template.slot is not None and _held(template.slot) != template.held):
            return key
        written = template.write(given, *templates.bounds)
        if written is None:
            return key
        # the unit, from its group's template: the template's losses and counts, the unit's own values. Once
        # every loss field of the template names no more record ids, its units' losses and counts are only
        # counted here, and added by settle()
        if template.saturated:
            if not template.replayed:
                self._saturated.append(template)
            template.replayed += 1
        else:
            self._settled(template, given["serial"])
        rendered, head = written
        if head >= 0:
            self._id_prefixes[head >> 56].append(head)
        self._spool.write(b",\n" + rendered if self.units else rendered)  # as _spool_record
        self.units += 1
        self.templated += 1
        return _WRITTEN

    def _add_whole(self, unit: UnitBlock, vocab: Vocabulary | None, key: tuple[Any, ...] | None) -> None:
        """The whole way: map, complete, validate; the unit's group keeps it as its template when the stream
        was in its steady state (nothing added that the group's next unit depends on). ``index``: the unit's
        place among the records read (its label and record id), as the whole-document mapping numbers it."""
        index = self.read
        self.settle()
        if key is None:  # no group: nothing to keep
            self._build(unit, vocab, index)
            return
        linker = self.linker
        before = self._state(unit, vocab)
        derived, uses = dict(linker._derived), dict(linker._profile_uses)
        linker.issuance_built = None
        self.losses.recording = []
        try:
            record, rendered, passed = self._build(unit, vocab, index)
        finally:
            recorded, self.losses.recording = self.losses.recording, None
        once = self._built_once(before, self._state(unit, vocab), record) if passed else None
        counts = less_counts((*grown(derived, linker._derived), *grown(uses, linker._profile_uses)), once or ())
        if recorded is not None and once is not None and counts is not None:
            template = self.templates.template(unit, record, rendered, vocab, recorded, counts,
                                               _text(record.get("cadTrustIssuanceId")))
            if template is not None:
                slot = self._slots.get((vocab.name, str(unit.project_id))) if vocab is not None else None
                if slot is not None:
                    template.slot, template.held = slot, _held(slot)
                self.templates.keep(key, template)

    def _built_once(self, before: tuple[Any, ...], after: tuple[Any, ...],
                    record: dict[str, Any]) -> tuple[tuple[Counter[str], str, int], ...] | None:
        """What the unit just built (the stream's :meth:`_state` ``before`` and ``after`` it) added to the linker's
        counts that the next unit of its group does not add: nothing in the steady state; when it went beyond
        that only by building the issuance it is linked to (with the records and project slot the issuance
        needed, no finding, nothing from the mapping), the counts building the issuance added once. None when
        the next unit of its group may be built otherwise than this one."""
        if after == before:
            return ()
        built = self.linker.issuance_built
        if built is None or built[0] != record.get("cadTrustIssuanceId") or after[1] != before[1] + 1 \
                or after[3] != before[3] or after[5:7] != before[5:7]:
            return None
        return built[1]

    def _build(self, unit: UnitBlock, vocab: Vocabulary | None,
               index: int) -> tuple[dict[str, Any], bytes, bool]:
        losses = self._unit_losses
        record = _unit_record(unit, unit.serial or f"#{index}", self._unit_fields, self._out, losses)
        linked = False
        found = len(self.linker.findings)
        if vocab is not None:
            if index == 0 and vocab.column("unitColumns", "issuanceKey"):
                raise NotStreamable(f"{vocab.name} links blocks to issuances named by other rows")
            slot = self.linker._slot_for(unit, vocab, self._slots, self._out.records["project"])
            self.linker._complete_unit(record, unit, index, vocab, slot)
            linked = bool(unit.project_id) and "cadTrustIssuanceId" in record
        losses.settle(linked)
        if self._placed(unit, index, linked, self.linker.findings, found):
            return record, b"", False
        record = without_none(record)
        passed = self._check(record, self.units)
        rendered = render(record)
        self._spool_record(rendered)
        return record, rendered, passed

    def _placed(self, unit: UnitBlock, index: int, linked: bool, findings: list[Finding], found: int) -> bool:
        """Whether the unit just completed (the ``index``-th record read) is an issuance-report row, linked as its
        project's issuance and left out of the units (its losses and findings as the whole-document path gives
        them). The linker's ``findings`` from ``found`` on are renumbered as the output's units."""
        row = unit.serial is None and is_issuance_row(unit)
        if row or self.rows:
            place_unit_findings(findings, found, self.unit_resource, index,
                                None if row else self.units, linked)
        if row:
            lose_row(self.losses, index, unit.project_id, linked, self.version)
            self.rows += 1
        return row

    def _settled(self, template: UnitTemplate, serial: str) -> None:
        """The losses and counts of one unit of ``template`` (record id ``serial``), added now."""
        losses = self.losses
        losses.add_each(template.losses, serial)
        for counter, what, count in template.counts:
            counter[what] += count
        if template.issuance is not None:
            self._issuance_refs.setdefault(template.issuance, self.units)
        if all(losses.counts[name] >= LOSS_IDS_KEPT for name, _reason in template.losses):
            template.saturated = True

    def settle(self) -> None:
        """Add the losses and counts of the units written from saturated templates (:meth:`_from_template`): the
        same sums as adding them unit by unit, as no loss field of theirs names another record id and no
        count is read in between (this runs before a unit goes the whole way and before :meth:`finish`).
        Their issuance is already referenced: the template's own unit noted it (it passed)."""
        counts = self.losses.counts
        for template in self._saturated:
            times, template.replayed = template.replayed, 0
            for name, _reason in template.losses:
                counts[name] += times
            for counter, what, count in template.counts:
                counter[what] += count * times
        self._saturated.clear()

    def _spool_record(self, rendered: bytes) -> None:
        if self.units:
            self._spool.write(b",\n" + rendered)
        else:
            self._spool.write(rendered)
        self.units += 1

    def _state(self, unit: UnitBlock, vocab: Vocabulary | None) -> tuple[Any, ...]:
        """What a unit's building may add that the next unit of its group depends on: the linker's records
        (0), issuances (1), project slots (2), the mapping's related records (3), the records kept (4), the
        findings (5, 6) and what the unit's project slot holds (7)."""
        linker = self.linker
        slot = self._slots.get((vocab.name, unit.project_id)) if vocab is not None and unit.project_id else None
        held = (slot.first_issuance, *_held(slot), len(slot.record)) if slot is not None else None
        return (len(linker._emitted), len(linker._issuance_ids), len(self._slots), len(self._out.seen),
                sum(map(len, self._out.records.values())), len(linker.findings), len(self.unit_findings),
                held)

    def _check(self, record: dict[str, Any], index: int) -> bool:
        """Validate one unit record; whether it passed."""
        checked = self.validator._check_record("unit", index, "unit", record)
        issuance = record.get("cadTrustIssuanceId")
        if issuance is not None and not checked.failed:  # links of a record that failed are not checked
            self._issuance_refs.setdefault(str(issuance), index)
            self._issuances_placed.add(str(issuance))
        self._note_id(record.get("cadTrustUnitId"))
        return not checked.failed

    def _note_id(self, unit_id: Any) -> None:
        if isinstance(unit_id, str) and len(unit_id) == 36:
            with contextlib.suppress(ValueError):
                prefix = int(unit_id[:8] + unit_id[9:13] + unit_id[14:18], 16)
                self._id_prefixes[prefix >> 56].append(prefix)

    # -- the end --------------------------------------------------------------------------------

    def finish(self) -> None:
        """Complete the projects, validate the records kept in memory and the units' links; the
        findings (linker, then validation, as the whole-document path orders them) in ``findings``."""
        self.settle()
        linker = self.linker
        for slot in self._slots.values():
            vocab = self.vocabulary_of(slot.registry)
            if vocab is not None:
                linker._complete_project(slot, vocab)
        linker._report()
        linker.forget_losses(self.losses)  # the projects' own made-good losses (none are derived ones)
        empty = CanonicalDocument()
        self._out.records.update(aef.from_records(empty, self.codec.picklists, self.codec.profile, self.losses))
        head = self.held()
        # the records kept in memory go the whole way the whole-file path checks its output: validation, then
        # the mapping back (records linked to nothing are reported); a unit record is not mapped back
        validation = self.codec.parse_object(head)
        validation.findings = [f for f in validation.findings if not self._placed_by_units(f, head)]
        issuances = {str(r.get("cadTrustIssuanceId")) for r in head.get("issuance", [])}
        if issuances:
            for value, index in self._issuance_refs.items():
                if value not in issuances:
                    self.validator._add("CADT.V2.REF", ("unit", index, "cadTrustIssuanceId"),
                                        f"unit {index}: cadTrustIssuanceId {value} names no issuance record "
                                        "of this document")
        self._duplicate_ids()
        self.findings = linker.findings + validation.findings + self.unit_findings

    def _placed_by_units(self, finding: Finding, head: dict[str, list[dict[str, Any]]]) -> bool:
        """Whether ``finding`` says an issuance is linked to nothing while a unit that passed names it (the
        whole-file path places such an issuance with its units)."""
        pointer = finding.location.pointer
        if finding.rule != "CADT.V2.UNPLACED" or not pointer.startswith("/issuance/"):
            return False
        issuances = head.get("issuance", [])
        index = int(pointer.rsplit("/", 1)[1])
        return index < len(issuances) and str(issuances[index].get("cadTrustIssuanceId")) in self._issuances_placed

    def held(self) -> dict[str, list[dict[str, Any]]]:
        """The records kept in memory (every resource but ``unit``), as the document holds them."""
        return {resource: [without_none(r) for r in records] for resource, records in self._out.records.items()
                if records and resource != "unit"}

    def _duplicate_ids(self) -> None:
        """``CADT.V2.DUPLICATE_ID`` for units whose ``cadTrustUnitId`` repeats (confirmed on the full id; in v1
        ``CADT.V1.DUPLICATE_ID`` for ``warehouseUnitId``)."""
        twice: set[int] = set()
        for bucket in self._id_prefixes:
            twice.update(a for a, b in itertools.pairwise(sorted(bucket)) if a == b)
        if not twice:
            return
        first: dict[str, int] = {}
        for index, unit_id in self._spooled_ids():
            if int(unit_id[:8] + unit_id[9:13] + unit_id[14:18], 16) not in twice:
                continue
            if unit_id in first:
                name = self.unit_id_field
                self.validator._add(f"CADT.{self.version.upper()}.DUPLICATE_ID", (self.unit_resource, index, name),
                                    f"{name} {unit_id} is used by unit {first[unit_id]} too")
            first.setdefault(unit_id, index)

    def _spooled_ids(self) -> Iterator[tuple[int, str]]:
        self._spool.seek(0)
        index = -1
        key = b'      "' + self.unit_id_field.encode() + b'": "'
        for line in self._spool:
            if line.startswith(b"    {"):
                index += 1
            elif line.startswith(key):
                yield index, line.split(b'"')[3].decode()
        self._spool.seek(0, 2)

    @property
    def valid(self) -> bool:
        return not any(f.is_error for f in self.findings)

    def write(self, out: IO[bytes]) -> None:
        """The document, as :meth:`CadtV2Codec.serialize` writes it, into ``out``."""
        position = list(self.spec.resources).index("unit")
        order = list(self.spec.resources)
        held = self.held()
        parts = [(r, records) for r, records in held.items() if order.index(r) < position]
        tail = [(r, records) for r, records in held.items() if order.index(r) > position]
        if not parts and not tail and not self.units:
            out.write(b"{}\n")
            return
        out.write(b"{\n")
        first = True
        for resource, records in parts:
            first = write_list(out, resource, records, first)
        if self.units:
            out.write(b"" if first else b",\n")
            out.write(b'  "unit": [\n')
            self._spool.seek(0)
            while chunk := self._spool.read(1 << 20):
                out.write(chunk)
            out.write(b"\n  ]")
            first = False
        for resource, records in tail:
            first = write_list(out, resource, records, first)
        out.write(b"\n}\n")

    def close(self) -> None:
        self._spool.close()


def _held(slot: _Slot) -> tuple[Any, ...]:
    """What a unit of the project may fall back on in its slot (a block without its own methodology takes the
    project's): a template is used only while these are what they were when it was made."""
    return slot.methodology, slot.developer, slot.project_type, slot.country



def _text(value: Any) -> str | None:
    return None if value is None else str(value)

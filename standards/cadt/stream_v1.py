"""The CAD Trust v1 document of a stream of canonical units, written in memory bounded by its projects.

:class:`V1UnitStream` is :class:`~standards.cadt.stream_v2.V2UnitStream` with the v1 target model: each unit
is mapped by :func:`standards.cadt.mapping_v1._unit_record`, completed and linked by the
:class:`~standards.cadt.linking.V1Linker` (the same UUIDv5 ids, issuances nested in their project), put in the
data dictionary's field order, validated by the v1 validator's per-record layers and spooled; the projects
(with their issuances) stay in memory. :meth:`V1UnitStream.finish` completes the projects, validates them
with the whole-document validator, checks the units' ids (``warehouseUnitId``) and their links to the
projects, and :meth:`V1UnitStream.write` writes ``{"projects": [...], "units": [...]}`` byte for byte as
:meth:`~standards.cadt.codec.CadtV1Codec.serialize` does. Every unit goes the whole way (no unit templates).
Issuance-report rows are linked as their project's issuance and left out of the units, as the whole-file
path leaves them out (:mod:`standards.cadt._stream_rows`).

With a codec that accepts losses (``--accept-losses``) the stream leaves out what the whole-file path leaves out
(:mod:`standards.cadt._dropping`, step by step): at the end it knows the records an error points at, then takes
one more pass over the spooled units, leaving out the flagged ones, unlinking those whose project was left out,
and validating each unit written as the whole-file path validates its output.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import IO, Any

import orjson

from standards.cadt import mapping_v1
from standards.cadt._dropping import (
    demote_flagged,
    demote_unlinked_rows,
    flagged_records,
    lost_record_id,
    not_written,
    note_dropped_project,
    unlink_from_dropped,
)
from standards.cadt._issuance_rows import not_linked, row_id
from standards.cadt._stream_output import new_spool, render, write_list
from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.common import in_field_order
from standards.cadt.linking import V1Linker, _ProjectSlot
from standards.cadt.stream_v2 import LOSS_IDS_KEPT, NotStreamable, V2UnitStream, _UnitLosses
from standards.cadt.validate import Record, Validation
from standards.cadt.vocab import Vocabulary, registry_vocabulary
from standards.findings import Finding
from standards.model import UnitBlock

#: Unit losses the v1 linker may make good: the project (a linked unit reaches it through its issuance) and
#: a status v1 has no name for (written from the common vocabulary).
_MADE_GOOD = frozenset({"unit.project_id", "unit.status"})
_LINKED = frozenset({"unit.project_id"})
_STATUS = frozenset({"unit.status"})


class V1UnitStream(V2UnitStream):
    """Builds, validates and spools the v1 records of a stream of units (see the module docstring)."""

    use_templates = False
    drops_flagged = True
    version = "v1"
    unit_resource = "units"
    unit_id_field = "warehouseUnitId"

    def __init__(self, codec: CadtV1Codec) -> None:
        super().__init__(codec)  # type: ignore[arg-type]

    def _start_target(self, codec: CadtV2Codec) -> None:
        self.v1_linker = V1Linker(codec.picklists, codec.operator)
        self.v1_linker._issue_dates = self.issue_dates
        self._project_records: list[dict[str, Any]] = []
        self._project_slots: dict[tuple[str, str], _ProjectSlot] = {}
        self._unit_losses = _UnitLosses(self.losses, _MADE_GOOD)
        #: (reference kind, value) -> the first unit that passed with it: a unit's issuance names its project
        #: (``warehouseProjectId``), or the unit names its issuance (``issuanceId``), checked at the end.
        self._refs: dict[tuple[str, str], int] = {}
        self._failed: set[int] = set()
        #: Issuance-report rows written as their project's issuance: (record id, project id).
        self._linked_rows: list[tuple[str, str | None]] = []
        #: Units left out because an error points at them (``--accept-losses``).
        self.dropped = 0

    @property
    def read(self) -> int:
        return self.units + self.rows + self.dropped

    @staticmethod
    def vocabulary_of(registry: str | None) -> Vocabulary | None:
        return registry_vocabulary(registry)

    def _build(self, unit: UnitBlock, vocab: Vocabulary | None,
               index: int) -> tuple[dict[str, Any], bytes, bool]:
        linker, losses = self.v1_linker, self._unit_losses
        record = mapping_v1._unit_record(unit, unit.serial or f"#{index}", self._unit_fields,
                                         self.codec.picklists, losses)
        linked = False
        found = len(linker.findings)
        if vocab is not None:
            if index == 0 and vocab.column("unitColumns", "issuanceKey"):
                raise NotStreamable(f"{vocab.name} links blocks to issuances named by other rows")
            slot = linker._slot_for(unit, vocab, self._project_slots, self._project_records)
            linker._complete_unit(record, unit, index, vocab, slot)
            linked = index in linker.linked_units
            linker.linked_units.discard(index)
        losses.settle(True, (_LINKED if linked else frozenset()) | (_STATUS if "unitStatus" in record else frozenset()))
        if self._placed(unit, index, linked, linker.findings, found):
            if linked:
                self._linked_rows.append((row_id(index, unit.project_id), unit.project_id))
            return record, b"", False
        record = in_field_order(record, self._unit_fields)
        passed = self._check_v1(record, self.units)
        rendered = render(record)
        self._spool_record(rendered)
        return record, rendered, passed

    def _check_v1(self, record: dict[str, Any], index: int) -> bool:
        checked = self.validator._check_record(self.unit_resource, index, "unit", record)
        self._note_id(record.get(self.unit_id_field))
        if checked.failed:
            self._failed.add(index)
            return False
        for ref in _references(record):
            self._refs.setdefault(ref, index)
        return True

    # -- the end --------------------------------------------------------------------------------

    def finish(self) -> None:
        """Complete the projects (with their issuances), validate them and the units' links to them; the
        findings (linker, then validation) in ``findings``."""
        linker = self.v1_linker
        for slot in self._project_slots.values():
            linker._complete_project(slot, registry_vocabulary(str(slot.record.get("_registry"))))
        linker._report_sources()
        findings = linker.findings
        if self.codec.accept_losses:
            findings = self._drop_flagged()
        head = self.held()
        validation = self.codec.parse_object(head) if head["projects"] else None
        if not self.codec.accept_losses:
            self._check_references(head["projects"])
            self._duplicate_ids()
        self.findings = findings + (validation.findings if validation else []) + self.unit_findings

    # -- accepting losses -----------------------------------------------------------------------

    def _drop_flagged(self) -> list[Finding]:
        """What :meth:`CadtV1Codec.serialize` does when it accepts losses: leave out the records an error of the
        linker or of the validator points at; the findings (errors about records left out made warnings). The
        units written are then validated again (``unit_findings``), as the whole-file path validates its output."""
        linker = self.v1_linker
        projects = self.held()["projects"]
        self._check_references(projects)
        self._duplicate_ids()
        checked = self.codec.check({"projects": projects}).findings if projects else []
        flagged = {_record_prefix(f) for f in linker.findings if f.is_error and f.location.pointer}
        unflagged = [f for f in (*checked, *self.unit_findings) if f.is_error and _record_prefix(f) not in flagged]
        findings = demote_unlinked_rows(linker.findings + unflagged)
        reasons = flagged_records(findings)
        dropped_projects: set[str] = set()
        dropped_names: set[str] = set()
        for (resource, index), rules in sorted(reasons.items()):
            if resource == "projects":
                note_dropped_project(projects[index], dropped_projects, dropped_names)
                self.losses.add("projects.record", lost_record_id(resource, index, projects[index]),
                                not_written(rules))
        self._project_records = [p for i, p in enumerate(projects) if ("projects", i) not in reasons]
        units = {index: rules for (resource, index), rules in reasons.items() if resource == "units"}
        if units or dropped_projects:
            self._rewrite_units(units, dropped_projects)
        self._lose_rows_of(dropped_names)
        return demote_flagged(findings, reasons)

    def _rewrite_units(self, flagged: dict[int, list[str]], dropped_projects: set[str]) -> None:
        """One pass over the spooled units: those ``flagged`` left out (lost records), those of a project left out
        unlinked; every unit written validated again under its place in the output."""
        old, self._spool = self._spool, new_spool()
        spooled = self._spooled_records(old)
        self.units, self.dropped = 0, 0
        self.unit_findings = self.validator._findings = []
        self._id_prefixes = [array("Q") for _ in range(256)]
        self._refs, self._failed = {}, set()
        try:
            for index, record in spooled:
                rules = flagged.get(index)
                if rules is not None:
                    self.losses.add("units.record", lost_record_id("units", index, record), not_written(rules))
                    self.dropped += 1
                    continue
                unlink_from_dropped(record, dropped_projects, self.losses)
                self._check_v1(record, self.units)
                self._spool_record(render(record))
        finally:
            old.close()
        self._check_references(self.held()["projects"])
        self._duplicate_ids()

    def _lose_rows_of(self, dropped_names: set[str]) -> None:
        """Issuance-report rows written as the issuance of a project left out are lost records
        (:func:`standards.cadt._issuance_rows.lose_rows_of`, on the stream's bounded loss log)."""
        moved = [rid for rid, project in self._linked_rows if project in dropped_names]
        if not moved:
            return
        kept = [rid for rid, project in self._linked_rows if project not in dropped_names]
        losses = self.losses
        if kept:
            losses.counts["unit.quantity"], losses.fields["unit.quantity"] = len(kept), kept[:LOSS_IDS_KEPT]
        else:
            del losses.counts["unit.quantity"], losses.fields["unit.quantity"], losses.reasons["unit.quantity"]
        for rid in moved:
            losses.add("units.record", rid, not_linked("v1"))

    def _check_references(self, projects: list[dict[str, Any]]) -> None:
        """``CADT.V1.REF.ISSUANCE`` for units whose issuance belongs to no project of the document, or that name
        an issuance no project has: the whole-document validator's check, run on the units that refer to
        something the projects do not hold (read back from the spool)."""
        if not projects:
            return
        project_ids = {str(p["warehouseProjectId"]) for p in projects if p.get("warehouseProjectId") is not None}
        issuance_ids = {str(i.get("id")) for p in projects for i in p.get("issuances") or []
                        if isinstance(i, dict) and i.get("id") is not None}
        bad = {ref for ref in self._refs if (ref[0] == "project" and ref[1] not in project_ids)
               or (ref[0] == "issuance" and issuance_ids and ref[1] not in issuance_ids)}
        if not bad:
            return
        held = Validation({"projects": [Record("projects", i, "project", p) for i, p in enumerate(projects)],
                           "units": [Record("units", index, "unit", unit)
                                     for index, unit in self._spooled_records(self._spool)
                                     if index not in self._failed and not bad.isdisjoint(_references(unit))]})
        self.validator._v1_references(held)

    @staticmethod
    def _spooled_records(spool: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
        """The unit records spooled in ``spool``, decoded one at a time."""
        spool.seek(0)
        index, lines = -1, list[bytes]()
        for line in spool:
            lines.append(line)
            if line.rstrip(b",\n") == b"    }":
                index += 1
                yield index, orjson.loads(b"".join(lines).rstrip(b",\n"))
                lines = []
        spool.seek(0, 2)

    def held(self) -> dict[str, list[dict[str, Any]]]:
        """The projects, as the document holds them."""
        return {"projects": [in_field_order(p, self.spec.entities["project"].by_name)
                             for p in self._project_records]}

    def write(self, out: IO[bytes]) -> None:
        """The document, as :meth:`CadtV1Codec.serialize` writes it, into ``out``."""
        projects = self.held()["projects"]
        out.write(b"{\n")
        if projects:
            write_list(out, "projects", projects, True)
        else:
            out.write(b'  "projects": []')
        if self.units:
            out.write(b',\n  "units": [\n')
            self._spool.seek(0)
            while chunk := self._spool.read(1 << 20):
                out.write(chunk)
            out.write(b"\n  ]")
        else:
            out.write(b',\n  "units": []')
        out.write(b"\n}\n")


def _record_prefix(finding: Finding) -> str:
    """The record a finding's pointer names (``/units/3``), as the codec compares them."""
    return "/".join((finding.location.pointer or "").split("/")[:3])


def _references(unit: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """What a unit record refers to, as the whole-document validator reads it: its issuance's project, else
    the issuance it names."""
    issuance = unit.get("issuance")
    if isinstance(issuance, dict) and issuance.get("warehouseProjectId") is not None:
        yield "project", str(issuance["warehouseProjectId"])
        return
    ref = unit.get("issuanceId") or (issuance or {}).get("id")
    if ref is not None:
        yield "issuance", str(ref)

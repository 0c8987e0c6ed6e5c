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
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import orjson

from standards.cadt import mapping_v1
from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.common import in_field_order
from standards.cadt.linking import V1Linker, _ProjectSlot
from standards.cadt.stream_v2 import NotStreamable, V2UnitStream, _UnitLosses, _write_list, render
from standards.cadt.vocab import Vocabulary, registry_vocabulary
from standards.model import UnitBlock

#: Unit losses the v1 linker may make good: the project (a linked unit reaches it through its issuance) and
#: a status v1 has no name for (written from the common vocabulary).
_MADE_GOOD = frozenset({"unit.project_id", "unit.status"})
_LINKED = frozenset({"unit.project_id"})
_STATUS = frozenset({"unit.status"})


class V1UnitStream(V2UnitStream):
    """Builds, validates and spools the v1 records of a stream of units (see the module docstring)."""

    use_templates = False
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
        head = self.held()
        validation = self.codec.parse_object(head) if head["projects"] else None
        self._check_references(head["projects"])
        self._duplicate_ids()
        self.findings = linker.findings + (validation.findings if validation else []) + self.unit_findings

    def _check_references(self, projects: list[dict[str, Any]]) -> None:
        """``CADT.V1.REF.ISSUANCE`` for units whose issuance belongs to no project of the document, or that name
        an issuance no project has (as the whole-document validator checks them)."""
        if not projects:
            return
        project_ids = {str(p["warehouseProjectId"]) for p in projects if p.get("warehouseProjectId") is not None}
        issuance_ids = {str(i.get("id")) for p in projects for i in p.get("issuances") or []
                        if isinstance(i, dict) and i.get("id") is not None}
        bad = {ref for ref in self._refs if (ref[0] == "project" and ref[1] not in project_ids)
               or (ref[0] == "issuance" and issuance_ids and ref[1] not in issuance_ids)}
        if not bad:
            return
        for index, unit in self._spooled_records():
            if index in self._failed:
                continue
            for kind, value in _references(unit):
                if (kind, value) not in bad:
                    continue
                if kind == "project":
                    self.validator._add("CADT.V1.REF.ISSUANCE", ("units", index, "issuance", "warehouseProjectId"),
                                        f"unit {index}'s issuance belongs to project {value}, which is not among "
                                        "the projects of this document")
                else:
                    self.validator._add("CADT.V1.REF.ISSUANCE", ("units", index, "issuanceId"),
                                        f"unit {index} refers to issuance {value}, which no project of this "
                                        "document has")

    def _spooled_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """The spooled unit records, decoded one at a time."""
        self._spool.seek(0)
        index, lines = -1, list[bytes]()
        for line in self._spool:
            lines.append(line)
            if line.rstrip(b",\n") == b"    }":
                index += 1
                yield index, orjson.loads(b"".join(lines).rstrip(b",\n"))
                lines = []
        self._spool.seek(0, 2)

    def held(self) -> dict[str, list[dict[str, Any]]]:
        """The projects, as the document holds them."""
        return {"projects": [in_field_order(p, self.spec.entities["project"].by_name)
                             for p in self._project_records]}

    def write(self, out: IO[bytes]) -> None:
        """The document, as :meth:`CadtV1Codec.serialize` writes it, into ``out``."""
        projects = self.held()["projects"]
        out.write(b"{\n")
        if projects:
            _write_list(out, "projects", projects, True)
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

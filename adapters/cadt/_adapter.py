"""The CADT node adapter: API answers and XLSX exports of a CAD Trust node, read and written."""

from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter

from adapters._options import current_options
from adapters.cadt._resources import _best_resource, _Origin, _Read, _resources
from adapters.cadt._rules import (
    BACK_REFERENCES,
    BACKREF,
    PARTIAL,
    REPEATED,
    RULES,
    SHAPE,
    SHEET,
    V1_PROJECT_CHILDREN,
    VERSION_ENV,
)
from adapters.cadt._xlsx import _columns, _typed, _write_v1_xlsx, _write_v2_xlsx
from standards import (
    CanonicalDocument,
    Finding,
    Location,
    Medium,
    ParseResult,
    Report,
    SerializeResult,
    UnknownFormat,
    iter_sheet_rows,
    json_pointer,
    load_json,
    read_bytes,
    read_workbook,
)
from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.spec import VERSIONS, EntitySpec, Version, load_spec
from standards.cadt.validate import Path


class CadtAdapter:
    """A CAD Trust node's API answers and XLSX exports (v1 and v2)."""

    name = "cadt"
    version = "1.0"
    description = "CAD Trust node API answers (v1/v2, paged or plain) and XLSX exports"
    reads = CadtV2Codec.reads | CadtV1Codec.reads
    writes = CadtV2Codec.writes | CadtV1Codec.writes
    media: tuple[Medium, ...] = (Medium.JSON, Medium.XLSX)
    rules = RULES

    def __init__(self, *, v1: CadtV1Codec | None = None, v2: CadtV2Codec | None = None) -> None:
        self._codecs: dict[Version, CadtV1Codec | CadtV2Codec] = {
            "v1": v1 or CadtV1Codec(), "v2": v2 or CadtV2Codec()}

    def codec(self, version: Version) -> CadtV1Codec | CadtV2Codec:
        return self._codecs[version]

    @property
    def target_version(self) -> Version:
        chosen = current_options().cadt_version.strip().lower()
        if chosen not in VERSIONS:
            raise UnknownFormat(f"{VERSION_ENV}={chosen!r}: expected v1 or v2")
        return "v1" if chosen == "v1" else "v2"

    # -- reading ----------------------------------------------------------------------------

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        if medium is Medium.JSON:
            read = self._read_json(load_json(read_bytes(data), what="CADT answer"))
        elif medium is Medium.XLSX:
            read = self._read_xlsx(data)
        else:
            raise UnknownFormat(f"cadt reads json and xlsx, not {medium.value}")
        if read.version is None:
            return ParseResult(CanonicalDocument(), read.findings)
        result = self.codec(read.version).parse_object(read.document, read.locate)
        return ParseResult(result.document, read.findings + result.findings)

    def validate(self, data: bytes, *, medium: Medium) -> Report:
        result = self.parse(data, medium=medium)
        return Report(standard=self.name, findings=result.findings, records=result.document.record_count())

    def _read_json(self, raw: Any) -> _Read:
        read = _Read()
        named = sum(1 for k in raw if k in _resources("v1") or k in _resources("v2")) if isinstance(raw, dict) else 0
        if named and named * 2 >= len(raw):  # an object keyed by resource name (a record has few such keys)
            versions = {v for v in VERSIONS for k in raw if k in _resources(v)}
            if len(versions) > 1:
                read.findings.append(SHAPE.finding("the input mixes CAD Trust v1 resources (projects, units) "
                                                   "with v2 resources; send one version at a time",
                                                   Location(pointer="")))
                return read
            read.version = versions.pop()
            for key, answer in raw.items():
                if key not in _resources(read.version):
                    read.findings.append(SHAPE.finding(f"{key!r} is not a CAD Trust {read.version} resource",
                                                       Location(pointer=json_pointer([key]))))
                    continue
                read.document[key] = self._records(answer, (key,), read)
            return read
        records = self._records(raw, (), read)
        if not records and read.findings:
            return read
        first = next((r for r in records if isinstance(r, dict)), None)
        guess = _best_resource(first) if first is not None else None
        if guess is None:
            read.findings.append(SHAPE.finding(
                "cannot tell which CAD Trust resource this answer holds (no record whose keys match a "
                "v1 or v2 entity); wrap it as {\"<resource>\": answer}", Location(pointer="")))
            return read
        read.version, resource = guess
        read.document[resource] = records
        return read

    def _records(self, answer: Any, path: Path, read: _Read) -> list[Any]:
        """The records of one resource's answer: a list, a paged object, pages, or one record."""
        if isinstance(answer, dict) and "data" in answer and ("page" in answer or "pageCount" in answer):
            return self._pages([answer], path, read)
        if isinstance(answer, list) and answer and all(isinstance(a, dict) and "data" in a and "page" in a
                                                       for a in answer):
            return self._pages(answer, path, read)
        if isinstance(answer, list):
            return answer
        if isinstance(answer, dict):
            return [answer]
        read.findings.append(SHAPE.finding(f"expected a list of records or a paged answer, not "
                                           f"{type(answer).__name__}", Location(pointer=json_pointer(path))))
        return []

    def _pages(self, pages: list[Any], path: Path, read: _Read) -> list[Any]:
        records: list[Any] = []
        seen: set[int] = set()
        count = 0
        for i, page in enumerate(pages):
            data, number, total = page.get("data"), page.get("page"), page.get("pageCount")
            where = Location(pointer=json_pointer([*path, i] if len(pages) > 1 else path))
            if not isinstance(data, list) or not isinstance(number, int) or not isinstance(total, int):
                read.findings.append(SHAPE.finding("a paged answer needs integer page and pageCount and a "
                                                   "data list", where))
                continue
            seen.add(number)
            count = max(count, total)
            records.extend(data)
        missing = sorted(set(range(1, count + 1)) - seen)
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
            read.findings.append(PARTIAL.finding(
                f"the answer holds {len(seen)} of {count} pages (missing page {shown}); records on the "
                "missing pages are not in this document", Location(pointer=json_pointer(path))))
        return records

    # -- XLSX -------------------------------------------------------------------------------

    def _read_xlsx(self, data: bytes) -> _Read:
        read = _Read()
        workbook = read_workbook(data, what="CADT export")
        try:
            sheets = {ws.title: self._sheet_rows(ws) for ws in workbook.worksheets}
        finally:
            workbook.close()
        for name, (header, rows) in sheets.items():
            _drop_repeated_columns(name, header, rows, read.findings)
        if "projects" in sheets or "units" in sheets:
            read.version = "v1"
            self._v1_workbook(sheets, read)
        elif any(name in _resources("v2") for name in sheets):
            read.version = "v2"
            spec = load_spec("v2")
            for name, (header, rows) in sheets.items():
                if name not in spec.resources:
                    read.findings.append(SHEET.finding(f"sheet {name!r} is not a CAD Trust v2 table; ignored",
                                                       Location(sheet=name)))
                    continue
                entity = spec.entity_for(name)
                read.document[name] = []
                for number, values in rows:
                    index = len(read.document[name])
                    read.document[name].append(_typed(entity, header, values))
                    read.origins[(name, index)] = _Origin(name, number, _columns(header))
        else:
            read.findings.append(SHAPE.finding(
                f"the workbook has no CAD Trust table sheet (sheets: {', '.join(sheets) or 'none'}); a v1 "
                "export has 'projects' or 'units', a v2 export one sheet per resource", Location()))
        return read

    @staticmethod
    def _sheet_rows(ws: Any) -> tuple[list[str], list[tuple[int, tuple[Any, ...]]]]:
        header: list[str] = []
        rows: list[tuple[int, tuple[Any, ...]]] = []
        for number, values in iter_sheet_rows(ws, what="CADT export"):
            if not header:
                header = [str(v).strip() if v is not None else "" for v in values]
                continue
            if any(v is not None and v != "" for v in values):
                rows.append((number, values))
        return header, rows

    def _v1_workbook(self, sheets: dict[str, tuple[list[str], list[tuple[int, tuple[Any, ...]]]]],
                     read: _Read) -> None:
        spec = load_spec("v1")
        project_entity = spec.entities["project"]
        known = {"projects", "units", "label_units", *V1_PROJECT_CHILDREN}
        for name in sheets:
            if name not in known:
                read.findings.append(SHEET.finding(f"sheet {name!r} is not a CAD Trust v1 export table; ignored",
                                                   Location(sheet=name)))
        projects: list[dict[str, Any]] = []
        by_wid: dict[str, int] = {}
        if "projects" in sheets:
            header, rows = sheets["projects"]
            for number, values in rows:
                record = _typed(project_entity, header, values)
                by_wid[str(record.get("warehouseProjectId"))] = len(projects)
                read.origins[("projects", len(projects))] = _Origin("projects", number, _columns(header))
                projects.append(record)
        issuances: dict[str, dict[str, Any]] = {}
        orphans: dict[tuple[str, str], tuple[int, Location]] = {}
        for child in V1_PROJECT_CHILDREN:
            if child not in sheets:
                continue
            child_field = project_entity.by_name[child]
            entity = spec.entities[str(child_field.child)]
            header, rows = sheets[child]
            for number, values in rows:
                cells = dict(zip(header, values, strict=False))
                parent = cells.get("projectId")
                kept = [(h, v) for h, v in zip(header, values, strict=False) if h not in BACK_REFERENCES]
                record = _typed(entity, [h for h, _ in kept], tuple(v for _, v in kept))
                if child == "issuances" and record.get("id") is not None:
                    issuances[str(record["id"])] = {**record, "warehouseProjectId": parent} \
                        if parent not in (None, "") else record
                index = by_wid.get(str(parent)) if parent not in (None, "") else None
                if index is None:  # a unit's issuance or label, or a row whose project is missing
                    column = header.index("projectId") + 1 if "projectId" in header else 1
                    where = Location(pointer=json_pointer([child, number]), sheet=child,
                                     cell=f"{get_column_letter(column)}{number}")
                    if parent not in (None, "") and "projects" in sheets:
                        read.findings.append(BACKREF.finding(
                            f"{child} row {number} names project {parent!r} in its projectId column (the "
                            "parent's warehouseProjectId), but no projects row has that id", where))
                    else:
                        orphans[(child, str(record.get("id")))] = (number, where)
                    continue
                siblings = projects[index].setdefault(child, [])
                read.origins[("projects", index, child, len(siblings))] = _Origin(child, number, _columns(header))
                siblings.append(record)
        read.document["projects"] = projects
        if "units" in sheets:
            read.document["units"] = self._v1_units(spec.entities, sheets, issuances, read)
            for unit in read.document["units"]:
                orphans.pop(("issuances", str(unit.get("issuanceId"))), None)
                for label in unit.get("labels") or []:
                    orphans.pop(("labels", str(label.get("id"))), None)
        for (child, _key), (number, where) in orphans.items():
            read.findings.append(BACKREF.finding(
                f"{child} row {number} belongs to no project row (empty or unknown "
                "projectId) and no unit uses it, so it would be lost", where))

    def _v1_units(self, entities: dict[str, EntitySpec],
                  sheets: dict[str, tuple[list[str], list[tuple[int, tuple[Any, ...]]]]],
                  issuances: dict[str, dict[str, Any]], read: _Read) -> list[dict[str, Any]]:
        header, rows = sheets["units"]
        labels: dict[str, dict[str, Any]] = {}
        if "labels" in sheets:
            lheader, lrows = sheets["labels"]
            for _number, values in lrows:
                pairs = [(h, v) for h, v in zip(lheader, values, strict=False) if h not in BACK_REFERENCES]
                record = _typed(entities["label"], [h for h, _ in pairs], tuple(v for _, v in pairs))
                if record.get("id") is not None:
                    labels[str(record["id"])] = record
        links: dict[str, list[str]] = {}
        if "label_units" in sheets:
            lheader, lrows = sheets["label_units"]
            for _number, values in lrows:
                cells = dict(zip(lheader, values, strict=False))
                links.setdefault(str(cells.get("warehouseUnitId")), []).append(str(cells.get("labelId")))
        units: list[dict[str, Any]] = []
        for number, values in rows:
            record = _typed(entities["unit"], header, values)
            issuance_id = record.get("issuanceId")
            if issuance_id is not None and str(issuance_id) in issuances:
                record["issuance"] = issuances[str(issuance_id)]
            unit_labels = [labels[x] for x in links.get(str(record.get("warehouseUnitId")), []) if x in labels]
            if unit_labels:
                record["labels"] = unit_labels
            read.origins[("units", len(units))] = _Origin("units", number, _columns(header))
            units.append(record)
        return units

    # -- writing ----------------------------------------------------------------------------

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        codec = self.codec(self.target_version)
        result = codec.serialize(document, medium=Medium.JSON)
        if medium is Medium.JSON:
            return result
        if medium is not Medium.XLSX:
            raise UnknownFormat(f"cadt writes json and xlsx, not {medium.value}")
        native = load_json(result.data)
        data = _write_v1_xlsx(native) if codec.cadt_version == "v1" else _write_v2_xlsx(native)
        return SerializeResult(data=data, medium=Medium.XLSX, losses=result.losses, findings=result.findings)


adapter = CadtAdapter()


def _drop_repeated_columns(name: str, header: list[str], rows: list[tuple[int, tuple[Any, ...]]],
                           findings: list[Finding]) -> None:
    """A column the sheet repeats (a node's units export writes ``issuanceId`` twice) is read once when
    every row holds the same value in each copy; a row where the copies differ is
    ``CADT.XLSX.REPEATED_COLUMN`` at the differing cell. The later copies' headers are blanked (not read)."""
    first: dict[str, int] = {}
    for column, title in enumerate(header):
        if not title:
            continue
        if title not in first:
            first[title] = column
            continue
        original = first[title]
        for number, values in rows:
            one = values[original] if original < len(values) else None
            other = values[column] if column < len(values) else None
            if one != other:
                findings.append(REPEATED.finding(
                    f"sheet {name!r} has the column {title!r} twice, and row {number} holds {one!r} in "
                    f"{get_column_letter(original + 1)} but {other!r} in {get_column_letter(column + 1)}: "
                    "which value counts cannot be told", Location(sheet=name, cell=f"{get_column_letter(column + 1)}"
                                                                                  f"{number}")))
                break
        header[column] = ""

"""The ``aef`` format: UNFCCC AEF V2 in JSON, CSV (one file per table) and XLSX (template layout)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from standards.aef.jsonio import read_json, write_json
from standards.aef.mapping import document_to_tables, tables_to_document, unrepresentable_actions
from standards.aef.rules import CATALOGUE
from standards.aef.tables import TABLES, AefTables
from standards.aef.validate import validate_run, validate_tables
from standards.codec import FormatCodec, Loss, Medium, ParseResult, RecordKind, SerializeResult, extra_losses
from standards.errors import InvalidValue, UnknownFormat
from standards.findings import Finding, Report
from standards.model import CanonicalDocument

_KINDS = frozenset({RecordKind.SUBMISSIONS, RecordKind.AUTHORIZATIONS, RecordKind.ACTIONS,
                    RecordKind.HOLDINGS, RecordKind.AUTHORIZED_ENTITIES, RecordKind.TRANSFERS,
                    RecordKind.CANCELLATIONS})


def read_tables(data: bytes, medium: Medium) -> AefTables:
    """Read AEF V2 tables from any supported medium."""
    if medium is Medium.JSON:
        return read_json(data)
    if medium is Medium.CSV:
        from standards.aef.csvio import read_csv

        tables: AefTables = read_csv(data)
        return tables
    if medium is Medium.XLSX:
        from standards.aef.xlsxio import read_xlsx

        workbook_tables: AefTables = read_xlsx(data)
        return workbook_tables
    raise UnknownFormat(f"AEF is not available as {medium.value} (json, csv, xlsx)")


def write_tables(tables: AefTables, medium: Medium, *, xlsx_layout: str = "carbonlink"
                 ) -> tuple[bytes, dict[str, bytes]]:
    """Write tables; CSV gives one file per table (returned in the second element).

    ``xlsx_layout`` chooses the workbook layout (``carbonlink`` or ``peer``, see
    :func:`standards.aef.xlsxio.write_xlsx`); both are read back alike.
    """
    if medium is Medium.JSON:
        return write_json(tables), {}
    if medium is Medium.CSV:
        from standards.aef.csvio import write_csv

        files = write_csv(tables)
        if len(files) == 1:
            return next(iter(files.values())), {}
        return b"", files
    if medium is Medium.XLSX:
        from standards.aef.xlsxio import write_xlsx

        return write_xlsx(tables, layout=xlsx_layout), {}
    raise UnknownFormat(f"AEF is not available as {medium.value} (json, csv, xlsx)")


class AefCodec(FormatCodec):
    """UNFCCC Agreed Electronic Format, version 2 (CMA.6: tables T1-T5)."""

    name = "aef"
    version = "2.0.0"
    description = "UNFCCC Article 6.2 Agreed Electronic Format V2 (T1-T5)"
    reads = _KINDS
    writes = _KINDS
    media = (Medium.JSON, Medium.CSV, Medium.XLSX)
    rules = CATALOGUE

    def __init__(self, *, xlsx_layout: str = "carbonlink", lenient: bool = False) -> None:
        """``xlsx_layout``: the workbook layout written (``carbonlink`` or ``peer``); ``lenient``: parse
        legacy data as :meth:`validate` does with ``lenient`` (strict by default)."""
        from standards.aef.xlsxio import XLSX_LAYOUTS

        if xlsx_layout not in XLSX_LAYOUTS:
            raise InvalidValue(f"unknown AEF workbook layout {xlsx_layout!r} (one of {', '.join(XLSX_LAYOUTS)})")
        self.xlsx_layout = xlsx_layout
        self.lenient = lenient

    def with_xlsx_layout(self, layout: str) -> AefCodec:
        """This codec writing workbooks in ``layout`` (``carbonlink`` or ``peer``)."""
        return AefCodec(xlsx_layout=layout, lenient=self.lenient)

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        self.check_medium(medium)
        return self.parse_tables(read_tables(data, medium))

    def parse_tables(self, tables: AefTables) -> ParseResult:
        findings, typed = validate_tables(tables, lenient=self.lenient)
        result = ParseResult(CanonicalDocument(), findings)
        if result.valid:
            result.document = tables_to_document(typed)
        return result

    def validate(self, data: bytes, *, medium: Medium, lenient: bool = False) -> Report:
        """Validate native bytes; strict by default, ``lenient`` for legacy data (see :class:`AefReport`)."""
        self.check_medium(medium)
        return aef_report(self.name, read_tables(data, medium), lenient=lenient)

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        self.check_medium(medium)
        data, files = write_tables(document_to_tables(document), medium, xlsx_layout=self.xlsx_layout)
        return SerializeResult(data=data, medium=medium, files=files, losses=aef_losses(document))


@dataclass(slots=True)
class AefReport(Report):
    """An AEF validation report: also the reading mode and the rules that could not run."""

    mode: str = "strict"
    rules_not_run: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**Report.as_dict(self), "mode": self.mode, "rulesNotRun": list(self.rules_not_run)}


def aef_report(standard: str, tables: AefTables, *, lenient: bool = False) -> AefReport:
    run = validate_run(tables, lenient=lenient)
    return AefReport(standard=standard, findings=run.findings, records=tables.record_count(),
                     mode="lenient" if lenient else "strict", rules_not_run=[r.id for r in run.not_run])


def aef_losses(document: CanonicalDocument) -> list[Loss]:
    """What an AEF report cannot hold of a canonical document."""
    losses: list[Loss] = []
    skipped = unrepresentable_actions(document)
    if skipped:
        kinds = sorted({document.actions[i].action_type.value for i in skipped})
        losses.append(Loss("actions.action_type", tuple(f"actions[{i}]" for i in skipped),
                           f"the AEF has no action type for {', '.join(kinds)}; "
                           "those actions are not written"))
    if document.projects:
        losses.append(Loss("projects", tuple(f"projects[{i}]" for i in range(len(document.projects))),
                           "the AEF has no project table"))
    if document.units:
        losses.append(Loss("units", tuple(f"units[{i}]" for i in range(len(document.units))),
                           "the AEF has no table for unit blocks outside actions and holdings"))
    unit_fields = ("serial", "quantity", "vintage", "unit_type", "status", "project_id", "owner", "account",
                   "beneficiary", "country", "itmo_reference", "project_name", "status_date",
                   "status_reason", "issuance_date", "corresponding_adjustment", "link")
    for attr in ("actions", "holdings"):
        records = getattr(document, attr)
        dropped: dict[str, list[str]] = {}
        for i, rec in enumerate(records):
            if attr == "actions" and i in skipped:
                continue
            units = rec.units
            if units is None:
                continue
            for name in unit_fields:
                if getattr(units, name) is not None:
                    dropped.setdefault(f"{attr}.units.{name}", []).append(f"{attr}[{i}]")
        losses.extend(Loss(k, tuple(v), "the AEF keeps only the underlying registry and first/last unit IDs")
                      for k, v in sorted(dropped.items()))
    losses.extend(extra_losses(document, "AEF V2",
                               kinds=("authorizations", "actions", "holdings", "authorized_entities")))
    if any(a.message_id for a in document.actions):
        losses.append(Loss("actions.message_id",
                           tuple(f"actions[{i}]" for i, a in enumerate(document.actions) if a.message_id),
                           "the AEF has no message id field"))
    return losses


class AefDraftCodec(FormatCodec):
    """The draft AEF of decision 6/CMA.4 (Actions and Holdings sheets), as the UNDP National Carbon
    Registry's AEF templates lay it out; ``vocabulary`` maps the registry's labels (a data file)."""

    name = "aef-draft"
    version = "1.1.0"
    description = "Draft AEF of decision 6/CMA.4 annex VII (Actions/Holdings; the UNDP NCR AEF templates)"
    reads = _KINDS
    writes = _KINDS
    media = (Medium.XLSX, Medium.CSV)
    rules = CATALOGUE

    def __init__(self, *, vocabulary: Any = None) -> None:
        self.vocabulary = vocabulary

    def _tables(self, data: bytes, medium: Medium) -> AefTables:
        self.check_medium(medium)
        from standards.aef.draft import read_draft

        tables: AefTables = read_draft(data, medium, vocabulary=self.vocabulary)
        return tables

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        tables = self._tables(data, medium)
        result = AEF.parse_tables(tables)
        result.findings.extend(_lost_findings(tables))
        return result

    def validate(self, data: bytes, *, medium: Medium, lenient: bool = False) -> Report:
        tables = self._tables(data, medium)
        report = aef_report(self.name, tables, lenient=lenient)
        report.findings.extend(_lost_findings(tables))
        return report

    def validate_output(self, data: bytes, *, medium: Medium) -> Report:
        """:meth:`validate` of a workbook this codec wrote, less the findings on fields the template has
        no column for (blank on reading back; :meth:`serialize` lists them as losses)."""
        from standards.aef.draft import template_fields

        report = self.validate(data, medium=medium)
        carried = template_fields()
        report.findings = [f for f in report.findings
                           if f.location.pointer.count("/") < 2 or _field_of(f.location.pointer) in carried]
        return report

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        if medium is not Medium.XLSX:
            raise UnknownFormat(f"the draft AEF is written as XLSX (the UNDP templates' layout), not {medium.value}")
        from standards.aef.draft import template_losses, write_template

        tables = document_to_tables(document)
        return SerializeResult(data=write_template(tables, vocabulary=self.vocabulary), medium=medium,
                               losses=aef_losses(document) + template_losses(tables))


def _field_of(pointer: str) -> tuple[str, str]:
    """``/Actions/0/Metric`` -> ("Actions", "Metric"); ``/Submission/ReportedYear`` -> ("Submission", ...)."""
    parts = pointer.strip("/").split("/")
    return parts[0], parts[-1].replace("~1", "/").replace("~0", "~")


def _lost_findings(tables: AefTables) -> list[Finding]:
    from standards.aef.draft import COLUMN_LOST

    return [COLUMN_LOST.finding(f"'{label}' {value!r} has no field in {TABLES[table_id].id} "
                                f"{TABLES[table_id].key}: it is not carried", tables.location(table_id, index))
            for table_id, index, label, value in tables.lost]


AEF = AefCodec()
AEF_DRAFT = AefDraftCodec()

"""The spreadsheet adapter's limits, record kinds and rule catalogue."""

from __future__ import annotations

from standards import (
    Layer,
    RecordKind,
    RuleCatalogue,
    Severity,
)

#: Reading stops (with an error finding) after this many findings.
MAX_FINDINGS = 1000


#: Excel keeps 15 significant digits; longer integers and decimals are written as text cells.
EXCEL_DIGITS = 15


_DOC = "docs/adapters/spreadsheet.md"


RULES = RuleCatalogue("spreadsheet")


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO


HEADER_MISSING = RULES.add("SPREADSHEET.HEADER_MISSING", severity=_E, layer=Layer.STRUCTURE,
                           title="The header row is missing or empty", reference=f"{_DOC} §header_row")


SHEET_MISSING = RULES.add("SPREADSHEET.SHEET_MISSING", severity=_E, layer=Layer.STRUCTURE,
                          title="The workbook has no sheet of the mapped name", reference=f"{_DOC} §sheet")


COLUMN_MISSING = RULES.add("SPREADSHEET.COLUMN_MISSING", severity=_E, layer=Layer.STRUCTURE,
                           title="A required mapped column is not in the header",
                           reference=f"{_DOC} §columns.required")


COLUMN_ABSENT = RULES.add("SPREADSHEET.COLUMN_ABSENT", severity=_W, layer=Layer.STRUCTURE,
                          title="An optional mapped column is not in the header", reference=f"{_DOC} §columns")


HEADER_DUPLICATE = RULES.add("SPREADSHEET.HEADER_DUPLICATE", severity=_E, layer=Layer.STRUCTURE,
                             title="Two columns have the same header", reference=f"{_DOC} §header_match")


COLUMN_UNMAPPED = RULES.add("SPREADSHEET.COLUMN_UNMAPPED", severity=_I, layer=Layer.STRUCTURE,
                            title="A column the mapping does not name", reference=f"{_DOC} §unmapped_columns")


COLUMN_UNNAMED = RULES.add("SPREADSHEET.COLUMN_UNNAMED", severity=_W, layer=Layer.STRUCTURE,
                           title="Values in a column without a header were not read",
                           reference=f"{_DOC} §columns")


NO_RECORDS = RULES.add("SPREADSHEET.NO_RECORDS", severity=_W, layer=Layer.STRUCTURE,
                       title="The sheet has a header but no data rows", reference=f"{_DOC} §header_row")


TOO_MANY_FINDINGS = RULES.add("SPREADSHEET.TOO_MANY_FINDINGS", severity=_E, layer=Layer.STRUCTURE,
                              title=f"Reading stopped after {MAX_FINDINGS} findings", reference=_DOC)


REQUIRED_EMPTY = RULES.add("SPREADSHEET.REQUIRED_EMPTY", severity=_E, layer=Layer.FIELD,
                           title="A required cell is empty", reference=f"{_DOC} §columns.required")


VALUE_UNMAPPED = RULES.add("SPREADSHEET.VALUE_UNMAPPED", severity=_E, layer=Layer.CODE_LIST,
                           title="A value the column's value map does not list", reference=f"{_DOC} §columns.values")


VALUE_UNKNOWN = RULES.add("SPREADSHEET.VALUE_UNKNOWN", severity=_E, layer=Layer.CODE_LIST,
                          title="Not one of the canonical values of the field",
                          reference="UNFCCC common nomenclature (CN 25(b)) / carbonlink canonical model")


PARTY = RULES.add("SPREADSHEET.PARTY", severity=_E, layer=Layer.CODE_LIST,
                  title="Not a Party (ISO 3166-1 code or country name)", reference="ISO 3166-1")


NUMBER = RULES.add("SPREADSHEET.NUMBER", severity=_E, layer=Layer.FIELD,
                   title="Not a number of the expected form", reference=f"{_DOC} §numbers")


DATE = RULES.add("SPREADSHEET.DATE", severity=_E, layer=Layer.FIELD,
                 title="Not a date in the mapped format", reference=f"{_DOC} §date_formats")


DATE_SERIAL = RULES.add("SPREADSHEET.DATE_SERIAL", severity=_W, layer=Layer.FIELD,
                        title="A date stored as an Excel day number", reference=f"{_DOC} §date_formats")


SERIAL_PATTERN = RULES.add("SPREADSHEET.SERIAL_PATTERN", severity=_E, layer=Layer.FIELD,
                           title="The cell does not match the column's pattern", reference=f"{_DOC} §columns.pattern")


FIELD_INVALID = RULES.add("SPREADSHEET.FIELD_INVALID", severity=_E, layer=Layer.FIELD,
                          title="The value is not acceptable for the canonical field",
                          reference="carbonlink canonical model (standards/model.py)")


RANGE_ORDER = RULES.add("SPREADSHEET.RANGE_ORDER", severity=_E, layer=Layer.FIELD,
                        title="The last serial is below the first",
                        reference="decision 6/CMA.4, annex I, para 5 (FirstID <= LastID)")


QUANTITY_RANGE = RULES.add("SPREADSHEET.QUANTITY_RANGE", severity=_E, layer=Layer.FIELD,
                           title="The quantity differs from the length of the serial range",
                           reference="decision 6/CMA.4, annex I, para 5 (a block holds last - first + 1 units)")


VALUE_NO_NATIVE = RULES.add("SPREADSHEET.VALUE_NO_NATIVE", severity=_E, layer=Layer.CODE_LIST,
                            title="The value map has no native spelling for a canonical value",
                            reference=f"{_DOC} §columns.values")


_KINDS: dict[str, frozenset[RecordKind]] = {
    "action": frozenset({RecordKind.ACTIONS, RecordKind.ISSUANCES, RecordKind.TRANSFERS,
                         RecordKind.RETIREMENTS, RecordKind.CANCELLATIONS}),
    "holding": frozenset({RecordKind.HOLDINGS}),
    "unit_block": frozenset({RecordKind.UNIT_BLOCKS}),
    "project": frozenset({RecordKind.PROJECTS}),
}


_ALL_KINDS = frozenset().union(*_KINDS.values())


_DOCUMENT_LISTS = ("authorizations", "actions", "holdings", "authorized_entities", "projects", "units")

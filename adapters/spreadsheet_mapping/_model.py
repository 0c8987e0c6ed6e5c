"""The spreadsheet mapping file: its model (sheet, header row, columns -> canonical fields), limits and
errors.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from standards import Action, Holding, InputError, Project, UnitBlock

ENV_VAR = "CARBONLINK_SPREADSHEET_MAPPING"


DEFAULT_MAPPING = "ministry-itmo-ledger"


MAPPINGS = resources.files("adapters") / "mappings"


MAX_MAPPING_BYTES = 1024 * 1024


RecordKind = Literal["action", "holding", "unit_block", "project"]


PartyFormat = Literal["alpha-3", "alpha-2", "name"]


FieldKind = Literal["text", "integer", "decimal", "date", "datetime", "enum", "party"]


#: Canonical record class and document list for each record kind.
RECORD_CLASSES: dict[str, type[BaseModel]] = {
    "action": Action, "holding": Holding, "unit_block": UnitBlock, "project": Project,
}


DOCUMENT_LISTS: dict[str, str] = {
    "action": "actions", "holding": "holdings", "unit_block": "units", "project": "projects",
}


#: Canonical fields that hold a Party (ISO 3166-1 alpha-3 in the canonical model).
PARTY_FIELDS = frozenset({"country", "first_transferring_party", "transferring_party", "acquiring_party",
                          "using_party"})


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class MappingError(InputError):
    """A mapping file that cannot be used; ``problems`` lists ``(key, message)`` pairs."""

    code = "SPREADSHEET.MAPPING"

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        lines = "; ".join(f"{key or '(top level)'}: {message}" for key, message in problems)
        super().__init__(f"mapping {source} is not usable: {lines}", source=source)
        self.problems = problems


# --------------------------------------------------------------------------- the file's schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NumberFormat(_Strict):
    """How numbers are written in text cells."""

    decimal_separator: Literal[".", ","] = Field(".", description="The decimal mark.")
    thousands_separator: Literal["", ",", ".", " ", "'"] = Field(
        "", description="Digit-group separator removed before reading a number ('' = none allowed).")


class CsvOptions(_Strict):
    """How CSV files are written and decoded (the delimiter is sniffed when reading)."""

    delimiter: Literal[",", ";", "\t"] = Field(
        ",", description="Cell separator used when writing; reading picks , ; or TAB from the header line.")
    encoding: Literal["utf-8", "cp1252", "latin-1"] = Field(
        "utf-8", description="Text encoding. utf-8 also accepts a BOM and BOM-marked UTF-16.")


class ColumnMapping(_Strict):
    """One native column and the canonical field it fills."""

    column: str = Field(min_length=1, description="The header text of the column, as in the file.")
    field: str = Field(min_length=1, description="Canonical field path, e.g. 'vintage', 'units.first_id', "
                                                 "'extra.Block ID'.")
    required: bool = Field(False, description="An empty cell is an error; a missing column is an error.")
    values: dict[str, str] | None = Field(
        None, description="Native value -> canonical value (matched ignoring case and surrounding spaces). "
                          "When writing, the first native value listed for a canonical value is used.")
    strict_values: bool = Field(True, description="With 'values': a value not listed is an error "
                                                  "(false: it is read as it is).")
    date_format: str | list[str] | None = Field(
        None, description="Date format(s) for this column, Excel-style (dd/mm/yyyy) or strftime (%d/%m/%Y); "
                          "the first is used when writing. Default: the mapping's date_formats.")
    party_format: PartyFormat = Field("alpha-3", description="How Parties are written: alpha-3, alpha-2 or name "
                                                             "(any of them is accepted when reading).")
    pattern: str | None = Field(None, description="Regular expression with named groups splitting the cell "
                                                  "(a serial number) into canonical fields.")
    groups: dict[str, str | None] = Field(
        default_factory=dict, description="Pattern group name -> canonical field path (null: check only). "
                                          "Default: 'first'/'last' -> first_id/last_id, else the "
                                          "group name itself.")
    format: str | None = Field(None, description="Template to write the cell from canonical fields when the "
                                                 "record has no verbatim value, e.g. '{units.project_id}-{first}'.")


class SpreadsheetMapping(_Strict):
    """A declarative mapping between one spreadsheet layout and canonical records."""

    mapping_version: Literal[1] = Field(1, description="Version of this mapping schema.")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="Short name (lowercase, digits, '-').")
    description: str = Field("", description="What register this mapping reads, for people.")
    record: RecordKind = Field(description="What each data row is: action, holding, unit_block or project.")
    sheet: str | None = Field(None, max_length=31, description="XLSX worksheet name (default: the first sheet).")
    header_row: int = Field(1, ge=1, le=1000, description="Row number (1-based) of the header row.")
    title: str | None = Field(None, description="Text written in cell A1 when header_row > 1.")
    header_match: Literal["exact", "normalized"] = Field(
        "normalized", description="'normalized' ignores case and repeated or surrounding spaces in headers.")
    csv: CsvOptions = Field(default_factory=CsvOptions)
    numbers: NumberFormat = Field(default_factory=NumberFormat)
    date_formats: list[str] = Field(default_factory=lambda: ["yyyy-mm-dd"], min_length=1,
                                    description="Default date formats for every date column.")
    columns: list[ColumnMapping] = Field(min_length=1)
    defaults: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Canonical field -> value used when no column gives one.")
    unmapped_columns: Literal["keep", "ignore", "error"] = Field(
        "keep", description="Columns the mapping does not name: kept in the record's 'extra' (and written "
                            "back), ignored (with a notice), or an error.")


def mapping_json_schema() -> dict[str, Any]:
    """The JSON Schema of a mapping file (published as ``adapters/mappings/mapping.schema.json``)."""
    schema = SpreadsheetMapping.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://carbonlink.example/schemas/spreadsheet-mapping-1.json"
    return schema

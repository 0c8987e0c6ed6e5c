"""Declarative spreadsheet mappings: which column holds which canonical field, and how to read it.

A ministry that keeps its registry in Excel or CSV describes its sheet in a small YAML or JSON
file (see ``docs/adapters/spreadsheet.md``); :class:`SpreadsheetMapping` is that file's schema.
:func:`load_mapping` reads one (a path or a built-in name), checks it and returns a
:class:`CompiledMapping`: the mapping plus everything derived from it (field kinds, value maps
both ways, date formats, serial patterns), so the adapter never re-checks it per row.

Every problem in a mapping is reported at once by :class:`MappingError`, naming the key
(``columns[3].field``) and what is wrong with it.
"""

from __future__ import annotations

from adapters.spreadsheet_mapping._compile import (
    CompiledColumn,
    CompiledMapping,
    compile_mapping,
    convert_default,
    default_groups,
)
from adapters.spreadsheet_mapping._dates import DateFormat
from adapters.spreadsheet_mapping._fields import FieldInfo, canonical_fields, field_info
from adapters.spreadsheet_mapping._load import (
    builtin_mappings,
    configured_mapping,
    load_mapping,
    mapping_from_data,
    parse_mapping_text,
)
from adapters.spreadsheet_mapping._model import (
    DEFAULT_MAPPING,
    DOCUMENT_LISTS,
    ENV_VAR,
    MAPPINGS,
    MAX_MAPPING_BYTES,
    PARTY_FIELDS,
    RECORD_CLASSES,
    ColumnMapping,
    CsvOptions,
    FieldKind,
    MappingError,
    NumberFormat,
    PartyFormat,
    RecordKind,
    SpreadsheetMapping,
    mapping_json_schema,
)

__all__ = [
    "DEFAULT_MAPPING",
    "DOCUMENT_LISTS",
    "ENV_VAR",
    "MAPPINGS",
    "MAX_MAPPING_BYTES",
    "PARTY_FIELDS",
    "RECORD_CLASSES",
    "ColumnMapping",
    "CompiledColumn",
    "CompiledMapping",
    "CsvOptions",
    "DateFormat",
    "FieldInfo",
    "FieldKind",
    "MappingError",
    "NumberFormat",
    "PartyFormat",
    "RecordKind",
    "SpreadsheetMapping",
    "builtin_mappings",
    "canonical_fields",
    "compile_mapping",
    "configured_mapping",
    "convert_default",
    "default_groups",
    "field_info",
    "load_mapping",
    "mapping_from_data",
    "mapping_json_schema",
    "parse_mapping_text",
]

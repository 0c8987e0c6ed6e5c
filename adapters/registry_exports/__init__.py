"""Shared machinery for adapters of registry CSV exports (Verra, Gold Standard, the APX family).

An :class:`ExportFile` names one export layout by its exact column headers; a
:class:`CsvExportAdapter` subclass maps each row of a recognised layout to a canonical record and
back. This package does the parts every such adapter needs the same way: reading CSV safely
through :mod:`standards.tabular` (whole file or streamed), matching headers that registries spell
with doubled or trailing spaces, parsing quantities and dates, turning problems into coded
findings with the CSV line and column, keeping native spellings in ``extra`` so a round trip
gives the same text back, and writing formula-safe CSV.
"""

from __future__ import annotations

from adapters.registry_exports._base import (
    DEFAULT_MAX_STREAM_BYTES,
    CsvExportAdapter,
    max_stream_bytes,
    other_record_losses,
    status_tally,
)
from adapters.registry_exports._layout import (
    ExportFile,
    PendingBlock,
    Record,
    RowFindings,
    RowMapper,
    header_key,
)
from adapters.registry_exports._rules import declare_common_rules
from adapters.registry_exports._values import (
    check_serial,
    country_from_name,
    country_name,
    iso_date,
    keep_native,
    native_or,
    parse_date,
    parse_quantity,
    read_date,
    render_quantity,
    same_date,
    same_quantity,
)

__all__ = [
    "DEFAULT_MAX_STREAM_BYTES",
    "CsvExportAdapter",
    "ExportFile",
    "PendingBlock",
    "Record",
    "RowFindings",
    "RowMapper",
    "check_serial",
    "country_from_name",
    "country_name",
    "declare_common_rules",
    "header_key",
    "iso_date",
    "keep_native",
    "max_stream_bytes",
    "native_or",
    "other_record_losses",
    "parse_date",
    "parse_quantity",
    "read_date",
    "render_quantity",
    "same_date",
    "same_quantity",
    "status_tally",
]

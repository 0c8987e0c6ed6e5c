"""The spreadsheet adapter: a registry kept in Excel or CSV, read and written through a mapping.

The layout is not coded here; a declarative mapping (:mod:`adapters.spreadsheet_mapping`, guide
in ``docs/adapters/spreadsheet.md``) says which column holds which canonical field, how values,
dates, numbers and serial numbers are written. Choose the mapping with
``CARBONLINK_SPREADSHEET_MAPPING`` (a file path or a built-in name) or pass it directly::

    SpreadsheetAdapter("credit-block-ledger").parse(data, medium=Medium.CSV)

Every row becomes one canonical record (action, holding, unit block or project). Problems in a
cell become coded findings that point at the CSV line or the sheet cell; a file that cannot be
read at all raises a coded :class:`~standards.errors.InputError`. ``serialize`` writes the
mapped columns back and reports, as losses, every canonical value no column can hold.
"""

from __future__ import annotations

from adapters.spreadsheet._adapter import MappingRef, SpreadsheetAdapter, adapter
from adapters.spreadsheet._rules import MAX_FINDINGS, RULES

__all__ = [
    "MAX_FINDINGS",
    "RULES",
    "MappingRef",
    "SpreadsheetAdapter",
    "adapter",
]

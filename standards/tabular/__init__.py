"""Safe tabular I/O: XLSX workbooks and CSV files from untrusted sources, and writers that
cannot smuggle formulas into a spreadsheet.

Reading
    :func:`read_workbook` opens an XLSX after refusing zip bombs, macros, external links,
    DTDs/entities in any XML part, legacy ``.xls`` and macro-enabled ``.xlsm`` content;
    :func:`iter_sheet_rows` walks a sheet in bounded memory. :func:`read_csv_records` and
    :func:`iter_csv_records` decode UTF-8 (BOM optional) or BOM-marked UTF-16, sniff the
    ``,`` ``;`` or TAB delimiter, and refuse ragged or truncated rows, naming the line.

Writing (formula-injection policy)
    :func:`write_csv_bytes` prefixes one apostrophe to any text cell that starts with
    ``= + - @`` TAB or CR (and to text that already starts with apostrophes followed by one
    of those), so spreadsheet programs show it as text. The CSV readers strip exactly that
    one apostrophe again, so text round-trips unchanged. Numbers (int, Decimal) are written
    bare and never escaped. :class:`XlsxWriter` writes text as string cells (``t="inlineStr"``),
    so ``=SUM(A1)`` stays text and is never stored as a formula.

All failures raise :mod:`standards.errors` input errors with a stable code and one line
naming the problem (and the CSV line or sheet cell where it is).
"""
from standards.tabular._csv_read import CSV_DELIMITERS, CsvRecord, iter_csv_records, read_csv_records, sniff_delimiter
from standards.tabular._folders import pack_csv_directory, pack_csv_files, unpack_csv_archive
from standards.tabular._formula import (
    FORMULA_TRIGGERS,
    CsvCell,
    escape_formula,
    format_csv_cell,
    unescape_formula,
    write_csv_bytes,
)
from standards.tabular._xlsx_read import iter_sheet_rows, read_workbook
from standards.tabular._xlsx_write import UnwritableCell, XlsxWriter
from standards.tabular._zip import is_zip

__all__ = [
    "CSV_DELIMITERS",
    "FORMULA_TRIGGERS",
    "CsvCell",
    "CsvRecord",
    "UnwritableCell",
    "XlsxWriter",
    "escape_formula",
    "format_csv_cell",
    "is_zip",
    "iter_csv_records",
    "iter_sheet_rows",
    "pack_csv_directory",
    "pack_csv_files",
    "read_csv_records",
    "read_workbook",
    "sniff_delimiter",
    "unescape_formula",
    "unpack_csv_archive",
    "write_csv_bytes",
]

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

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import IO, Any

import openpyxl
from defusedxml import DefusedXmlException
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError

from standards.errors import (
    InputError,
    InputTooLarge,
    MalformedInput,
    TranslationError,
    UnsafeInput,
    UnsupportedEncoding,
)
from standards.safeio import check_zip_container, decode_text, max_input_bytes

#: Delimiters the CSV sniffer chooses between, in order of preference on a tie.
CSV_DELIMITERS = (",", ";", "\t")
#: First characters that make a spreadsheet program treat a CSV cell as a formula.
FORMULA_TRIGGERS = "=+-@\t\r"
_NEEDS_ESCAPE = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XLSX_MAIN_TYPES = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
)
_MACRO_MAIN_TYPES = (
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.ms-excel.addin.macroEnabled.main+xml",
)
_BINARY_MAIN_TYPE = "application/vnd.ms-excel.sheet.binary.macroEnabled.main"
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_PROLOG_LIMIT = 64 * 1024
_CONTENT_TYPES_RE = re.compile(rb'ContentType="([^"]+)"')


class UnwritableCell(TranslationError):
    """A value cannot be written to the target spreadsheet (e.g. a control character in XLSX)."""

    code = "OUTPUT.UNWRITABLE_CELL"


# --------------------------------------------------------------------------------------- XLSX


def read_workbook(data: bytes, *, what: str = "workbook") -> Any:
    """Open untrusted XLSX bytes as a read-only, values-only openpyxl workbook.

    Refuses (with the code in brackets): over the size limit [INPUT.TOO_LARGE]; not a zip, a
    legacy ``.xls``, or ``.xlsm``/``.xlsb`` content [INPUT.XLSX, MalformedInput]; zip bombs
    [INPUT.ZIP_BOMB]; a macro part [INPUT.XLSX_MACROS]; external links
    [INPUT.XLSX_EXTERNAL_LINKS]; a DTD or entity declaration in any XML part [INPUT.XML_DTD]
    (those four are UnsafeInput). Close the workbook when done.
    """
    limit = max_input_bytes()
    if len(data) > limit:
        raise InputTooLarge(f"{what} is {len(data)} bytes, over the limit of {limit} bytes")
    if data.startswith(_OLE2_MAGIC):
        raise MalformedInput(f"{what} is a legacy binary Excel file (.xls); save it as .xlsx",
                             code="INPUT.XLSX")
    archive = _open_zip(data, what)
    with archive:
        _check_content_types(archive, what)
        _check_xml_prologs(archive, what)
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many types on broken parts; none may escape as a traceback
        defused = _defused_cause(exc)
        if defused is not None:
            raise UnsafeInput(f"{what} declares a DTD or entities ({type(defused).__name__}), which "
                              "carbonlink refuses", code="INPUT.XML_DTD") from None
        raise MalformedInput(f"{what} is not a readable XLSX workbook: {_describe(_root_cause(exc))}",
                             code="INPUT.XLSX") from None


def iter_sheet_rows(sheet: Any, *, what: str = "workbook") -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Yield ``(1-based row number, cell values)`` for every row of a read-only sheet.

    The sheet's declared dimension is ignored (a wrong ``<dimension>`` would otherwise
    truncate the read silently); rows vary in length, trailing empty cells may be absent.
    """
    sheet.reset_dimensions()
    rows = sheet.iter_rows(values_only=True)
    number = 0
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # broken sheet XML, bad CRC, truncated member, defused DTD ...
            defused = _defused_cause(exc)
            if defused is not None:
                raise UnsafeInput(f"{what} sheet {sheet.title!r} declares a DTD or entities "
                                  f"({type(defused).__name__}), which carbonlink refuses",
                                  code="INPUT.XML_DTD") from None
            raise MalformedInput(f"{what} sheet {sheet.title!r} cannot be read after row {number}: "
                                 f"{_describe(_root_cause(exc))}", code="INPUT.XLSX") from None
        number += 1
        yield number, tuple(values)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _defused_cause(exc: BaseException) -> BaseException | None:
    """The defusedxml refusal behind an error (openpyxl wraps it in a ValueError), if any."""
    return next((c for c in _causes(exc) if isinstance(c, DefusedXmlException)), None)


def _root_cause(exc: BaseException) -> BaseException:
    *_, last = _causes(exc)
    return last


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _open_zip(data: bytes, what: str) -> zipfile.ZipFile:
    """:func:`check_zip_container`, with any unexpected failure of a damaged zip made a coded error."""
    try:
        return check_zip_container(data, what=what)
    except InputError:
        raise
    except Exception as exc:  # zipfile can fail in many ways on damaged central directories
        raise MalformedInput(f"{what} is not a readable zip file: {_describe(exc)}", code="INPUT.XLSX") from None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, what: str, code: str) -> bytes:
    """Up to ``limit`` bytes of one member; damage, encryption or odd compression is a coded error."""
    try:
        with archive.open(info) as member:
            return member.read(limit)
    except Exception as exc:  # BadZipFile (bad CRC), zlib.error, EOFError, NotImplementedError, encrypted...
        raise MalformedInput(f"{what} part {info.filename} cannot be read: {_describe(exc)}", code=code) from None


def _check_content_types(archive: zipfile.ZipFile, what: str) -> None:
    if "[Content_Types].xml" not in archive.NameToInfo:
        raise MalformedInput(f"{what} has no [Content_Types].xml: not an XLSX workbook", code="INPUT.XLSX")
    raw = _read_member(archive, archive.getinfo("[Content_Types].xml"), 1024 * 1024, what, "INPUT.XLSX")
    types = {m.decode("utf-8", "replace") for m in _CONTENT_TYPES_RE.findall(raw)}
    if types & set(_MACRO_MAIN_TYPES):
        raise MalformedInput(f"{what} is a macro-enabled workbook (.xlsm); save it as .xlsx without macros",
                             code="INPUT.XLSX")
    if _BINARY_MAIN_TYPE in types:
        raise MalformedInput(f"{what} is a binary workbook (.xlsb); save it as .xlsx", code="INPUT.XLSX")
    if not types & set(_XLSX_MAIN_TYPES):
        raise MalformedInput(f"{what} is a zip file but not an XLSX workbook (no spreadsheet main part)",
                             code="INPUT.XLSX")


def _check_xml_prologs(archive: zipfile.ZipFile, what: str) -> None:
    """Refuse any XML part whose prolog declares a DTD or entities (the parsers are a second line)."""
    for info in archive.infolist():
        if info.is_dir() or not info.filename.lower().endswith(_XML_SUFFIXES):
            continue
        head = _read_member(archive, info, _PROLOG_LIMIT, what, "INPUT.XLSX")
        verdict = _prolog_verdict(head)
        if verdict == "dtd":
            raise UnsafeInput(f"{what} part {info.filename} declares a DTD or entities, which carbonlink "
                              "refuses", code="INPUT.XML_DTD")
        if verdict == "long" and len(head) >= _PROLOG_LIMIT:
            raise UnsafeInput(f"{what} part {info.filename} has an XML prolog over {_PROLOG_LIMIT} bytes",
                              code="INPUT.XML_DTD")


def _prolog_verdict(head: bytes) -> str:
    """``dtd`` if the prolog declares one, ``ok`` once the root element starts, else ``long``."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", "replace")
    else:
        text = head.decode("utf-8", "replace").lstrip("\ufeff")
    pos, end = 0, len(text)
    while pos < end:
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
        if text.startswith("<?", pos):
            terminator = "?>"
        elif text.startswith("<!--", pos):
            terminator = "-->"
        elif text.startswith("<!", pos):
            return "dtd"
        else:
            return "ok"
        close = text.find(terminator, pos + 2)
        if close < 0:
            return "long"
        pos = close + len(terminator)
    return "long" if end >= _PROLOG_LIMIT else "ok"


class XlsxWriter:
    """A write-only workbook whose text cells can never become formulas.

    ``add_sheet`` returns the sheet to fill with :meth:`append`; ``to_bytes`` saves.
    Values: str (always a string cell), int, Decimal, date/datetime (give a number format),
    None (empty), or a ready :class:`openpyxl.cell.WriteOnlyCell`.
    """

    def __init__(self) -> None:
        self.workbook = openpyxl.Workbook(write_only=True)
        self._rows: dict[str, int] = {}

    def add_sheet(self, title: str, *, rows: int | None = None, columns: int | None = None) -> Any:
        """A new sheet. Give its final size (``rows`` x ``columns``) when known: the sheet then
        declares its ``<dimension>``, which spares read-only readers a full pass over the sheet
        to discover that it has none."""
        sheet = self.workbook.create_sheet(title=title)
        self._rows[title] = 0
        if rows and columns:
            ref = f"A1:{get_column_letter(columns)}{rows}"
            # openpyxl's sheet writer asks for ``calculate_dimension`` when it starts the sheet
            sheet.calculate_dimension = lambda: ref
        return sheet

    def cell(self, sheet: Any, value: Any, *, number_format: str | None = None, bold: bool = False) -> Any:
        """A styled or protected cell; strings are forced to string type."""
        try:
            cell = WriteOnlyCell(sheet, value=value)
        except IllegalCharacterError:
            raise UnwritableCell(f"sheet {sheet.title!r} row {self._rows[sheet.title] + 1}: text contains a "
                                 "control character that XLSX cannot store") from None
        if isinstance(value, str):
            cell.data_type = "s"
        if number_format is not None:
            cell.number_format = number_format
        if bold:
            cell.font = _bold_font()
        return cell

    def append(self, sheet: Any, values: Sequence[Any]) -> None:
        row: list[Any] = []
        number = self._rows[sheet.title] + 1
        for position, value in enumerate(values, start=1):
            if isinstance(value, str):
                if ILLEGAL_CHARACTERS_RE.search(value):
                    raise UnwritableCell(f"sheet {sheet.title!r} row {number} column {position}: text contains a "
                                         "control character that XLSX cannot store")
                if value.startswith("=") or value in ERROR_CODES:
                    value = self.cell(sheet, value)
            row.append(value)
        self._rows[sheet.title] = number
        sheet.append(row)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self.workbook.save(out)
        return out.getvalue()

    def discard(self) -> None:
        """Finish every sheet's stream after a failure, so nothing half-written is left behind."""
        for sheet in self.workbook.worksheets:
            try:
                if not sheet.closed:
                    sheet.close()
            except Exception:  # the sheet is being thrown away; its own error is the one reported
                continue


_BOLD: Any = None


def _bold_font() -> Any:
    global _BOLD
    if _BOLD is None:
        from openpyxl.styles import Font

        _BOLD = Font(bold=True)
    return _BOLD


# ---------------------------------------------------------------------------------------- CSV


@dataclass(frozen=True, slots=True)
class CsvRecord:
    """One CSV record: the 1-based line it starts on and its cells (apostrophe escape removed)."""

    line: int
    cells: tuple[str, ...]


def escape_formula(text: str) -> str:
    """Prefix an apostrophe when a spreadsheet would read ``text`` as a formula (see module doc)."""
    return "'" + text if _NEEDS_ESCAPE.match(text) else text


def unescape_formula(text: str) -> str:
    """Undo :func:`escape_formula`: drop exactly one leading apostrophe before a trigger."""
    return text[1:] if _ESCAPED.match(text) else text


def sniff_delimiter(first_line: str) -> str:
    """The most frequent of ``,`` ``;`` TAB outside quotes in the header line (``,`` if none)."""
    counts = dict.fromkeys(CSV_DELIMITERS, 0)
    quoted = False
    for char in first_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(CSV_DELIMITERS, key=lambda d: (counts[d], -CSV_DELIMITERS.index(d)))
    return best if counts[best] else ","


def read_csv_records(data: bytes, *, what: str = "CSV file") -> list[CsvRecord]:
    """Decode and parse a whole CSV file; refuse ragged rows, broken quoting and bad encodings."""
    limit = max_input_bytes()
    if len(data) > limit:
        raise InputTooLarge(f"{what} is {len(data)} bytes, over the limit of {limit} bytes")
    text = decode_text(data, what=what)
    seen = _Seen()
    seen.note(text)
    return list(_parse_text_lines(io.StringIO(text, newline=""), what=what, seen=seen))


def iter_csv_records(stream: IO[bytes], *, what: str = "CSV file",
                     limit: int | None = None) -> Iterator[CsvRecord]:
    """Stream a CSV from a binary file object in bounded memory (same rules as the whole-file form).

    The encoding is chosen from the first bytes as :func:`standards.safeio.decode_text` does;
    more than ``limit`` bytes (default ``CARBONLINK_MAX_INPUT_BYTES``) is refused.
    """
    cap = max_input_bytes() if limit is None else limit
    seen = _Seen()
    # nothing is read before the first record is asked for: every step below is a lazy iterator
    return _parse_text_lines(chain.from_iterable(_decoded_line_batches(stream, cap, what, seen)), what=what,
                             seen=seen)


class _Seen:
    """Whether the text read so far holds a NUL or an apostrophe; until it does, records need no
    NUL check and no formula unescaping. Set by the decoding step before the parser gets the text."""

    __slots__ = ("special",)

    def __init__(self) -> None:
        self.special = False

    def note(self, text: str) -> None:
        if not self.special and ("'" in text or "\x00" in text):
            self.special = True


def _split_lines(text: str) -> list[str]:
    """``text`` cut after each CRLF, LF or CR (endings kept); the last item may have no ending.

    Only those three end a line: ``str.splitlines`` also cuts at VT, FF, FS, GS, RS, NEL and the
    Unicode line and paragraph separators, so it is used only for text that holds none of them.
    """
    odd = _ODD_BREAKS_ASCII if text.isascii() else _ODD_BREAKS
    if any(char in text for char in odd):
        lines = _LINE.findall(text)
        rest = text[sum(map(len, lines)):]
        if rest:
            lines.append(rest)
        return lines
    return text.splitlines(True)


#: Characters ``str.splitlines`` treats as line breaks that CSV does not (see :func:`_split_lines`).
_ODD_BREAKS_ASCII = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
_ODD_BREAKS = (*_ODD_BREAKS_ASCII, "\x85", "\u2028", "\u2029")


def _decoded_line_batches(stream: IO[bytes], cap: int, what: str, seen: _Seen) -> Iterator[list[str]]:
    """Decode chunk by chunk and yield the chunk's complete lines with their endings (CRLF, LF or
    CR), like a text file; a batch per chunk, so the CSV parser pulls lines without a Python step.
    Each batch's text is noted in ``seen`` before the batch is handed on."""
    head = stream.read(4)
    encoding = "utf-16" if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    consumed = 0
    pending = ""
    chunk = head
    while True:
        consumed += len(chunk)
        if consumed > cap:
            raise InputTooLarge(f"{what} is over the limit of {cap} bytes")
        final = not chunk
        try:
            pending += decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            offset = consumed - len(chunk) + max(exc.start, 0)
            raise UnsupportedEncoding(f"{what} is not valid UTF-8 or UTF-16 at byte {offset} (save it as "
                                      "UTF-8 and try again)") from None
        seen.note(pending)
        lines = _split_lines(pending) if pending else []
        if final:
            yield lines
            return
        # an unfinished last line waits for the next chunk, and so does one ending in CR (its LF may follow)
        pending = lines.pop() if lines and lines[-1][-1] != "\n" else ""
        yield lines
        chunk = stream.read(64 * 1024)


def _parse_text_lines(lines: Iterable[str], *, what: str, seen: _Seen) -> Iterator[CsvRecord]:
    """Records from text lines; ``seen`` must have noted every line before the parser pulls it."""
    iterator = iter(lines)
    first: str | None = None
    skipped = 0  # blank lines before the first record, consumed here but counted in line numbers
    for candidate in iterator:
        if candidate.strip("\r\n"):
            first = candidate
            break
        skipped += 1
    if first is None:
        raise MalformedInput(f"{what} is empty", code="INPUT.CSV")
    delimiter = sniff_delimiter(first)
    reader = csv.reader(chain((first,), iterator), delimiter=delimiter, strict=True)
    width = -1  # cells in the first record; -1 until it is read
    previous_line = 0
    try:
        for cells in reader:
            line = previous_line + 1 + skipped
            previous_line = reader.line_num
            count = len(cells)
            if count != width or count == 1:  # first record, blank line, ragged row or one-column file
                if not cells or (count == 1 and not cells[0].strip()):
                    continue
                if width < 0:
                    width = count
                elif count != width:
                    _check_nul(cells, line, what)
                    raise MalformedInput(f"{what} line {line} has {count} fields where the first row has "
                                         f"{width} (ragged or truncated row)", code="INPUT.CSV_RAGGED")
            if not seen.special:  # no NUL and no apostrophe anywhere so far
                yield CsvRecord(line, tuple(cells))
                continue
            joined = "".join(cells)
            if "\x00" in joined:
                _check_nul(cells, line, what)
            # a cell can only need unescaping if it starts with an apostrophe: skip the scan when none has one
            yield CsvRecord(line, tuple(unescape_formula(c) for c in cells) if "'" in joined else tuple(cells))
    except csv.Error as exc:
        line = previous_line + 1 + skipped
        message = str(exc)
        if "unexpected end of data" in message or "newline inside string" in message:
            message = "a quoted field is not closed (file truncated?)"
        elif "field larger than field limit" in message:
            message = f"a field is longer than {csv.field_size_limit()} characters"
        raise MalformedInput(f"{what} line {line}: {message}", code="INPUT.CSV") from None
    if width < 0:
        raise MalformedInput(f"{what} holds no data (only blank lines)", code="INPUT.CSV")


def _check_nul(cells: Sequence[str], line: int, what: str) -> None:
    if any("\x00" in cell for cell in cells):
        raise UnsupportedEncoding(f"{what} line {line} contains NUL characters: probably UTF-16 "
                                  "without a byte-order mark; save it as UTF-8")


CsvCell = str | int | Decimal | None


def format_csv_cell(value: Any) -> str:
    """Text for one CSV cell: text escaped against formulas, numbers bare, None empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_formula(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime | date):
        return escape_formula(value.isoformat())
    return escape_formula(str(value))


def write_csv_bytes(rows: Iterable[Sequence[Any]], *, delimiter: str = ",", bom: bool = True) -> bytes:
    """Write rows as UTF-8 CSV (with a BOM so spreadsheet programs see UTF-8), CRLF line ends."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow([format_csv_cell(v) for v in row])
    text = out.getvalue()
    return (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8")


# ------------------------------------------------------------------------------- CSV folders


def pack_csv_directory(path: str | Path) -> bytes:
    """Zip (in memory) the ``*.csv`` files directly inside a folder, in name order.

    Refuses a folder without CSV files [INPUT.CSV] and a total over the input limit.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise MalformedInput(f"{folder} is not a folder", code="INPUT.NOT_FOUND")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    if not files:
        raise MalformedInput(f"folder {folder} holds no .csv files", code="INPUT.CSV")
    limit = max_input_bytes()
    total = sum(p.stat().st_size for p in files)
    if total > limit:
        raise InputTooLarge(f"the CSV files in {folder} total {total} bytes, over the limit of {limit} bytes")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.writestr(file.name, file.read_bytes())
    return out.getvalue()


def is_zip(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06")


def unpack_csv_archive(data: bytes, *, what: str = "CSV archive") -> list[tuple[str, bytes]]:
    """The ``(file name, bytes)`` of each CSV in a zip made by :func:`pack_csv_directory`.

    The zip gets the same bomb checks as a workbook; members that are not ``.csv`` files,
    nested paths and a total over the input limit are refused.
    """
    limit = max_input_bytes()
    if len(data) > limit:
        raise InputTooLarge(f"{what} is {len(data)} bytes, over the limit of {limit} bytes")
    archive = _open_zip(data, what)
    files: list[tuple[str, bytes]] = []
    total = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir() or info.filename.startswith("__MACOSX/"):
                continue
            name = info.filename
            if "/" in name or "\\" in name or not name.lower().endswith(".csv"):
                raise MalformedInput(f"{what} member {name!r} is not a .csv file at the top level",
                                     code="INPUT.CSV")
            total += info.file_size
            if total > limit:
                raise InputTooLarge(f"{what} expands to more than the limit of {limit} bytes")
            content = _read_member(archive, info, limit + 1, what, "INPUT.CSV")
            if len(content) > limit:
                raise InputTooLarge(f"{what} member {name!r} is over the limit of {limit} bytes")
            files.append((name, content))
    if not files:
        raise MalformedInput(f"{what} holds no .csv files", code="INPUT.CSV")
    return files


__all__ = [
    "CSV_DELIMITERS",
    "FORMULA_TRIGGERS",
    "CsvRecord",
    "UnwritableCell",
    "XlsxWriter",
    "escape_formula",
    "format_csv_cell",
    "is_zip",
    "iter_csv_records",
    "iter_sheet_rows",
    "pack_csv_directory",
    "read_csv_records",
    "read_workbook",
    "sniff_delimiter",
    "unescape_formula",
    "unpack_csv_archive",
    "write_csv_bytes",
]

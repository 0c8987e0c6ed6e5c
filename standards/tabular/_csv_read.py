"""Reading CSV files: decoding (whole or streamed), delimiter sniffing, ragged-row refusal."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import IO, NamedTuple

from standards.errors import InputTooLarge, MalformedInput, UnsupportedEncoding
from standards.safeio import decode_text, max_input_bytes
from standards.tabular._formula import unescape_formula

#: Delimiters the CSV sniffer chooses between, in order of preference on a tie.
CSV_DELIMITERS = (",", ";", "\t")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")


class CsvRecord(NamedTuple):
    """One CSV record: the 1-based line it starts on and its cells (apostrophe escape removed). A named tuple:
    immutable, and about half the cost of a frozen dataclass to make (one per row of a streamed export)."""

    line: int
    cells: tuple[str, ...]


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
                                      "UTF-8 and try again)") from exc
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
        raise MalformedInput(f"{what} line {line}: {message}", code="INPUT.CSV") from exc
    if width < 0:
        raise MalformedInput(f"{what} holds no data (only blank lines)", code="INPUT.CSV")


def _check_nul(cells: Sequence[str], line: int, what: str) -> None:
    if any("\x00" in cell for cell in cells):
        raise UnsupportedEncoding(f"{what} line {line} contains NUL characters: probably UTF-16 "
                                  "without a byte-order mark; save it as UTF-8")

"""Reading untrusted input safely: size limits, encodings, JSON, XML and XLSX containers.

Everything here raises :class:`~standards.errors.InputError` subclasses with a stable code and
one line naming the problem; nothing returns a partial result.
"""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

import orjson
from lxml import etree

from standards._options import DEFAULT_MAX_INPUT_BYTES as DEFAULT_MAX_INPUT_BYTES  # re-exported
from standards._options import current_options
from standards.errors import InputTooLarge, MalformedInput, UnsafeInput, UnsupportedEncoding

#: An XLSX may expand to at most this many bytes, and at most this ratio per member.
MAX_UNZIPPED_BYTES = 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_ZIP_MEMBERS = 10_000
#: Longest number a JSON document may write (digits, sign, point and exponent together), and the largest
#: decimal exponent it may reach: far beyond any quantity or serial number, far below what makes
#: arithmetic slow (Python refuses ``int`` conversions over 4,300 digits).
MAX_JSON_NUMBER_CHARS = 100
MAX_JSON_NUMBER_EXPONENT = 100


def max_input_bytes() -> int:
    """The input size limit in force: :attr:`standards.Options.max_input_bytes` (default
    :data:`DEFAULT_MAX_INPUT_BYTES`; ``CARBONLINK_MAX_INPUT_BYTES`` at the edge)."""
    return current_options().max_input_bytes


def read_bytes(source: str | Path | bytes | IO[bytes], *, limit: int | None = None) -> bytes:
    """Read a path, a binary stream or bytes, refusing anything over ``limit`` bytes."""
    cap = max_input_bytes() if limit is None else limit
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str | Path):
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise MalformedInput(f"cannot read {path}: {exc.strerror}", code="INPUT.NOT_FOUND") from exc
        if size > cap:
            raise InputTooLarge(f"{path.name} is {size} bytes, over the limit of {cap} bytes")
        data = path.read_bytes()
    else:
        data = source.read(cap + 1)
    if len(data) > cap:
        raise InputTooLarge(f"input is over the limit of {cap} bytes")
    return data


def decode_text(data: bytes, *, what: str = "input") -> str:
    """Decode UTF-8 (with or without BOM) or BOM-marked UTF-16; anything else is refused."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise UnsupportedEncoding(f"{what} is not valid UTF-16 at byte {exc.start}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedEncoding(
            f"{what} is not valid UTF-8 at byte {exc.start} (save it as UTF-8 and try again)"
        ) from exc


def load_json(data: bytes, *, what: str = "input") -> Any:
    """Parse JSON with orjson; a clear error with the position on failure."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        data = decode_text(data, what=what).encode("utf-8")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if isinstance(exc.__cause__, UnicodeDecodeError) or "utf-8" in str(exc).lower():
            raise UnsupportedEncoding(f"{what} is not valid UTF-8 JSON: {exc}") from exc
        raise MalformedInput(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                             code="INPUT.JSON") from exc


def _number_too_large(text: str, *, what: str) -> MalformedInput:
    shown = text if len(text) <= 20 else f"{text[:8]}...{len(text)} characters"
    return MalformedInput(f"{what} has a number out of range ({shown}; at most {MAX_JSON_NUMBER_CHARS} characters "
                          f"and exponents within +-{MAX_JSON_NUMBER_EXPONENT})", code="INPUT.JSON_NUMBER")


def bounded_int(text: str, *, what: str = "input") -> int:
    """A JSON integer literal as ``int`` (``json.loads(..., parse_int=...)``); over
    :data:`MAX_JSON_NUMBER_CHARS` characters is a coded :class:`MalformedInput` (``INPUT.JSON_NUMBER``)."""
    if len(text) > MAX_JSON_NUMBER_CHARS:
        raise _number_too_large(text, what=what)
    return int(text)


def bounded_decimal(text: str, *, what: str = "input") -> Decimal:
    """A JSON number literal as an exact ``Decimal`` (``parse_float=...``), bounded in length and exponent like
    :func:`bounded_int`."""
    if len(text) > MAX_JSON_NUMBER_CHARS:
        raise _number_too_large(text, what=what)
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # the JSON grammar makes this unreachable; kept coded all the same
        raise MalformedInput(f"{what} has an unreadable number", code="INPUT.JSON_NUMBER") from exc
    if value.is_finite() and value and abs(value.adjusted()) > MAX_JSON_NUMBER_EXPONENT:
        raise _number_too_large(text, what=what)
    return value


def secure_xml_parser(*, schema: etree.XMLSchema | None = None) -> etree.XMLParser:
    """An lxml parser that loads no DTD, resolves no entity and reaches no network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=False, schema=schema)


def parse_xml(data: bytes, *, what: str = "input") -> etree._Element:
    """Parse untrusted XML; a DOCTYPE (DTD, entity declarations) is refused outright."""
    head = data[:4096].lstrip()
    if b"<!DOCTYPE" in data[:65536].upper() or b"<!ENTITY" in data[:65536].upper():
        raise UnsafeInput(f"{what} declares a DTD or entities, which carbonlink refuses",
                          code="INPUT.XML_DTD")
    if not head:
        raise MalformedInput(f"{what} is empty", code="INPUT.XML")
    try:
        root = etree.fromstring(data, secure_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedInput(f"{what} is not well-formed XML: {exc.msg} (line {exc.lineno})",
                             code="INPUT.XML") from exc
    if root.getroottree().docinfo.internalDTD is not None:
        raise UnsafeInput(f"{what} declares a DTD, which carbonlink refuses", code="INPUT.XML_DTD")
    return root


def check_zip_container(data: bytes, *, what: str = "workbook") -> zipfile.ZipFile:
    """Open an OOXML zip after checking it is no bomb, carries no macros and no external links."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise MalformedInput(f"{what} is not a valid XLSX (zip) file", code="INPUT.XLSX") from exc
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise UnsafeInput(f"{what} has {len(members)} parts, over the limit of {MAX_ZIP_MEMBERS}",
                          code="INPUT.ZIP_BOMB")
    total = 0
    for info in members:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1_000_000 and ratio > MAX_COMPRESSION_RATIO:
            raise UnsafeInput(f"{what} part {info.filename} expands {ratio:.0f}x: refused as a zip bomb",
                              code="INPUT.ZIP_BOMB")
        if total > MAX_UNZIPPED_BYTES:
            raise UnsafeInput(f"{what} expands to more than {MAX_UNZIPPED_BYTES} bytes: refused as a zip bomb",
                              code="INPUT.ZIP_BOMB")
        name = info.filename.lower()
        if name.endswith("vbaproject.bin") or (name.endswith(".bin") and "vba" in name):
            raise UnsafeInput(f"{what} contains macros ({info.filename}); save it as .xlsx without macros",
                              code="INPUT.XLSX_MACROS")
        if name.startswith("xl/externallinks/"):
            raise UnsafeInput(f"{what} links to external workbooks ({info.filename}); remove the links",
                              code="INPUT.XLSX_EXTERNAL_LINKS")
    return archive

"""Reading untrusted XLSX workbooks: container, content-type and XML-prolog checks, then openpyxl."""

from __future__ import annotations

import codecs
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import openpyxl
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedET

from standards.errors import InputTooLarge, MalformedInput, UnsafeInput
from standards.safeio import max_input_bytes
from standards.tabular._zip import _defused_cause, _describe, _open_zip, _read_member, _root_cause

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
                              "carbonlink refuses", code="INPUT.XML_DTD") from exc
        raise MalformedInput(f"{what} is not a readable XLSX workbook: {_describe(_root_cause(exc))}",
                             code="INPUT.XLSX") from exc


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
                                  code="INPUT.XML_DTD") from exc
            raise MalformedInput(f"{what} sheet {sheet.title!r} cannot be read after row {number}: "
                                 f"{_describe(_root_cause(exc))}", code="INPUT.XLSX") from exc
        number += 1
        yield number, tuple(values)


def _check_content_types(archive: zipfile.ZipFile, what: str) -> None:
    """Judge the content types of the parts the workbook holds: a ``Default`` for an extension no part has
    (a CADT node's export declares one for ``.bin``) says nothing about the workbook."""
    if "[Content_Types].xml" not in archive.NameToInfo:
        raise MalformedInput(f"{what} has no [Content_Types].xml: not an XLSX workbook", code="INPUT.XLSX")
    raw = _read_member(archive, archive.getinfo("[Content_Types].xml"), 1024 * 1024, what, "INPUT.XLSX")
    types = _part_types(archive, raw, what)
    if types & set(_MACRO_MAIN_TYPES):
        raise MalformedInput(f"{what} is a macro-enabled workbook (.xlsm); save it as .xlsx without macros",
                             code="INPUT.XLSX")
    if _BINARY_MAIN_TYPE in types:
        raise MalformedInput(f"{what} is a binary workbook (.xlsb); save it as .xlsx", code="INPUT.XLSX")
    if not types & set(_XLSX_MAIN_TYPES):
        raise MalformedInput(f"{what} is a zip file but not an XLSX workbook (no spreadsheet main part)",
                             code="INPUT.XLSX")


def _part_types(archive: zipfile.ZipFile, raw: bytes, what: str) -> set[str]:
    """The content type of every part in the archive: its ``Override``, else the ``Default`` of its extension."""
    try:
        root = DefusedET.fromstring(raw)
    except (DefusedET.ParseError, DefusedXmlException) as exc:
        raise MalformedInput(f"{what} has an unreadable [Content_Types].xml: {exc}", code="INPUT.XLSX") from exc
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for element in root:
        tag = element.tag.rsplit("}", 1)[-1]
        content_type = element.get("ContentType", "")
        if tag == "Default":
            defaults[element.get("Extension", "").lower()] = content_type
        elif tag == "Override":
            overrides[element.get("PartName", "").lstrip("/").lower()] = content_type
    types: set[str] = set()
    for info in archive.infolist():
        if info.is_dir() or info.filename == "[Content_Types].xml":
            continue
        name = info.filename.lower()
        found = overrides.get(name)
        if found is None:
            found = defaults.get(name.rsplit(".", 1)[-1] if "." in name.rsplit("/", 1)[-1] else "")
        if found:
            types.add(found)
    return types


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

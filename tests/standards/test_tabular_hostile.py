"""Hostile and broken input for the tabular layer: every case ends in a coded error, never a traceback."""

from __future__ import annotations

import contextlib
import io
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standards.aef.csvio import read_csv
from standards.aef.xlsxio import read_xlsx, write_xlsx
from standards.errors import InputError, InputTooLarge, MalformedInput, UnsafeInput, UnsupportedEncoding
from standards.tabular import (
    CsvRecord,
    XlsxWriter,
    _xlsx_read,
    escape_formula,
    iter_csv_records,
    iter_sheet_rows,
    pack_csv_directory,
    read_csv_records,
    read_workbook,
    unescape_formula,
    unpack_csv_archive,
    write_csv_bytes,
)
from tests.standards.aef_media_samples import rezip, sample_tables, zip_members
from tests.support.edge import EdgeEnvironment

CONTENT_TYPES = "[Content_Types].xml"
DTD_SHEET = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n'
             b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol;</t></is></c></row></sheetData>'
             b'</worksheet>')


DAMAGE_BASE = write_xlsx(sample_tables())  # written once: workbooks carry a save timestamp


@pytest.fixture(scope="module")
def workbook() -> bytes:
    return write_xlsx(sample_tables())


def _code(exc: pytest.ExceptionInfo[InputError]) -> str:
    return exc.value.code


# ------------------------------------------------------------------------------------ CSV


def test_truncated_quoted_field_names_its_line() -> None:
    with pytest.raises(MalformedInput) as caught:
        read_csv_records(b'a,b\n1,2\n3,"unfinished\nmore text')
    assert _code(caught) == "INPUT.CSV" and "line 3" in caught.value.message and "not closed" in caught.value.message


def test_ragged_row_names_its_line() -> None:
    with pytest.raises(MalformedInput) as caught:
        read_csv_records(b"a,b,c\n1,2,3\n4,5\n")
    assert _code(caught) == "INPUT.CSV_RAGGED" and "line 3 has 2 fields" in caught.value.message


def test_text_after_closing_quote_is_refused() -> None:
    with pytest.raises(MalformedInput, match="line 2"):
        read_csv_records(b'a,b\n"x"y,2\n')


def test_latin1_bytes_are_refused_with_the_offset() -> None:
    with pytest.raises(UnsupportedEncoding) as caught:
        read_csv_records("Party,Name\nCHE,Zürich\n".encode("latin-1"))
    assert _code(caught) == "INPUT.ENCODING" and "byte 16" in caught.value.message


def test_utf16_without_bom_is_refused() -> None:
    with pytest.raises(UnsupportedEncoding, match="UTF-16 without a byte-order mark"):
        read_csv_records("a,b\n1,2\n".encode("utf-16-le"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_accepted_encodings(encoding: str) -> None:
    records = read_csv_records("Name;Ville\nKlima AG;Genève\n".encode(encoding))
    assert records == [CsvRecord(1, ("Name", "Ville")), CsvRecord(2, ("Klima AG", "Genève"))]


def test_streaming_reader_matches_the_whole_file_reader() -> None:
    text = "h1\th2\r\n" + "".join(f'{i}\t"multi\r\nline {i}"\r\n' for i in range(5000))
    for encoding in ("utf-8-sig", "utf-16"):
        data = text.encode(encoding)
        assert list(iter_csv_records(io.BytesIO(data))) == read_csv_records(data)


def test_streaming_reader_refuses_bad_bytes_late_in_the_file() -> None:
    data = b"a,b\n" + b"1,2\n" * 50_000 + b"\xff,3\n"
    stream = iter_csv_records(io.BytesIO(data))
    assert next(stream) == CsvRecord(1, ("a", "b"))
    with pytest.raises(UnsupportedEncoding, match="byte 200004"):
        list(stream)


def test_streaming_reader_enforces_its_byte_limit() -> None:
    with pytest.raises(InputTooLarge):
        list(iter_csv_records(io.BytesIO(b"a,b\n" + b"1,2\n" * 1000), limit=1000))


def test_oversized_field_is_refused() -> None:
    with pytest.raises(MalformedInput, match="longer than"):
        read_csv_records(b"a\n" + b"x" * 200_000 + b"\n")


def test_empty_csv_is_refused() -> None:
    with pytest.raises(MalformedInput, match="empty"):
        read_csv_records(b"\r\n\r\n")


def test_files_over_the_size_limit(edge_env: EdgeEnvironment, workbook: bytes) -> None:
    edge_env.setenv("CARBONLINK_MAX_INPUT_BYTES", "1000")
    with pytest.raises(InputTooLarge):
        read_csv_records(b"a,b\n" + b"1,2\n" * 400)
    with pytest.raises(InputTooLarge):
        read_workbook(workbook)
    with pytest.raises(InputTooLarge):
        read_csv(zip_members({"T5.csv": b"x" * 2000}))
    assert read_csv_records(b"a,b\n1,2\n")[1].cells == ("1", "2")


@pytest.mark.parametrize(("sample", "cells"), [("a,b;c", ("a", "b;c")), ("a;b;c,d", ("a", "b", "c,d")),
                                              ("a\tb\tc", ("a", "b", "c")), ('"x;y;z",b', ("x;y;z", "b")),
                                              ("single", ("single",))])
def test_delimiter_sniffing(sample: str, cells: tuple[str, ...]) -> None:
    assert read_csv_records(f"{sample}\n".encode())[0].cells == cells


# ------------------------------------------------------------------------ formula injection


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'=x", "''-x"])
def test_csv_writer_escapes_formula_triggers(text: str) -> None:
    written = write_csv_bytes([[text]]).decode("utf-8-sig")
    assert written.lstrip('"').startswith("'")
    assert read_csv_records(write_csv_bytes([["h"], [text]]))[1].cells == (text,)


def test_csv_writer_leaves_numbers_and_plain_text_alone() -> None:
    written = write_csv_bytes([[Decimal("-12.50"), -3, "plain", "'quoted", None]])
    assert written == b"\xef\xbb\xbf-12.50,-3,plain,'quoted,\r\n"


@settings(max_examples=300)
@given(st.text())
def test_escape_round_trip(text: str) -> None:
    escaped = escape_formula(text)
    assert unescape_formula(escaped) == text
    assert not escaped or escaped[0] not in "=+-@\t\r"


def test_xlsx_writer_stores_formula_text_as_strings() -> None:
    writer = XlsxWriter()
    sheet = writer.add_sheet("S")
    writer.append(sheet, ["=cmd|' /C calc'!A0", "@SUM(1)", "#REF!", "+1"])
    data = writer.to_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and xml.count('t="inlineStr"') == 4
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert [c.data_type for c in book["S"][1]] == ["s", "s", "s", "s"]


# ------------------------------------------------------------------------------------ XLSX


def test_truncated_workbook(workbook: bytes) -> None:
    with pytest.raises(MalformedInput) as caught:
        read_workbook(workbook[: len(workbook) // 2])
    assert _code(caught) == "INPUT.XLSX"


@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_non_zip_data(data: bytes) -> None:
    with pytest.raises(MalformedInput) as caught:
        read_xlsx(data)
    assert _code(caught) == "INPUT.XLSX"


def test_legacy_xls_is_refused() -> None:
    with pytest.raises(MalformedInput, match=r"legacy binary Excel file \(.xls\)"):
        read_workbook(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)


def test_zip_without_spreadsheet_parts() -> None:
    with pytest.raises(MalformedInput, match=r"no \[Content_Types\].xml"):
        read_workbook(zip_members({"hello.txt": b"hi"}))


def test_zip_bomb_is_refused() -> None:
    bomb = zip_members({CONTENT_TYPES: b"<Types/>", "xl/worksheets/sheet1.xml": b"\0" * 30_000_000})
    assert len(bomb) < 100_000
    with pytest.raises(UnsafeInput) as caught:
        read_workbook(bomb)
    assert _code(caught) == "INPUT.ZIP_BOMB"


def test_macros_are_refused(workbook: bytes) -> None:
    with pytest.raises(UnsafeInput) as caught:
        read_workbook(rezip(workbook, add={"xl/vbaProject.bin": b"\x00macro"}))
    assert _code(caught) == "INPUT.XLSX_MACROS"


def test_xlsm_content_type_is_refused(workbook: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        types = archive.read(CONTENT_TYPES).decode()
    types = types.replace("spreadsheetml.sheet.main+xml", "XXX").replace(
        "application/vnd.openxmlformats-officedocument.XXX", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    with pytest.raises(MalformedInput) as caught:
        read_workbook(rezip(workbook, replace={CONTENT_TYPES: types.encode()}))
    assert _code(caught) == "INPUT.XLSX" and ".xlsm" in caught.value.message


def test_external_links_are_refused(workbook: bytes) -> None:
    with pytest.raises(UnsafeInput) as caught:
        read_workbook(rezip(workbook, add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"}))
    assert _code(caught) == "INPUT.XLSX_EXTERNAL_LINKS"


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet4.xml", "xl/styles.xml"])
def test_dtd_in_any_part_is_refused(workbook: bytes, part: str) -> None:
    with pytest.raises(UnsafeInput) as caught:
        read_xlsx(rezip(workbook, replace={part: DTD_SHEET}))
    assert _code(caught) == "INPUT.XML_DTD" and part in caught.value.message


@pytest.mark.parametrize("prolog", [b"<!-- a note -->", b"<?pi x?><!---->\n<!-- two -->", b"\xef\xbb\xbf"])
def test_dtd_after_comments_or_a_bom_is_refused_in_the_workbook_part(workbook: bytes, prolog: bytes) -> None:
    """workbook.xml is parsed by lxml without the defusedxml backstop: the prolog check must catch it."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        xml = archive.read("xl/workbook.xml")
    body = xml[xml.index(b"?>") + 2:] if xml.startswith(b"<?xml") else xml
    declaration = b"" if prolog.startswith(b"\xef") else b'<?xml version="1.0" encoding="UTF-8"?>\n'
    hostile = declaration + prolog + b'<!DOCTYPE workbook [<!ENTITY x "y">]>' + body
    with pytest.raises(UnsafeInput) as caught:
        read_workbook(rezip(workbook, replace={"xl/workbook.xml": hostile}))
    assert _code(caught) == "INPUT.XML_DTD" and "xl/workbook.xml" in caught.value.message


def test_dtd_behind_a_long_comment_or_in_utf16_is_refused(workbook: bytes) -> None:
    padded = DTD_SHEET.replace(b"\n<!DOCTYPE", b"\n<!--" + b"x" * 70_000 + b"-->\n<!DOCTYPE")
    utf16 = DTD_SHEET.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    for sheet in (padded, utf16):
        with pytest.raises(UnsafeInput):
            read_xlsx(rezip(workbook, replace={"xl/worksheets/sheet4.xml": sheet}))


def test_openpyxl_itself_refuses_a_dtd_through_defusedxml(workbook: bytes,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The second line of defence: with the prolog check off, defusedxml in openpyxl still refuses."""
    assert openpyxl.DEFUSEDXML is True
    monkeypatch.setattr(_xlsx_read, "_check_xml_prologs", lambda archive, what: None)
    data = rezip(workbook, replace={"xl/worksheets/sheet4.xml": DTD_SHEET})
    with pytest.raises(UnsafeInput) as caught:
        book = read_workbook(data)
        list(iter_sheet_rows(book["Table 3 Actions"]))
    assert _code(caught) == "INPUT.XML_DTD" and "EntitiesForbidden" in caught.value.message


def test_broken_sheet_xml_is_a_coded_error(workbook: bytes) -> None:
    data = rezip(workbook, replace={"xl/worksheets/sheet4.xml": b"<worksheet><sheetData><row>"})
    with pytest.raises(MalformedInput) as caught:
        read_xlsx(data)
    assert _code(caught) == "INPUT.XLSX" and "no element found" in caught.value.message


def test_missing_workbook_part_is_a_coded_error(workbook: bytes) -> None:
    source = zipfile.ZipFile(io.BytesIO(workbook))
    kept = {i.filename: source.read(i.filename) for i in source.infolist() if i.filename != "xl/workbook.xml"}
    with pytest.raises(MalformedInput) as caught:
        read_workbook(zip_members(kept))
    assert _code(caught) == "INPUT.XLSX"


def test_corrupted_member_bytes_are_a_coded_error(workbook: bytes) -> None:
    data = bytearray(workbook)
    start = data.find(b"xl/worksheets/sheet4.xml") + 40  # inside the compressed body of that member
    data[start:start + 200] = bytes(200)
    with pytest.raises(InputError):
        read_xlsx(bytes(data))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_byte_damage_never_escapes_as_a_traceback(data: st.DataObject) -> None:
    original = bytearray(DAMAGE_BASE)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] = data.draw(st.integers(0, 255))
    with contextlib.suppress(InputError):
        read_xlsx(bytes(original))


# ------------------------------------------------------------------------------ CSV archives


def test_archive_with_a_non_csv_member_is_refused() -> None:
    with pytest.raises(MalformedInput, match=r"'run\.exe' is not a \.csv file"):
        unpack_csv_archive(zip_members({"T1.csv": b"a,b\n", "run.exe": b"MZ"}))


def test_archive_with_nested_paths_is_refused() -> None:
    with pytest.raises(MalformedInput, match="at the top level"):
        unpack_csv_archive(zip_members({"../../etc/T1.csv": b"a,b\n"}))


def test_csv_archive_bomb_is_refused() -> None:
    with pytest.raises(UnsafeInput) as caught:
        read_csv(zip_members({"T3_Actions.csv": b"," * 20_000_000}))
    assert _code(caught) == "INPUT.ZIP_BOMB"


def test_pack_csv_directory(tmp_path: Path) -> None:
    (tmp_path / "b.csv").write_bytes(b"2")
    (tmp_path / "A.CSV").write_bytes(b"1")
    (tmp_path / "skip.txt").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.csv").write_bytes(b"3")
    assert unpack_csv_archive(pack_csv_directory(tmp_path)) == [("A.CSV", b"1"), ("b.csv", b"2")]


def test_pack_refuses_empty_and_oversized_folders(tmp_path: Path, edge_env: EdgeEnvironment) -> None:
    with pytest.raises(MalformedInput, match=r"no \.csv files"):
        pack_csv_directory(tmp_path)
    (tmp_path / "big.csv").write_bytes(b"x" * 5000)
    edge_env.setenv("CARBONLINK_MAX_INPUT_BYTES", "1000")
    with pytest.raises(InputTooLarge):
        pack_csv_directory(tmp_path)
    with pytest.raises(MalformedInput, match="not a folder"):
        pack_csv_directory(tmp_path / "big.csv")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=200).map(lambda t: t.encode("utf-8")))
def test_arbitrary_bytes_as_aef_csv_give_tables_or_a_coded_error(data: bytes) -> None:
    with contextlib.suppress(InputError):
        read_csv(data)


class _LazyCsv(io.RawIOBase):
    """A CSV produced on demand, so the test itself holds no copy of it."""

    def __init__(self, lines: int) -> None:
        self._lines = iter(range(lines))
        self._pending = b"id,name,quantity\r\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self._pending) < len(buffer):
            index = next(self._lines, None)
            if index is None:
                break
            self._pending += f'{index},"name {index}",{index}.25\r\n'.encode()
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _streaming_peak(lines: int) -> int:
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_csv_records(io.BufferedReader(_LazyCsv(lines), 64 * 1024)))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == lines + 1
    return peak


def test_streaming_reader_runs_in_bounded_memory() -> None:
    small, large = _streaming_peak(10_000), _streaming_peak(40_000)  # about 0.3 MB and 1.3 MB of CSV
    assert large < 1.5 * small, (small, large)  # four times the data, not four times the memory
    assert large < 1_000_000

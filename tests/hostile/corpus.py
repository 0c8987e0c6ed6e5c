"""A generated corpus of hostile message files: XLSX, CSV, XML (DES XML), JSON, and carbon semantics.

Each case is ``(name, medium, body)``; every one of them must be refused (a coded 4xx at the gateway, a
coded non-zero exit of ``carbonlink translate``), in bounded time and memory, with nothing delivered or
recorded. The bodies are built here from a valid AEF transfer (``gateway.demo.itmo_message``) and the
aef adapter's own writers, then broken in one way each.
"""

from __future__ import annotations

import copy
import csv
import functools
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters import default_catalog
from gateway.demo import itmo_message
from standards.codec import Medium

_MADE: dict[str, bytes] = {}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPE = {Medium.JSON: "application/json", Medium.CSV: "text/csv", Medium.XML: "application/xml",
              Medium.XLSX: XLSX_TYPE}


@dataclass(frozen=True)
class HostileFile:
    name: str
    medium: Medium
    #: the bytes, or how to make them (the big ones are made when a test first reads them, not at collection)
    content: bytes | Callable[[], bytes]
    #: the format the file claims to be in (the sender's directory format at the gateway)
    format: str = "aef"

    @property
    def body(self) -> bytes:
        if isinstance(self.content, bytes):
            return self.content
        if self.name not in _MADE:
            _MADE[self.name] = self.content()
        return _MADE[self.name]

    @property
    def media_type(self) -> str:
        return MEDIA_TYPE[self.medium]

    @property
    def suffix(self) -> str:
        return {Medium.JSON: ".json", Medium.CSV: ".csv", Medium.XML: ".xml", Medium.XLSX: ".xlsx"}[self.medium]


def valid_message(**changes: Any) -> dict[str, Any]:
    message = itmo_message(sender_party="CHE", receiver_party="GHA", first=1, last=10)
    message["Actions"][0].update(changes)
    return message


def _aef(medium: Medium, message: dict[str, Any] | None = None) -> bytes:
    adapter = default_catalog().get("aef")
    parsed = adapter.parse(json.dumps(message or valid_message()).encode(), medium=Medium.JSON)
    return adapter.serialize(parsed.document, medium=medium).data


def _rezip(workbook: bytes, change: Callable[[str, bytes], bytes | None], extra: dict[str, bytes] | None = None,
           compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as src, zipfile.ZipFile(out, "w", compression, compresslevel=1) as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info.filename))
            if data is not None:
                dst.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def _first_sheet(name: str) -> bool:
    return name.startswith("xl/worksheets/sheet") and name.endswith(".xml")


LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          b'<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
          b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
XXE = b'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
EXTERNAL_DTD = b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">'


def _with_prolog(xml: bytes, prolog: bytes, entity: bytes | None = None) -> bytes:
    """``xml`` with a DTD ``prolog`` after its XML declaration (and ``entity`` referenced in its first text)."""
    head, sep, rest = xml.partition(b"?>")
    if not sep:
        head, rest = b"", xml
    else:
        head += sep
    if entity is not None:
        marker = b"<t>" if b"<t>" in rest else b"><"
        rest = rest.replace(marker, marker[:-1] + entity + marker[-1:], 1 if marker == b"<t>" else 2)
    return head + prolog + rest


@functools.cache
def _good_xlsx() -> bytes:
    return _aef(Medium.XLSX)


def xlsx_cases() -> Iterator[HostileFile]:
    good = _good_xlsx()
    yield HostileFile("xlsx-truncated", Medium.XLSX, good[: len(good) // 2])
    yield HostileFile("xlsx-random-bytes", Medium.XLSX, bytes(range(256)) * 40)
    yield HostileFile("xlsx-legacy-xls", Medium.XLSX, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000)
    yield HostileFile("xlsx-empty-zip", Medium.XLSX, _rezip(good, lambda n, d: None))
    bomb = 80 * 1024 * 1024  # over the 64 MiB input limit once inflated; ~80 KiB on the wire
    yield HostileFile("xlsx-zip-bomb-member", Medium.XLSX, lambda: _rezip(
        good, lambda n, d: d, {"xl/media/bomb.bin": b"\x00" * bomb}))
    yield HostileFile("xlsx-zip-bomb-sheet", Medium.XLSX, lambda: _rezip(
        good, lambda n, d: d.replace(b"</sheetData>", b'<row r="9">' + b" " * bomb + b"</row></sheetData>")
        if _first_sheet(n) else d))
    for label, prolog, entity in (("billion-laughs", LAUGHS, b"&lol3;"), ("xxe", XXE, b"&xxe;"),
                                  ("external-dtd", EXTERNAL_DTD, None)):
        for part in ("xl/workbook.xml", "xl/styles.xml", "docProps/core.xml", "sheet", "[Content_Types].xml"):
            def change(name: str, data: bytes, part: str = part, prolog: bytes = prolog,
                       entity: bytes | None = entity) -> bytes:
                hit = _first_sheet(name) if part == "sheet" else name == part
                return _with_prolog(data, prolog, entity) if hit else data
            tag = part.rsplit("/", 1)[-1].replace("[", "").replace("]", "")
            yield HostileFile(f"xlsx-{label}-{tag}", Medium.XLSX, _rezip(good, change))
    yield HostileFile("xlsx-macros", Medium.XLSX, _rezip(good, lambda n, d: d, {"xl/vbaProject.bin": b"\x00" * 64}))
    yield HostileFile("xlsx-external-link", Medium.XLSX, _rezip(
        good, lambda n, d: d, {"xl/externalLinks/externalLink1.xml": b"<externalLink/>"}))
    yield HostileFile("xlsx-huge-dimension", Medium.XLSX, lambda: _rezip(
        good, lambda n, d: _huge_rows(d) if _first_sheet(n) else d))
    yield HostileFile("xlsx-formula-cells", Medium.XLSX, _rezip(
        good, lambda n, d: _formula_cells(d) if _first_sheet(n) else d))
    yield HostileFile("xlsx-broken-sheet-xml", Medium.XLSX, _rezip(
        good, lambda n, d: d[: len(d) // 2] if _first_sheet(n) else d))


def _huge_rows(sheet: bytes) -> bytes:
    """200,000 empty-but-declared rows after the data: a sheet far over any row limit."""
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (i, i)
                    for i in range(100, 200_100))
    return sheet.replace(b"</sheetData>", rows + b"</sheetData>")


def _formula_cells(sheet: bytes) -> bytes:
    """Every value cell of the data row replaced by a formula (a DDE payload): nothing computed is data."""
    return sheet.replace(b'<c r="A2"', b'<c r="A2"><f>cmd|\' /C calc\'!A0</f><v>0</v></c><c r="ZZ2"', 1)


#: Spreadsheet formula payloads (DDE, hyperlink, the four trigger characters).
FORMULAS = {"dde": "=cmd|' /C calc'!A0", "hyperlink": '=HYPERLINK("http://evil.example","x")',
            "plus": "+1+cmd|' /C calc'!A0", "minus": "-1+cmd|' /C calc'!A0", "at": "@SUM(1+1)*cmd|' /C calc'!A0"}


def formula_in_free_text(label: str) -> bytes:
    """A valid AEF CSV transfer whose free-text field carries a formula payload: data, not refused, and
    written back escaped (``standards.tabular.escape_formula``) wherever carbonlink writes a spreadsheet."""
    return _csv_from_json_message(valid_message(AdditionalExplanatoryInformation=FORMULAS[label]))


def csv_cases() -> Iterator[HostileFile]:
    good = _aef(Medium.CSV)
    text = good.decode("utf-8")
    yield HostileFile("csv-latin1", Medium.CSV, good.replace(b"Emission reductions", "Réductions".encode("latin-1")))
    yield HostileFile("csv-utf16-no-bom", Medium.CSV, text.lstrip("\ufeff").encode("utf-16-le"))
    yield HostileFile("csv-invalid-utf8", Medium.CSV, good + b"\xff\xfe\xc3\x28\n")
    yield HostileFile("csv-nul-bytes", Medium.CSV, good.replace(b",", b",\x00", 3))
    yield HostileFile("csv-truncated-quote", Medium.CSV, good + b'"unterminated,field\n')
    yield HostileFile("csv-ragged", Medium.CSV, good + b"a,b\n")
    yield HostileFile("csv-huge-field", Medium.CSV, good + b'"' + b"x" * (2 * 1024 * 1024) + b'"\n')
    yield HostileFile("csv-empty", Medium.CSV, b"")
    yield HostileFile("csv-only-bom", Medium.CSV, b"\xef\xbb\xbf")
    yield HostileFile("csv-binary", Medium.CSV, bytes(range(256)) * 8)
    lines = text.splitlines()
    many = "\n".join([lines[0], *([lines[-1]] * 60_000)]).encode()  # cheap: one join
    yield HostileFile("csv-huge-sheet", Medium.CSV, lambda: many)
    for label, payload in FORMULAS.items():  # in an identifier: refused by the field's pattern
        yield HostileFile(f"csv-formula-{label}-in-an-id", Medium.CSV, _csv_from_json_message(valid_message(
            CooperativeApproachID=payload)))


DES_PROPOSAL = Path(__file__).resolve().parents[1] / "fixtures" / "des-xml" / "proposal-external-transfer.xml"


def xml_cases() -> Iterator[HostileFile]:
    good = DES_PROPOSAL.read_bytes()
    for label, prolog, entity in (("billion-laughs", LAUGHS, b"&lol3;"), ("xxe", XXE, b"&xxe;"),
                                  ("external-dtd", EXTERNAL_DTD, None)):
        yield HostileFile(f"xml-{label}", Medium.XML, _with_prolog(good, prolog, entity), "des-xml")
    yield HostileFile("xml-truncated", Medium.XML, good[: len(good) // 2], "des-xml")
    yield HostileFile("xml-deep-nesting", Medium.XML, b"<a>" * 100_000 + b"</a>" * 100_000, "des-xml")
    yield HostileFile("xml-huge-attribute", Medium.XML, b'<a b="' + b"x" * (3 * 1024 * 1024) + b'"/>', "des-xml")
    yield HostileFile("xml-wrong-encoding", Medium.XML, b'<?xml version="1.0" encoding="UTF-16"?>'
                      + good.partition(b"?>")[2], "des-xml")
    yield HostileFile("xml-latin1-bytes", Medium.XML, good.replace(b"</", "\xe9</".encode("latin-1"), 1), "des-xml")
    yield HostileFile("xml-not-des", Medium.XML, b"<html><body>hello</body></html>", "des-xml")
    yield HostileFile("xml-empty", Medium.XML, b"", "des-xml")


#: Carbon semantics: each a well-formed AEF transfer that no registry may act on.
SEMANTIC_CHANGES: dict[str, dict[str, Any]] = {
    "negative-quantity": {"QuantityCO2": -10},
    "zero-quantity": {"QuantityCO2": 0},
    "quantity-not-the-range": {"QuantityCO2": 11},
    "reversed-range": {"FirstID": 10, "LastID": 1},
    "negative-first-id": {"FirstID": -5, "LastID": 4},
    "vintage-in-the-future": {"Vintage": 2099},
    "vintage-out-of-range": {"Vintage": 2999},
    "vintage-before-paris": {"Vintage": 1900},
    "unknown-party": {"AcquiringPartyID": "XXX"},
    "action-in-the-future": {"ActionDateTime": "2999-01-01T00:00:00Z"},
    "first-transfer-to-itself": {"AcquiringPartyID": "CHE"},
}

#: The rule each lone-action semantic defect is refused by (checked through ``carbonlink validate``).
SEMANTIC_RULES: dict[str, str] = {
    "action-in-the-future": "AEF.T3.ACTION_IN_FUTURE",
    "first-transfer-to-itself": "AEF.PARTY.FIRST_TRANSFER_TO_SELF",
}


def semantic_cases() -> Iterator[HostileFile]:
    for label, change in SEMANTIC_CHANGES.items():
        message = copy.deepcopy(valid_message(**change))
        yield HostileFile(f"semantic-{label}-json", Medium.JSON, json.dumps(message).encode())
    for label in ("negative-quantity", "reversed-range", "vintage-in-the-future"):
        message = valid_message(**SEMANTIC_CHANGES[label])
        yield HostileFile(f"semantic-{label}-json-as-csv", Medium.CSV, _csv_from_json_message(message))


#: AEF CSV column of each AEF JSON field the corpus changes.
CSV_COLUMNS = {"FirstID": "First ID", "LastID": "Last ID", "QuantityCO2": "Quantity (t CO2 eq)", "Vintage": "Vintage",
               "AdditionalExplanatoryInformation": "Additional explanatory information",
               "CooperativeApproachID": "Cooperative approach ID"}


def _csv_from_json_message(message: dict[str, Any]) -> bytes:
    """The AEF CSV of a valid transfer with the changed fields of ``message`` written into its row by hand
    (the adapter's writer refuses to write an invalid document)."""
    header, row = _aef(Medium.CSV).decode("utf-8").splitlines()[:2]
    columns = next(csv.reader([header.lstrip("\ufeff")]))
    values = next(csv.reader([row]))
    for field, column in CSV_COLUMNS.items():
        values[columns.index(column)] = str(message["Actions"][0][field] or "")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([columns, values])
    return out.getvalue().encode("utf-8")


def all_cases() -> list[HostileFile]:
    return [*xlsx_cases(), *csv_cases(), *xml_cases(), *semantic_cases()]

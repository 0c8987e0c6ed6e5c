"""Both AEF workbook layouts round-trip: carbonlink's own and the peer template of the UNDP registry line
(github.com/xeptagondev/carbon-registry-undp, ``backend/services/libs/aef-v2/src/export/templates/``)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings

from standards.aef._xlsx_peer import HEADER_ROWS, INDEX_SHEET, SPACER_AFTER
from standards.aef.codec import AEF, AefCodec, read_tables, write_tables
from standards.aef.tables import ROW_TABLES, TABLES, AefTables
from standards.aef.xlsxio import SUMMARY_SHEET, XLSX_LAYOUTS, read_xlsx, write_xlsx
from standards.codec import Medium
from standards.errors import InvalidValue
from tests.standards.aef_media_samples import sample_tables, tables_strategy

ROOT = Path(__file__).resolve().parents[2]


def _same(back: AefTables, tables: AefTables) -> None:
    assert back.submission == tables.submission
    assert back.rows == tables.rows


@pytest.mark.parametrize("layout", XLSX_LAYOUTS)
def test_sample_round_trips_in_each_layout(layout: str) -> None:
    tables = sample_tables()
    back = read_xlsx(write_xlsx(tables, layout=layout))
    _same(back, tables)
    assert back.instructions == []


@pytest.mark.parametrize("layout", XLSX_LAYOUTS)
def test_empty_tables_round_trip_in_each_layout(layout: str) -> None:
    back = read_xlsx(write_xlsx(AefTables(), layout=layout))
    assert back.submission is None and all(back.rows[t] == [] for t in ROW_TABLES)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables_strategy(max_rows=3))
def test_generated_tables_round_trip_in_the_peer_layout(tables: AefTables) -> None:
    _same(read_xlsx(write_xlsx(tables, layout="peer")), tables)


def test_peer_layout_cells() -> None:
    book = openpyxl.load_workbook(io.BytesIO(write_xlsx(sample_tables(), layout="peer")))
    assert book.sheetnames == [INDEX_SHEET, SUMMARY_SHEET, *(TABLES[t].sheet for t in TABLES)]
    t1 = book[TABLES["T1"].sheet]
    labels = [t1.cell(row, 2).value for row in range(4, 13)]
    assert labels == [f.label for f in TABLES["T1"].fields]
    assert t1["C4"].value == "CHE" and t1["C6"].value == 2024 and t1["C6"].data_type == "n"
    assert all(t1.cell(row, 1).value is None for row in range(1, 13))
    for table_id in ROW_TABLES:
        sheet = book[TABLES[table_id].sheet]
        header = HEADER_ROWS[table_id]
        cells = [c.value for c in sheet[header]]
        assert cells[0] is None, table_id  # the column-A margin
        names = [v for v in cells[1:] if v is not None]
        assert names == [f.label for f in TABLES[table_id].fields], table_id
        spacers = [i for i, v in enumerate(cells[1:], start=2) if v is None]
        assert len(spacers) == (1 if table_id in SPACER_AFTER else 0), table_id
        assert all(sheet.cell(row, 2).value is None for row in range(3, header)), table_id
    t3 = book[TABLES["T3"].sheet]
    assert t3["B9"].number_format == "DD/MM/YYYY HH:MM:SS"
    quantity = 2 + [f.cn for f in TABLES["T3"].fields].index("QuantityCO2") + 1  # after the spacer
    assert t3.cell(9, quantity).data_type == "n"


def test_codec_writes_the_peer_layout_as_an_option() -> None:
    data = (ROOT / "standards/examples/aef-v2-report.json").read_bytes()
    doc = AEF.parse(data, medium=Medium.JSON).document
    peer = AEF.with_xlsx_layout("peer")
    assert isinstance(peer, AefCodec) and AEF.xlsx_layout == "carbonlink"
    workbook = peer.serialize(doc, medium=Medium.XLSX).data
    assert INDEX_SHEET in openpyxl.load_workbook(io.BytesIO(workbook), read_only=True).sheetnames
    assert AEF.parse(workbook, medium=Medium.XLSX).document == doc
    assert AEF.validate(workbook, medium=Medium.XLSX).valid
    # JSON holds dates as text; once in a workbook they are dates, and both layouts read back alike
    read_back = [read_tables(write_tables(read_tables(data, Medium.JSON), Medium.XLSX, xlsx_layout=layout)[0],
                             Medium.XLSX) for layout in XLSX_LAYOUTS]
    _same(read_back[1], read_back[0])
    for layout in XLSX_LAYOUTS:
        _same(read_tables(write_tables(read_back[0], Medium.XLSX, xlsx_layout=layout)[0], Medium.XLSX),
              read_back[0])


def test_unknown_layout_is_refused() -> None:
    with pytest.raises(InvalidValue, match="layout 'undp'"):
        write_xlsx(sample_tables(), layout="undp")
    with pytest.raises(InvalidValue):
        AefCodec(xlsx_layout="undp")

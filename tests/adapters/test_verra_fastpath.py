"""The Verra fast path (compiled transactions reader, blocks built without re-validation) gives the
same records and the same findings as the full per-row path, for clean and odd rows alike."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import verra
from adapters.registry_exports import CsvExportAdapter, Record, RowMapper
from adapters.verra import TRANSACTIONS, VerraAdapter
from adapters.verra._fast_path import _quantity_cell
from standards.codec import Medium
from standards.errors import InputError
from standards.findings import Finding
from standards.model import UnitBlock
from standards.tabular import CsvRecord

CSV = Medium.CSV


class FullPathAdapter(VerraAdapter):
    """The adapter as it was before the fast path: every row through ``map_row``."""

    def _records(self, rows: Iterator[CsvRecord], findings: list[Finding], *,
                 stop_on_error: bool = False) -> Iterator[Record]:
        return CsvExportAdapter._records(self, rows, findings, stop_on_error=stop_on_error)


def describe(record: Any) -> tuple[Any, ...]:
    """Everything observable about a record: each field's name, type and repr in order, and pydantic's state."""
    fields = [(name, type(value).__name__, repr(value)) for name, value in record.__dict__.items()]
    return (type(record).__name__, fields, sorted(record.model_fields_set), record.__pydantic_extra__,
            record.__pydantic_private__, record.model_dump_json())


def outcome(adapter: VerraAdapter, data: bytes, *, stream: bool) -> Any:
    findings: list[Finding] = []
    try:
        if stream:
            records: list[Any] = list(adapter.iter_records(io.BytesIO(data), medium=CSV, findings=findings))
        else:
            result = adapter.parse(data, medium=CSV)
            records, findings = [*result.document.units, *result.document.projects], result.findings
    except InputError as exc:
        return "error", exc.code, str(exc)
    return [describe(r) for r in records], [(f.rule, f.severity, f.location, f.message) for f in findings]


def assert_same(data: bytes) -> None:
    for stream in (True, False):
        fast, full = outcome(VerraAdapter(), data, stream=stream), outcome(FullPathAdapter(), data, stream=stream)
        assert fast == full


def export(rows: list[dict[str, str]], columns: tuple[str, ...] = TRANSACTIONS.columns) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for cells in rows:
        writer.writerow([cells.get(c, "") for c in columns])
    return out.getvalue().encode("utf-8")


def serial(first: int, last: int, *, country: str = "ET", project: str = "1340", vintage: int = 2020,
           tokens: int = 13) -> str:
    head = f"19385-{first}-{last}-VCS-VCU-1507-VER-{country}-14-{project}"
    if tokens == 12:
        head = f"19385-{first}-{last}-VCU-1507-VER-{country}-14-{project}"
    return f"{head}-0101{vintage}-3112{vintage}-1"


def good(**cells: str) -> dict[str, str]:
    base = {"Issuance Date": "2026-04-03", "Vintage Start": "2020-01-01", "Vintage End": "2020-12-31",
            "ID": "1340", "Name": "Bale Mountains Eco-region REDD+ project", "Country/Area": "Ethiopia",
            "Quantity Issued": "425", "Serial Number": serial(941467007, 941467431),
            "Methodology": "VM0015", "Retirement/Cancellation Date": "2026-04-10",
            "Retirement Beneficiary": "Nordic Freight AB", "Retirement Reason": "Environmental Benefit"}
    base.update(cells)
    return base


ODD_ROWS = [
    good(),
    good(**{"Retirement/Cancellation Date": "", "Retirement Beneficiary": "", "Retirement Reason": ""}),
    good(**{"Retirement/Cancellation Date": "   "}),
    good(**{"Quantity Issued": "1,000", "Serial Number": serial(1, 1000)}),
    good(**{"Quantity Issued": "1000", "Serial Number": serial(1, 1000)}),
    good(**{"Quantity Issued": "0425"}),
    good(**{"Quantity Issued": "425.0"}),
    good(**{"Quantity Issued": "001,000", "Serial Number": serial(1, 1000)}),
    good(**{"Quantity Issued": "1,00", "Serial Number": serial(1, 100)}),
    good(**{"Quantity Issued": " 425"}),
    good(**{"Quantity Issued": "0,425"}),
    good(**{"Quantity Issued": "1,,000", "Serial Number": serial(1, 1000)}),
    good(**{"Quantity Issued": "1000,", "Serial Number": serial(1, 1000)}),
    good(**{"Quantity Issued": ",425"}),
    good(**{"Quantity Issued": "４２５"}),
    good(**{"Quantity Issued": "426"}),
    good(**{"Quantity Issued": ""}),
    good(**{"Quantity Issued": "-425"}),
    good(**{"Serial Number": serial(941467431, 941467007), "Quantity Issued": "1"}),
    good(**{"Serial Number": serial(941467008, 941467007), "Quantity Issued": "0"}),
    good(**{"Serial Number": serial(941467007, 941467007), "Quantity Issued": "0"}),
    good(**{"Serial Number": "019385-0941467007-0941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"}),
    good(**{"Serial Number": "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1-"}),
    good(**{"Serial Number": "19385--941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"}),
    good(**{"Serial Number": "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1\n"}),
    good(**{"Serial Number": "19385-９41467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"}),
    good(**{"Serial Number": serial(941467007, 941467431, tokens=12)}),
    good(**{"Serial Number": "19902-1-425-VCS-VCU-500-VER-ET-1340-01012020-31122020-0"}),
    good(**{"Serial Number": serial(941467007, 941467431).lower()}),
    good(**{"Serial Number": "19385-941467007-VCS-VCU"}),
    good(**{"Serial Number": ""}),
    good(**{"Serial Number": " " + serial(941467007, 941467431)}),
    good(**{"Serial Number": "1-" + "0" * 600 + "1-" + "0" * 600 + "425-VCS-VCU-1-VER-ET-14-1340-01012020-31122020-1"}),
    good(**{"Serial Number": serial(941467007, 941467431, country="PE")}),
    good(**{"Serial Number": serial(941467007, 941467431, country="XX")}),
    good(**{"Serial Number": serial(941467007, 941467431, project="01340")}),
    good(**{"Serial Number": serial(941467007, 941467431, project="1341")}),
    good(**{"Serial Number": serial(941467007, 941467431, vintage=1899),
            "Vintage Start": "1899-01-01", "Vintage End": "1899-12-31"}),
    good(**{"Vintage Start": "01/01/2020"}),
    good(**{"Vintage End": "2021-12-31"}),
    good(**{"Vintage End": "31/12/2020"}),
    good(**{"Vintage Start": "", "Vintage End": ""}),
    good(**{"Vintage End": "not a date"}),
    good(**{"Issuance Date": "03/04/2026"}),
    good(**{"Issuance Date": "2026-04-03T10:00:00"}),
    good(**{"Issuance Date": "2026-02-30"}),
    good(**{"Issuance Date": "2026-13-45"}),
    good(**{"Issuance Date": "yesterday"}),
    good(**{"Issuance Date": ""}),
    good(**{"Issuance Date": " "}),
    good(**{"Issuance Date": "２０２６-04-03"}),
    good(**{"Retirement/Cancellation Date": "10/04/2026"}),
    good(**{"Retirement/Cancellation Date": "soon"}),
    good(**{"Country/Area": "ethiopia"}),
    good(**{"Country/Area": "ETH"}),
    good(**{"Country/Area": "ET"}),
    good(**{"Country/Area": "Atlantis"}),
    good(**{"Country/Area": ""}),
    good(**{"Country/Area": "  "}),
    good(**{"Country/Area": "Peru"}),
    good(**{"Country/Area": "Bolivia", "Serial Number": serial(941467007, 941467431, country="BO")}),
    good(**{"ID": "VCS1340"}),
    good(**{"ID": "vcs1340"}),
    good(**{"ID": " 1340"}),
    good(**{"ID": "01340"}),
    good(**{"ID": "１３４０"}),
    good(**{"ID": "VCS-ABC"}),
    good(**{"ID": ""}),
    good(**{"Name": "", "Methodology": "", "Retirement Details": "=SUM(A1)"}),
    good(**{"Name": "'=x", "Retirement Beneficiary": "'+y", "Total Vintage Quantity": "1,454,054"}),
    good(**{"Sustainable Development Goals": "13: Climate action", "Additional Certifications": "CCB-Gold"}),
]


@pytest.mark.parametrize("index", range(len(ODD_ROWS)))
def test_each_odd_row_after_a_clean_one(index: int) -> None:
    # the clean row first, so the project ID is known and the odd row is offered to the fast path
    assert_same(export([good(), ODD_ROWS[index], ODD_ROWS[index]]))


def test_all_rows_in_one_file_and_repeated() -> None:
    assert_same(export(ODD_ROWS * 3))


@pytest.mark.parametrize("columns", [
    (*TRANSACTIONS.columns, "Registry Note"),
    (*TRANSACTIONS.columns, ""),
    tuple(c for c in TRANSACTIONS.columns if c not in ("Name", "Vintage Start", "Country/Area", "Methodology")),
    (*TRANSACTIONS.columns, "Methodology"),
    (*TRANSACTIONS.columns, "Quantity Issued"),
    tuple(reversed(TRANSACTIONS.columns)),
])
def test_other_headers(columns: tuple[str, ...]) -> None:
    rows = [{**r, "Registry Note": "n", "": "trailing"} for r in ODD_ROWS]
    assert_same(export(rows, columns))


def test_bad_bytes_mid_file_stop_both_paths_alike() -> None:
    data = export([good()] * 50) + b"\xff,bad\r\n"
    assert_same(data)
    assert outcome(VerraAdapter(), data, stream=True)[0] == "error"


def test_the_fast_path_is_taken_for_clean_rows() -> None:
    rows = [good(**{"Quantity Issued": str(n), "Serial Number": serial(1000 * n, 1000 * n + n - 1)})
            for n in range(1, 200)]
    mapper = RowMapper(TRANSACTIONS, TRANSACTIONS.columns)
    adapter = VerraAdapter()
    assert len(list(adapter.iter_records(io.BytesIO(export(rows)), medium=CSV, findings=[]))) == len(rows)
    read = verra._unit_reader(mapper, adapter._ids)
    assert read is not None
    cells = [tuple(r.get(c, "") for c in TRANSACTIONS.columns) for r in rows]
    assert all(read(c) is not None for c in cells)
    assert verra._unit_builder() is verra._construct  # this pydantic: built without re-validation


def test_constructed_blocks_equal_fully_validated_ones() -> None:
    adapter = VerraAdapter()
    data = export(ODD_ROWS * 2)
    mapper = RowMapper(TRANSACTIONS, TRANSACTIONS.columns)
    list(adapter.iter_records(io.BytesIO(data), medium=CSV, findings=[]))  # learn the IDs
    read = verra._unit_reader(mapper, adapter._ids)
    assert read is not None
    built = [u for u in (read(tuple(r.get(c, "") for c in TRANSACTIONS.columns)) for r in ODD_ROWS) if u]
    assert len(built) >= 15
    for unit in built:
        validated = UnitBlock.model_validate({name: getattr(unit, name) for name in unit.model_fields_set})
        assert describe(unit) == describe(validated)
        assert unit == validated and unit.model_copy() == validated


# --- hypothesis: random mixtures of clean and odd cells ---------------------------------------------------

IDS = ["1340", "VCS1340", "4821", "01340", "", "x1"]
COUNTRIES = ["Ethiopia", "Indonesia", "Bolivia", "ETH", "", "Atlantis", " ethiopia"]
DATES = ["2026-04-03", "03/04/2026", "", "  ", "2026-02-30", "bad", "2026-04-03 10:00"]


@st.composite
def rows(draw: st.DrawFn) -> dict[str, str]:
    first = draw(st.integers(0, 10**12))
    count = draw(st.integers(1, 10**6))
    quantity = draw(st.sampled_from([str(count), f"{count:,}", f"{count + 1}", f"0{count}", f"{count}.0", ""]))
    vintage = draw(st.sampled_from([2020, 2021, 1899, 2101]))
    pid = draw(st.sampled_from(["1340", "4821", "01340"]))
    cc = draw(st.sampled_from(["ET", "ID", "BO", "PE"]))
    text = serial(first, first + count - 1, country=cc, project=pid, vintage=vintage,
                  tokens=draw(st.sampled_from([13, 13, 13, 12])))
    text = draw(st.sampled_from([text, text, text, "", text[:-2], text + " "]))
    start = draw(st.sampled_from([f"{vintage}-01-01", f"01/01/{vintage}", ""]))
    end = draw(st.sampled_from([f"{vintage}-12-31", f"{vintage + 1}-12-31", ""]))
    free = st.text(st.characters(codec="utf-8"), max_size=8)
    return {"ID": draw(st.sampled_from(IDS)), "Quantity Issued": quantity, "Serial Number": text,
            "Vintage Start": start, "Vintage End": end, "Country/Area": draw(st.sampled_from(COUNTRIES)),
            "Issuance Date": draw(st.sampled_from(DATES)), "Retirement/Cancellation Date": draw(st.sampled_from(DATES)),
            "Name": draw(free), "Retirement Beneficiary": draw(free), "Retirement Reason": draw(free),
            "Methodology": draw(free), "Retirement Details": draw(free), "Registry Note": draw(free)}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows(), min_size=1, max_size=12), st.booleans())
def test_random_rows_give_the_same_records_and_findings(batch: list[dict[str, str]], extra_column: bool) -> None:
    columns = (*TRANSACTIONS.columns, "Registry Note") if extra_column else TRANSACTIONS.columns
    assert_same(export(batch + batch, columns))


def _quantity_as_written(raw: str) -> tuple[int, bool] | None:
    """The quantity rule stated plainly: ASCII digits (kept in ``extra`` when longer than 3 and not as
    ``f"{count:,}"`` writes the count), or the count grouped exactly as ``f"{count:,}"`` writes it (no leading
    zero)."""
    digits = raw.replace(",", "")
    if not (digits.isdigit() and digits.isascii()):
        return None
    count = int(digits)
    if digits == raw:
        return count, len(raw) > 3 and raw != f"{count:,}"
    return (count, False) if raw == f"{count:,}" and raw[0] != "0" else None


def test_quantity_cell_is_the_rule_on_every_short_spelling() -> None:
    cells = ["".join(t) for size in range(9) for t in itertools.product("019,", repeat=size)]
    cells += ["１２３", "1 234", "+12", "-1", "12,345,678", "1,234,5678", "1,2345", "12,345,678,901,234"]
    assert all(_quantity_cell(cell) == _quantity_as_written(cell) for cell in cells)
    assert _quantity_cell("1,234") == (1234, False) and _quantity_cell("01,234") is None
    assert _quantity_cell("1234") == (1234, True) and _quantity_cell("123") == (123, False)


@given(st.integers(min_value=0, max_value=10**15))
def test_quantity_cell_reads_every_count_as_verra_writes_it(count: int) -> None:
    for cell in (f"{count:,}", str(count), f"0{count}"):
        assert _quantity_cell(cell) == _quantity_as_written(cell)

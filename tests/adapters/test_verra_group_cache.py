"""The Verra compiled reader keeps what a row takes from its group's cells (see ``_fast_path._row_reader``): the
values it hands over, the records and findings, and the streamed CAD Trust v2 document are those of the reader
that keeps nothing (``MAX_GROUPS = 0``) and of the full path, in any row order, with hostile rows of a group
between its clean ones, and with groups forgotten as the bound is reached."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest

from adapters.registry_exports import PendingBlock
from adapters.verra import TRANSACTIONS, VerraAdapter, _fast_path
from bench import bench_verra as bv
from bench.verra_sample import write as write_sample
from tests.adapters.test_verra_fastpath import ODD_ROWS, assert_same, export, good, serial

#: The bound the reader is built with (the tests set others).
KEPT = _fast_path.MAX_GROUPS
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "verra" / "transactions.csv"


def handed(data: bytes, monkeypatch: pytest.MonkeyPatch, kept: int) -> list[Any]:
    """What ``iter_pending`` hands over for ``data`` with at most ``kept`` groups kept: each pending block's
    values (names, types, reprs, in order), each built record's dump, and the findings."""
    monkeypatch.setattr(_fast_path, "MAX_GROUPS", kept)
    found: list[Any] = []
    out: list[Any] = []
    for record in VerraAdapter().iter_pending(io.BytesIO(data), found):
        if isinstance(record, PendingBlock):
            out.append([(name, type(value).__name__, repr(value)) for name, value in record.values.items()])
            out.append(record.block().model_dump_json())
        else:
            out.append(("built", type(record).__name__, record.model_dump_json()))
    return [out, [(f.rule, f.severity, f.location, f.message) for f in found]]


def assert_cache_invisible(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = handed(data, monkeypatch, 0)
    assert handed(data, monkeypatch, KEPT) == plain
    assert handed(data, monkeypatch, 2) == plain  # groups forgotten and kept anew all along
    monkeypatch.undo()
    assert_same(data)  # and the full path's records and findings


def _lines(path: Path) -> tuple[bytes, list[bytes]]:
    head, *rows = path.read_bytes().splitlines(keepends=True)
    return head, rows


def _generated(tmp: Path) -> Path:
    path = tmp / "generated.csv"
    bv.generate(path, 1500, per_issuance=40)
    return path


SOURCES = {"fixture": lambda _tmp: FIXTURE, "public-sample": lambda tmp: write_sample(tmp / "sample")[0],
           "generated": _generated}


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("seed", [None, 1, 2])
def test_exports_in_any_row_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str,
                                  seed: int | None) -> None:
    head, rows = _lines(SOURCES[source](tmp_path))
    if seed is not None:
        random.Random(seed).shuffle(rows)
    rows = [r if r.endswith(b"\n") else r + b"\r\n" for r in rows]
    assert_cache_invisible(head + b"".join(rows), monkeypatch)


def _clean(n: int, **cells: str) -> dict[str, str]:
    first = 10**9 + 1000 * n
    return good(**{"Quantity Issued": "425", "Serial Number": serial(first, first + 424), **cells})


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_hostile_rows_between_clean_rows_of_their_group(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    # every odd row after clean rows of the group it shares most cells with (the first ODD_ROWS' group), and
    # again after clean rows that differ from it only in the block's own cells
    rows: list[dict[str, str]] = []
    for n, odd in enumerate(ODD_ROWS):
        rows += [_clean(3 * n), odd, _clean(3 * n + 1, **{"Retirement/Cancellation Date": ""}), odd,
                 _clean(3 * n + 2, **{"Retirement Details": "d", "Total Vintage Quantity": str(n)})]
    random.Random(seed).shuffle(rows)
    assert_cache_invisible(export(rows), monkeypatch)


def test_own_cells_that_change_what_extra_keeps(monkeypatch: pytest.MonkeyPatch) -> None:
    # a kept quantity or retirement date goes between the group's kept cells; a kept cell after the first one that
    # may vary per row is read from the row
    variants = [{"Quantity Issued": "1000", "Serial Number": serial(1, 1000)},
                {"Retirement/Cancellation Date": "10/04/2026"},
                {"Issuance Date": "03/04/2026", "Retirement/Cancellation Date": "10/04/2026"},
                {"Country/Area": "ethiopia", "Quantity Issued": "1000", "Serial Number": serial(1, 1000)},
                {"Additional Certifications": "CCB-Gold", "Total Vintage Quantity": ""},
                {"Additional Certifications": "", "Total Vintage Quantity": "9", "Retirement Details": "x"},
                {"Retirement Beneficiary": "", "Retirement Reason": ""}]
    rows = [good(**v) for v in variants for _ in range(2)] + [good()] + [good(**v) for v in reversed(variants)]
    assert_cache_invisible(export(rows), monkeypatch)
    columns = (*TRANSACTIONS.columns, "Registry Note")
    noted = [{**r, "Registry Note": note} for r in rows for note in ("", "n")]
    plain = handed(export(noted, columns), monkeypatch, 0)
    assert handed(export(noted, columns), monkeypatch, KEPT) == plain


def test_a_group_is_converted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reason for the cache: the rows of one group read its series once (and every row without it)."""
    calls = 0
    series = _fast_path._series

    def counting(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return series(*args)

    monkeypatch.setattr(_fast_path, "_series", counting)
    rows = [_clean(n, **({"Retirement/Cancellation Date": ""} if n % 3 else {})) for n in range(60)]
    data = export(rows)
    found: list[Any] = []
    records = list(VerraAdapter().iter_pending(io.BytesIO(data), found))
    assert sum(isinstance(r, PendingBlock) for r in records) == 59  # the first row goes the full way
    assert calls == 1
    calls = 0
    monkeypatch.setattr(_fast_path, "MAX_GROUPS", 0)
    list(VerraAdapter().iter_pending(io.BytesIO(data), []))
    assert calls == 59


@pytest.mark.parametrize("seed", [None, 5])
def test_the_streamed_document_is_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           seed: int | None) -> None:
    head, rows = _lines(_generated(tmp_path))
    if seed is not None:
        random.Random(seed).shuffle(rows)
    source = tmp_path / "export.csv"
    source.write_bytes(head + b"".join(r if r.endswith(b"\n") else r + b"\r\n" for r in rows))
    documents = []
    for kept in (0, 3, KEPT):
        monkeypatch.setattr(_fast_path, "MAX_GROUPS", kept)
        out = tmp_path / f"out-{kept}.json"
        streamed = bv.product_path(source, out=out)
        documents.append((out.read_bytes(), [(f.rule, f.location, f.message) for f in
                                                [*streamed.source_findings, *streamed.target_findings]],
                          streamed.records_written))
    assert documents[0][2] == 1500
    assert documents[1] == documents[0] and documents[2] == documents[0]


# --- the group's mark: the stream reads a marked block's group key by its mark ------------------------------------

def _streamed(source: Path, out: Path, monkeypatch: pytest.MonkeyPatch, marks: bool) -> tuple[Any, ...]:
    from standards.cadt.stream_v2 import V2UnitStream

    add_values = V2UnitStream.add_values
    with monkeypatch.context() as patch:
        if not marks:
            patch.setattr(V2UnitStream, "add_values", lambda self, values, build, group=None: add_values(
                self, values, build))
        streamed = bv.product_path(source, out=out)
    return (out.read_bytes(), [(f.rule, f.location, f.message) for f in
                               [*streamed.source_findings, *streamed.target_findings]],
            streamed.records_written, streamed.stream.templated)


@pytest.mark.parametrize("seed", [None, 9])
def test_marked_blocks_stream_as_unmarked_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               seed: int | None) -> None:
    head, rows = _lines(_generated(tmp_path))
    # blocks of one group (bounds of the same lengths) with a bound written with a leading zero, and with the
    # quantity or retirement date kept as written (unmarked), between marked ones
    extra_rows = []
    for vintage in (2020, 2021):
        dated = f"{vintage}-01-01,{vintage}-12-31,1340,Bale,Ethiopia,AFOLU,VM0015"
        tail = f"VCS-VCU-1507-VER-ET-14-1340-0101{vintage}-3112{vintage}-1"
        extra_rows += [f"2026-04-03,,{dated},,\"1,000\",19385-1000-1999-{tail},,,,,\r\n".encode(),
                       f"2026-04-03,,{dated},,100,19385-0100-0199-{tail},,,,,\r\n".encode(),
                       f"2026-04-03,,{dated},,\"1,000\",19385-2000-2999-{tail},,2026-05-01,B,R,\r\n".encode(),
                       f"2026-04-03,,{dated},,\"1,000\",19385-3000-3999-{tail},,01/05/2026,B,R,\r\n".encode(),
                       f"2026-04-03,,{dated},,1000,19385-4000-4999-{tail},,,,,\r\n".encode(),
                       f"2026-04-03,,{dated},,\"1,000\",19385-5000-5999-{tail},,2026-05-01,,,\r\n".encode()]
        # retired blocks with and without a beneficiary and reason, in turn (the same mark but for those)
        extra_rows += [f"2026-04-03,,{dated},,\"1,000\",19385-{n}000-{n}999-{tail},,2026-05-01,"
                       f"{'B,R' if n % 2 else ','},\r\n".encode() for n in range(6, 10)]
    rows = [r if r.endswith(b"\n") else r + b"\r\n" for r in rows] + extra_rows
    if seed is not None:
        random.Random(seed).shuffle(rows)
    source = tmp_path / "export.csv"
    source.write_bytes(head + b"".join(rows))
    marked = _streamed(source, tmp_path / "marked.json", monkeypatch, True)
    plain = _streamed(source, tmp_path / "plain.json", monkeypatch, False)
    assert marked == plain and marked[3] > 1000


def test_a_mark_is_not_kept_when_the_key_reads_a_column_it_does_not_hold() -> None:
    from gateway.cli.translation import configured_catalog
    from standards.cadt.codec import CadtV2Codec
    from standards.cadt.stream_v2 import V2UnitStream

    catalog = configured_catalog("verra", "cadt-v2", bv.PROFILE_V2, False, None, False)
    assert catalog is not None
    codec = catalog.get("cadt-v2")
    assert isinstance(codec, CadtV2Codec)
    stream = V2UnitStream(codec)
    vocab = stream.vocabulary_of("verra")
    found: list[Any] = []
    data = export([_clean(n, Methodology=m) for n, m in enumerate(["VM0015", "VM0015", "VM0007", "VM0007"])])
    values = [r.values for r in VerraAdapter().iter_pending(io.BytesIO(data), found) if isinstance(r, PendingBlock)]
    templates = stream.templates
    keys = [templates.key_of(v, vocab) for v in values]
    assert keys[0] != keys[2]  # the vocabulary reads Methodology
    # a block whose own range is written in its serial's tail ("-14-1340-": Bale's scope and project) has no key,
    # though a block with its mark had one
    tail = "VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"
    ranged = [{**values[0], "serial": f"19385-{first}-{last}-{tail}", "first_id": first, "last_id": last}
              for first, last in [(15, 1341), (14, 1340), (16, 1342)]]
    assert [templates.key_by(("ranged", ()), v, vocab) for v in ranged] == [templates.key_of(v, vocab)
                                                                             for v in ranged]
    assert templates.key_of(ranged[1], vocab) is None and templates.key_of(ranged[0], vocab) is not None
    for mark_names in [("Methodology",), ()]:
        templates._by_mark.clear()
        mark = ("same", mark_names)  # one mark for all: the stream trusts it for the columns it does not name
        by_mark = [templates.key_by(mark, v, vocab) for v in values]
        assert (by_mark == keys) is bool(mark_names)

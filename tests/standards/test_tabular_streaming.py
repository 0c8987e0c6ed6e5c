"""The streaming CSV reader gives the same records and errors as the whole-file reader, whatever the
chunk boundaries and whatever line-break look-alikes (VT, FF, FS, NEL, U+2028 ...) the cells hold."""

from __future__ import annotations

import io
from typing import IO, Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standards.errors import InputError
from standards.tabular import iter_csv_records, read_csv_records


class _Trickle(io.RawIOBase):
    """A binary stream that hands out at most ``step`` bytes per read (chunk edges everywhere)."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = data
        self._step = step
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._step, len(self._data) - self._pos)
        buffer[:size] = self._data[self._pos:self._pos + size]
        self._pos += size
        return size


def _trickle(data: bytes, step: int) -> IO[bytes]:
    return cast(IO[bytes], _Trickle(data, step))


def _outcome(read: Any) -> Any:
    try:
        return [(record.line, record.cells) for record in read()]
    except InputError as exc:
        return type(exc).__name__, exc.code, str(exc)


_CHARS = list('ab,;"\'\t\r\n =-\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029é ')


@settings(max_examples=400, deadline=None)
@given(st.text(st.sampled_from(_CHARS), max_size=80), st.integers(1, 9))
def test_streamed_equals_whole_file(text: str, step: int) -> None:
    data = text.encode("utf-8")
    whole = _outcome(lambda: read_csv_records(data))
    assert _outcome(lambda: iter_csv_records(_trickle(data, step))) == whole


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize("odd", ["", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"])
def test_only_cr_and_lf_end_lines(ending: str, odd: str) -> None:
    text = f"a,b{ending}1,x{odd}y{ending}2,\"q{ending}r\"{ending}"
    expected = [(1, ("a", "b")), (2, ("1", f"x{odd}y")), (3, ("2", f"q{ending}r"))]
    for step in (1, 2, 3, 7, 64 * 1024):
        assert _outcome(lambda: iter_csv_records(_trickle(text.encode("utf-8"), step))) == expected  # noqa: B023
    assert _outcome(lambda: read_csv_records(text.encode("utf-8"))) == expected


def test_errors_name_the_same_line_when_streamed() -> None:
    data = b"a,b\r\n1,2\r\n3\r\n"
    whole = _outcome(lambda: read_csv_records(data))
    assert whole[1] == "INPUT.CSV_RAGGED" and "line 3" in whole[2]
    assert _outcome(lambda: iter_csv_records(_trickle(data, 2))) == whole


@pytest.mark.parametrize("step", [5, 4096, 64 * 1024])
def test_an_apostrophe_or_nul_first_seen_late_is_still_handled(step: int) -> None:
    clean = "".join(f"{i},name {i}\r\n" for i in range(3000))
    late_formula = f"h1,h2\r\n{clean}x,'=SUM(A1)\r\ny,''-1\r\n".encode()
    records = _outcome(lambda: iter_csv_records(_trickle(late_formula, step)))
    assert records[-2:] == [(3002, ("x", "=SUM(A1)")), (3003, ("y", "'-1"))]
    assert records == _outcome(lambda: read_csv_records(late_formula))
    late_nul = f"h1,h2\r\n{clean}x,a\x00b\r\n".encode()
    error = _outcome(lambda: iter_csv_records(_trickle(late_nul, step)))
    assert error[0] == "UnsupportedEncoding" and "line 3002" in error[2]
    assert error == _outcome(lambda: read_csv_records(late_nul))

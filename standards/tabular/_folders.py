"""Folders of CSV files packed into (and unpacked from) one in-memory zip."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

from standards.errors import InputTooLarge, MalformedInput
from standards.safeio import max_input_bytes
from standards.tabular._zip import _open_zip, _read_member


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
    return _pack(files, f"the CSV files in {folder}")


def pack_csv_files(paths: Sequence[str | Path]) -> bytes:
    """Zip (in memory) several ``.csv`` files, in the order given, as :func:`pack_csv_directory` zips a
    folder; two files of the same name are told apart by a number (``issuances.csv``, ``issuances-2.csv``).

    Refuses a path that is not a ``.csv`` file [INPUT.CSV] or missing [INPUT.NOT_FOUND], and a total
    over the input limit."""
    files = [Path(p) for p in paths]
    for file in files:
        if not file.is_file():
            raise MalformedInput(f"{file} is not a file", code="INPUT.NOT_FOUND")
        if file.suffix.lower() != ".csv":
            raise MalformedInput(f"{file} is not a .csv file: several inputs are read as one registry's CSV "
                                 "exports", code="INPUT.CSV")
    return _pack(files, "the CSV files given")


def _pack(files: Sequence[Path], what: str) -> bytes:
    limit = max_input_bytes()
    total = sum(p.stat().st_size for p in files)
    if total > limit:
        raise InputTooLarge(f"{what} total {total} bytes, over the limit of {limit} bytes")
    out = io.BytesIO()
    names: set[str] = set()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            name, n = file.name, 1
            while name in names:
                n += 1
                name = f"{file.stem}-{n}{file.suffix}"
            names.add(name)
            archive.writestr(name, file.read_bytes())
    return out.getvalue()



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

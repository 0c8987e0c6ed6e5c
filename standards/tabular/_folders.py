"""Folders of CSV files packed into (and unpacked from) one in-memory zip."""

from __future__ import annotations

import io
import zipfile
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
    limit = max_input_bytes()
    total = sum(p.stat().st_size for p in files)
    if total > limit:
        raise InputTooLarge(f"the CSV files in {folder} total {total} bytes, over the limit of {limit} bytes")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.writestr(file.name, file.read_bytes())
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

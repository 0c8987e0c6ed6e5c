"""Zip containers from untrusted input: opening, bounded member reads, and cause reporting."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator

from defusedxml import DefusedXmlException

from standards.errors import InputError, MalformedInput
from standards.safeio import check_zip_container


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _defused_cause(exc: BaseException) -> BaseException | None:
    """The defusedxml refusal behind an error (openpyxl wraps it in a ValueError), if any."""
    return next((c for c in _causes(exc) if isinstance(c, DefusedXmlException)), None)


def _root_cause(exc: BaseException) -> BaseException:
    *_, last = _causes(exc)
    return last


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _open_zip(data: bytes, what: str) -> zipfile.ZipFile:
    """:func:`check_zip_container`, with any unexpected failure of a damaged zip made a coded error."""
    try:
        return check_zip_container(data, what=what)
    except InputError:
        raise
    except Exception as exc:  # zipfile can fail in many ways on damaged central directories
        raise MalformedInput(f"{what} is not a readable zip file: {_describe(exc)}", code="INPUT.XLSX") from exc


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, what: str, code: str) -> bytes:
    """Up to ``limit`` bytes of one member; damage, encryption or odd compression is a coded error."""
    try:
        with archive.open(info) as member:
            return member.read(limit)
    except Exception as exc:  # BadZipFile (bad CRC), zlib.error, EOFError, NotImplementedError, encrypted...
        raise MalformedInput(f"{what} part {info.filename} cannot be read: {_describe(exc)}", code=code) from exc



def is_zip(data: bytes) -> bool:
    """Whether ``data`` starts like a zip file (a local file header or an empty archive)."""
    return data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06")

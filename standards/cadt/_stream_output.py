"""How a unit stream (:mod:`standards.cadt.stream_v2`, :mod:`standards.cadt.stream_v1`) writes its records: each
one indented as it appears in the whole document's resource list, and the linker's memory of linked units
switched off (only the whole-document mapping reads it)."""

from __future__ import annotations

import tempfile
from typing import IO, Any

import orjson

_INDENT = orjson.OPT_INDENT_2
#: The write buffer of a stream's spool of unit records: written to the file in large pieces (a record is a
#: few hundred bytes; with the default 8 KiB buffer a write reached the file every few records).
SPOOL_BUFFER = 1 << 20


def new_spool() -> IO[bytes]:
    """A temporary file for a stream's rendered unit records (closed by the stream's ``close``)."""
    return tempfile.TemporaryFile(prefix="carbonlink-units-", buffering=SPOOL_BUFFER)


def render(record: dict[str, Any]) -> bytes:
    """One record as it appears inside a resource list of the indented document."""
    return b"    " + orjson.dumps(record, option=_INDENT).replace(b"\n", b"\n    ")


class Forgetful(set[str]):
    """The linker's ``linked_units``, not kept: a streamed unit's made-good losses are dropped as it passes."""

    def add(self, element: str) -> None:
        return None


class ForgetfulIndices(set[int]):
    """The linker's ``linked_indices``, not kept: only the whole-document mapping reads them."""

    def add(self, element: int) -> None:
        return None


def write_list(out: IO[bytes], resource: str, records: list[dict[str, Any]], first: bool) -> bool:
    """Write one resource list of the document; answers False (the next list is not the first)."""
    out.write(b"" if first else b",\n")
    out.write(b"  " + orjson.dumps(resource) + b": [\n")
    out.write(b",\n".join(render(r) for r in records))
    out.write(b"\n  ]")
    return False

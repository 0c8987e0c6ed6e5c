"""Bytes in and out: transcoding CSV from the mapping's encoding, and the cap on workbooks read whole."""

from __future__ import annotations

import codecs
from collections.abc import Iterator

from adapters.protocol import ByteStream
from standards import (
    InputTooLarge,
    UnsupportedEncoding,
    max_input_bytes,
)
from standards.tabular import (
    UnwritableCell,
)


def _transcoded(chunks: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    """The chunks re-encoded from ``encoding`` to UTF-8 (as they are, for UTF-8)."""
    if encoding == "utf-8":
        yield from chunks
        return
    decoder = codecs.getincrementaldecoder(encoding)()
    consumed = 0
    for chunk in chunks:
        if not chunk:
            continue
        consumed += len(chunk)
        try:
            yield decoder.decode(chunk).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnsupportedEncoding(f"the CSV file is not valid {exc.encoding} near byte {consumed}") from exc


def _read_capped(stream: ByteStream, limit: int | None = None) -> bytes:
    """All of a stream, refusing more than ``limit`` (default ``CARBONLINK_MAX_INPUT_BYTES``) bytes
    before holding it all."""
    cap = max_input_bytes() if limit is None else limit
    if hasattr(stream, "read"):
        data = bytes(stream.read(cap + 1))
    else:
        parts: list[bytes] = []
        size = 0
        for chunk in stream:
            size += len(chunk)
            if size > cap:
                break
            parts.append(chunk)
        if size > cap:
            raise InputTooLarge(f"the workbook is over the limit of {cap} bytes")
        data = b"".join(parts)
    if len(data) > cap:
        raise InputTooLarge(f"the workbook is over the limit of {cap} bytes")
    return data


def _encode_legacy(data: bytes, encoding: str) -> bytes:
    text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        line = text.count("\n", 0, exc.start) + 1
        raise UnwritableCell(f"line {line} holds {text[exc.start]!r}, which {encoding} cannot store; use a UTF-8 "
                             "mapping") from exc


def _transcode(data: bytes, encoding: str) -> bytes:
    if encoding == "utf-8":
        return data
    try:
        return data.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsupportedEncoding(f"the CSV file is not valid {encoding} at byte {exc.start}") from exc

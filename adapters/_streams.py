"""Byte streams for streaming reads: a file object or an iterable of byte chunks, read as one file."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import IO, Any

from adapters.protocol import ByteStream

__all__ = ["as_binary_stream", "byte_chunks"]

_CHUNK = 64 * 1024


class _ChunkReader(io.RawIOBase):
    """A raw binary file object over an iterable of byte chunks (empty chunks are skipped)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = bytes(next(self._chunks))
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def as_binary_stream(stream: ByteStream) -> IO[bytes]:
    """``stream`` itself when it is a file object, else a buffered file object over its chunks."""
    if isinstance(stream, io.IOBase) or hasattr(stream, "read"):
        return stream  # type: ignore[return-value]
    return io.BufferedReader(_ChunkReader(stream), _CHUNK)


def byte_chunks(stream: ByteStream) -> Iterator[bytes]:
    """The chunks of ``stream``: read 64 KiB at a time from a file object, or as they come."""
    if hasattr(stream, "read"):
        reader: Any = stream
        return iter(lambda: bytes(reader.read(_CHUNK)), b"")
    return iter(stream)

"""The NDJSON stream's inner loop: stored rows straight to feed lines, a chunk at a time.

A record held by one source (nearly all of them) is written from the shape stored with its row
(:func:`gateway.feeds.render.prerender`) as it is: the line is the stored serialized fragment between the
key, source and time, with no JSON read or write of the record and no row or item object. Losses are
counted per distinct stored loss list and read once at the end. A key held by several sources goes the
general way (merge, conflicts, rendering now) through ``several``. Rows arrive in key order in chunks; the
rows of the last key of a chunk are held back until the next chunk shows whether more sources hold it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

from gateway.feeds.keys import SEP
from gateway.feeds.render import shape_parts

# Positions in a row tuple of gateway.feeds.store.FeedStore.row_chunks.
_KEY, _SOURCE, _UPDATED_AT, _RENDERED = 0, 1, 2, 3

#: Lines for the rows of one key held by several sources (merged, conflicts reported).
Several = Callable[[list[tuple[Any, ...]], dict[str, int]], list[bytes]]


def _single(row: tuple[Any, ...], standard: str, lost: dict[bytes, int]) -> bytes:
    names, fragment = shape_parts(row[_RENDERED], standard)
    lost[names] = lost.get(names, 0) + 1
    head = orjson.dumps({"key": row[_KEY].replace(SEP, " "), "sources": [row[_SOURCE]],
                         "updated_at": row[_UPDATED_AT]})
    return b"".join((head[:-1], b",", fragment, b"}\n"))


def _lines(rows: list[tuple[Any, ...]], end: int, standard: str, several: Several, losses: dict[str, int],
           lost: dict[bytes, int]) -> tuple[list[bytes], int]:
    """Lines for ``rows[:end]`` (whole keys only) and how many feed items they are."""
    out: list[bytes] = []
    items = 0
    i = 0
    while i < end:
        key = rows[i][_KEY]
        j = i + 1
        while j < end and rows[j][_KEY] == key:
            j += 1
        if j == i + 1:
            out.append(_single(rows[i], standard, lost))
        else:
            out += several(rows[i:j], losses)
        items += 1
        i = j
    return out, items


def ndjson_chunks(chunks: Iterable[list[tuple[Any, ...]]], standard: str, several: Several,
                  losses: dict[str, int]) -> Iterator[tuple[bytes, int]]:
    """``(lines, items)`` per chunk of stored rows (in key order, then source); ``losses`` is complete when the
    chunks end."""
    pending: list[tuple[Any, ...]] = []
    lost: dict[bytes, int] = {}
    for chunk in chunks:
        rows = pending + chunk if pending else chunk
        last = rows[-1][_KEY]
        cut = len(rows)
        while cut > 0 and rows[cut - 1][_KEY] == last:
            cut -= 1
        pending = rows[cut:]
        if cut:
            out, items = _lines(rows, cut, standard, several, losses, lost)
            yield b"".join(out), items
    if pending:
        out, items = _lines(pending, len(pending), standard, several, losses, lost)
        yield b"".join(out), items
    for names, count in lost.items():
        for name in orjson.loads(names):
            losses[name] = losses.get(name, 0) + count


__all__ = ["Several", "ndjson_chunks"]

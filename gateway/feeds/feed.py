"""A CAD Trust-shaped (or canonical) feed request: filters, cursor, coverage, ETag, and its bodies.

:meth:`Feeds.prepare` refreshes the view's stale sources, settles which sources the answer covers and
computes the ETag (the query and every included source's revision, so it changes exactly when the answer
can). The bodies are a JSON page (``items``, ``next_cursor``, ``missing``), an NDJSON stream (one item per
line and a last ``{"type": "end", ...}`` line: a stream without it was cut), CSV and XLSX (one row per
item, the standard's columns). Cursors are the last natural key served (keyset): stable under inserts.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import orjson

from gateway.feeds.errors import FeedQueryInvalid
from gateway.feeds.keys import SEP
from gateway.feeds.lines import ndjson_chunks
from gateway.feeds.merge import Item, merged
from gateway.feeds.render import check, columns, readable_key, render, shape
from gateway.feeds.store import Query, Row
from gateway.feeds.view import Coverage, FeedView

BATCH = 1000
#: rows read (and lines written) at a time by the NDJSON stream
STREAM_CHUNK = 4000
#: a Row's filter columns, which merging does not read
_NO_FILTERS = (None,) * 8


_CURSOR = re.compile(r"^[A-Za-z0-9_-]{4,4096}$")


def encode_cursor(kind: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}{SEP}{key}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> str:
    """The key a cursor of a ``kind`` feed stands for; anything else is FEED.CURSOR_INVALID."""
    try:
        if not _CURSOR.match(cursor):
            raise ValueError("not base64url")
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedQueryInvalid(f"cursor {cursor[:40]!r} was not handed out by this feed",
                               code="FEED.CURSOR_INVALID") from exc
    cursor_kind, sep, key = text.partition(SEP)
    if not sep or cursor_kind != kind or not key:
        raise FeedQueryInvalid(f"cursor {cursor[:40]!r} is not a cursor of the {kind} feed", code="FEED.CURSOR_INVALID")
    return key


@dataclass(frozen=True)
class FeedRequest:
    """What a client asked for (already checked by :mod:`gateway.feeds.params`)."""

    standard: str
    kind: str
    registries: tuple[str, ...] | None = None
    parties: tuple[str, ...] | None = None
    vintages: tuple[int, ...] | None = None
    statuses: tuple[str, ...] | None = None
    action_types: tuple[str, ...] | None = None
    year: int | None = None
    updated_since: str | None = None
    cursor: str | None = None


@dataclass(frozen=True)
class Prepared:
    request: FeedRequest
    coverage: Coverage
    query: Query
    etag: str

    def missing(self) -> list[dict[str, Any]]:
        return [m.as_dict() for m in self.coverage.missing]

    def headers(self) -> dict[str, str]:
        """``ETag``, ``Carbonlink-Feed-Complete`` and, when incomplete, ``Carbonlink-Feed-Missing``."""
        return {"ETag": self.etag, **coverage_headers(self.coverage)}


def coverage_headers(coverage: Coverage) -> dict[str, str]:
    out = {"Carbonlink-Feed-Complete": "true" if coverage.complete else "false"}
    if coverage.missing:
        out["Carbonlink-Feed-Missing"] = ", ".join(f'{m.source}; code="{m.code}"' for m in coverage.missing)
    return out


class Feeds:
    """The feeds over one :class:`FeedView`."""

    def __init__(self, view: FeedView) -> None:
        self.view = view

    def prepare(self, request: FeedRequest, *, allowed: set[str] | None = None, refresh: bool = True) -> Prepared:
        """Refresh the requested sources, then fix coverage, query and ETag. ``allowed`` limits the sources
        (a caller with ``feeds:read:own``)."""
        check(request.standard, request.kind)
        wanted: set[str] | None = set(request.registries) if request.registries is not None else None
        if allowed is not None:
            wanted = allowed if wanted is None else wanted & allowed
        if refresh:
            self.view.refresh(wanted)
        coverage = self.view.coverage(wanted)
        if request.parties is not None:
            registries = self.view.registries()
            keep = {name for name, p in registries.items() if p.party in request.parties}
            coverage = Coverage({k: v for k, v in coverage.included.items() if k in keep},
                                [m for m in coverage.missing if m.source in keep],
                                {k: v for k, v in coverage.as_of.items() if k in keep})
        query = Query(request.kind, tuple(sorted(coverage.included)), request.parties, request.vintages,
                      request.statuses, request.action_types, request.year, request.updated_since,
                      decode_cursor(request.kind, request.cursor) if request.cursor else None)
        basis = orjson.dumps([request.standard, request.kind, query.sql(), sorted(coverage.included.items()),
                              [(m.source, m.code) for m in coverage.missing]])
        return Prepared(request, coverage, query, '"' + hashlib.sha256(basis).hexdigest()[:32] + '"')

    def items(self, prepared: Prepared) -> Iterator[Item]:
        return merged(prepared.request.kind, self.view.store.rows(prepared.query))

    def _envelopes(self, prepared: Prepared, items: list[Item], losses: dict[str, int]) -> list[dict[str, Any]]:
        """Items in the requested shape: a record from one source (or the same from several) as it was rendered
        when stored; a merged record with conflicts rendered now."""
        standard, kind = prepared.request.standard, prepared.request.kind
        conflicting = [item for item in items if item.conflicts] if standard != "canonical" else []
        fresh = iter(zip(*_rendered(standard, kind, conflicting, losses), strict=True)) if conflicting else iter(())
        out = []
        for item in items:
            related: Any = None
            if standard == "canonical":
                record: Any = item.fields()
            elif item.conflicts:
                record, related = next(fresh)
            else:
                record, related, lost = shape(item.rows[0].rendered, standard)
                for name in lost:
                    losses[name] = losses.get(name, 0) + 1
            envelope: dict[str, Any] = {"key": readable_key(item.key), "sources": item.sources,
                                        "updated_at": item.updated_at, "record": record}
            if related:
                envelope["related"] = related
            if item.conflicts:
                envelope["conflicts"] = item.conflicts
            out.append(envelope)
        return out

    def page(self, prepared: Prepared, limit: int) -> dict[str, Any]:
        """One JSON page of at most ``limit`` items."""
        taken = list(itertools.islice(self.items(prepared), limit + 1))
        more = len(taken) > limit
        taken = taken[:limit]
        losses: dict[str, int] = {}
        envelopes = self._envelopes(prepared, taken, losses)
        following = encode_cursor(prepared.request.kind, taken[-1].key) if more and taken else None
        return {"standard": prepared.request.standard, "kind": prepared.request.kind, "items": envelopes,
                "count": len(envelopes), "next_cursor": following,
                "complete": prepared.coverage.complete, "missing": prepared.missing(),
                "sources": sorted(prepared.coverage.included), "as_of": prepared.coverage.as_of, "losses": losses}

    def batches(self, prepared: Prepared, losses: dict[str, int]) -> Iterator[list[dict[str, Any]]]:
        items = self.items(prepared)
        while batch := list(itertools.islice(items, BATCH)):
            yield self._envelopes(prepared, batch, losses)

    def ndjson(self, prepared: Prepared) -> Iterator[bytes]:
        """One line per item, a chunk of lines per write; a CAD Trust shape is written from the rows' stored
        shapes (:mod:`gateway.feeds.lines`), the canonical shape from the merged items."""
        losses: dict[str, int] = {}
        count = 0
        if prepared.request.standard == "canonical":
            for envelopes in self.batches(prepared, losses):
                count += len(envelopes)
                yield b"".join(orjson.dumps(e) + b"\n" for e in envelopes)
        else:
            def several(rows: list[tuple[Any, ...]], lost: dict[str, int]) -> list[bytes]:
                items = list(merged(prepared.request.kind, (Row(prepared.request.kind, key, source, *_NO_FILTERS,
                                                                body, at, rendered)
                                                            for key, source, at, rendered, body in rows)))
                return [orjson.dumps(e) + b"\n" for e in self._envelopes(prepared, items, lost)]

            chunks = self.view.store.row_chunks(prepared.query, STREAM_CHUNK)
            for lines, items in ndjson_chunks(chunks, prepared.request.standard, several, losses):
                count += items
                yield lines
        yield orjson.dumps({"type": "end", "count": count, "complete": prepared.coverage.complete,
                            "missing": prepared.missing(), "sources": sorted(prepared.coverage.included),
                            "as_of": prepared.coverage.as_of, "losses": losses}) + b"\n"

    def table_header(self, prepared: Prepared) -> list[str]:
        return ["key", "sources", "updated_at", *columns(prepared.request.standard, prepared.request.kind),
                "conflicts"]

    def table_rows(self, prepared: Prepared) -> Iterator[list[Any]]:
        names = columns(prepared.request.standard, prepared.request.kind)
        for envelopes in self.batches(prepared, {}):
            for e in envelopes:
                record = e["record"]
                yield [e["key"], "; ".join(e["sources"]), e["updated_at"], *(_cell(record.get(n)) for n in names),
                       orjson.dumps(e["conflicts"]).decode() if "conflicts" in e else ""]

    def csv(self, prepared: Prepared) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(self.table_header(prepared))
        for n, row in enumerate(self.table_rows(prepared), start=1):
            writer.writerow(row)
            if n % BATCH == 0:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    def xlsx(self, prepared: Prepared) -> bytes:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(f"{prepared.request.kind}")
        sheet.append(self.table_header(prepared))
        for row in self.table_rows(prepared):
            sheet.append(row)
        if prepared.coverage.missing:
            missing = book.create_sheet("missing")
            missing.append(["registry", "code", "detail", "since"])
            for m in prepared.missing():
                missing.append([m["registry"], m["code"], m["detail"], m["since"]])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def without_cursor(self, prepared: Prepared) -> Prepared:
        return replace(prepared, query=replace(prepared.query, after=None))


def _rendered(standard: str, kind: str, items: list[Item], losses: dict[str, int]
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any] | None]]:
    rendered = render(standard, kind, items)
    for name, count in rendered.losses.items():
        losses[name] = losses.get(name, 0) + count
    return rendered.records, rendered.related


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return value


__all__ = ["FeedRequest", "Feeds", "Prepared", "coverage_headers", "decode_cursor", "encode_cursor"]

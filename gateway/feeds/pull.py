"""Pulling one registry's read side: pages of each kind, following its cursors, read through an adapter.

The read endpoint is the participant's ``endpoints.read`` in the directory; the registry serves
``GET {read}/{kind}?limit=N[&after=CURSOR]`` for kind ``projects``, ``units``, ``issuances`` and ``actions``
(docs/feeds.md). Each request carries a fresh gateway token (``Authorization: Bearer``, minted by
:meth:`gateway.trust.outbound.OutboundClient.gateway_token`, scope ``feeds:pull``); each answer must be
signed by the registry's key from the directory. The page is a document in the format the answer names in
``Carbonlink-Listing-Format`` (default: the participant's format), read by that adapter into canonical
records. Every way a registry can fail is a :class:`SourceFailure` with its own code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from adapters import AdapterCatalog
from gateway.feeds.errors import SourceFailure
from gateway.feeds.keys import KINDS, records_of
from gateway.trust.directory import Participant
from gateway.trust.errors import PeerError
from gateway.trust.outbound import OutboundClient
from standards.codec import Medium
from standards.errors import CarbonlinkError

NEXT_HEADER = "carbonlink-next-cursor"
FORMAT_HEADER = "carbonlink-listing-format"
PULL_SCOPE = "feeds:pull"


class Puller:
    """Reads registries' read sides for the view (one instance per gateway; thread-safe with its own
    ``httpx.Client``)."""

    def __init__(self, outbound: OutboundClient, catalog: AdapterCatalog, *, page_size: int = 1000,
                 timeout: float = 10.0, max_pages: int = 100_000, max_page_bytes: int = 32 * 1024 * 1024) -> None:
        self.outbound = outbound
        self.catalog = catalog
        self.page_size = page_size
        self.max_pages = max_pages
        self.max_page_bytes = max_page_bytes
        self.http = httpx.Client(timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def pages(self, participant: Participant) -> Iterator[tuple[str, list[Any]]]:
        """``(kind, canonical records)`` page by page, every kind in turn."""
        base = participant.endpoints.read
        if base is None:
            raise SourceFailure(f"the directory names no read endpoint for {participant.id!r}",
                                code="FEED.SOURCE_NOT_CONNECTED")
        for kind in KINDS:
            cursor: str | None = None
            seen: set[str] = set()
            for _ in range(self.max_pages):
                records, cursor = self._page(participant, f"{base.rstrip('/')}/{kind}", kind, cursor)
                yield kind, records
                if cursor is None:
                    break
                if cursor in seen:
                    raise SourceFailure(f"{participant.id!r} handed out the same {kind} cursor twice",
                                        code="FEED.SOURCE_GARBAGE")
                seen.add(cursor)
            else:
                raise SourceFailure(f"{participant.id!r} has more than {self.max_pages} pages of {kind}",
                                    code="FEED.SOURCE_TOO_LARGE")

    def _page(self, participant: Participant, url: str, kind: str, cursor: str | None) -> tuple[list[Any], str | None]:
        params = {"limit": str(self.page_size), **({"after": cursor} if cursor else {})}
        try:
            token = self.outbound.gateway_token(participant.id, scope=PULL_SCOPE)
            response = self.http.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise SourceFailure(f"{participant.id!r} read endpoint unreachable: {type(exc).__name__}: {exc}",
                                code="FEED.SOURCE_UNREACHABLE") from exc
        except PeerError as exc:
            raise SourceFailure(exc.message, code="FEED.SOURCE_NOT_CONNECTED") from exc
        if response.status_code != 200:
            raise SourceFailure(f"{participant.id!r} answered {kind} with HTTP {response.status_code}: "
                                f"{response.text[:200]}", code="FEED.SOURCE_REFUSED")
        if len(response.content) > self.max_page_bytes:
            raise SourceFailure(f"{participant.id!r} sent a {kind} page larger than {self.max_page_bytes} bytes",
                                code="FEED.SOURCE_TOO_LARGE")
        try:
            self.outbound.verify(participant.id, response.content, response.headers)
        except PeerError as exc:
            raise SourceFailure(f"{participant.id!r}: {exc.message}", code="FEED.SOURCE_UNSIGNED") from exc
        fmt = response.headers.get(FORMAT_HEADER, participant.format)
        return self.read(participant.id, fmt, kind, response.content), response.headers.get(NEXT_HEADER) or None

    def read(self, source: str, fmt: str, kind: str, body: bytes) -> list[Any]:
        """The canonical records of ``kind`` in ``body`` (a document in format ``fmt``), or SOURCE_GARBAGE."""
        try:
            adapter = self.catalog.get(fmt)
            medium = adapter.media[0] if Medium.JSON not in adapter.media else Medium.JSON
            result = adapter.parse(body, medium=medium)
        except CarbonlinkError as exc:
            raise SourceFailure(f"{source!r} sent a {kind} page that is not readable {fmt}: {exc.code}: "
                                f"{exc.message}", code="FEED.SOURCE_GARBAGE") from exc
        except Exception as exc:  # an adapter bug on a registry's bytes must still name the registry
            raise SourceFailure(f"{source!r} sent a {kind} page the {fmt} adapter could not read "
                                f"({type(exc).__name__})", code="FEED.SOURCE_GARBAGE") from exc
        errors = [f for f in result.findings if f.is_error]
        if errors:
            raise SourceFailure(f"{source!r} sent a {kind} page with {len(errors)} error(s) in {fmt}: "
                                f"{errors[0].rule} at {errors[0].location.render()}: {errors[0].message}",
                                code="FEED.SOURCE_GARBAGE")
        return records_of(kind, result.document)


__all__ = ["FORMAT_HEADER", "NEXT_HEADER", "PULL_SCOPE", "Puller"]

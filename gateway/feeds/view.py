"""The harmonized view as the feeds see it: which registries are sources, keeping them fresh, snapshots.

A *source* is an active registry of the directory (a participant with message kinds or a read endpoint).
A source with ``endpoints.read`` is pulled (:class:`~gateway.feeds.pull.Puller`) when its data is older
than ``max_age`` seconds; any source may push a snapshot instead (:meth:`FeedView.push`), read by the
adapter of its directory format. A source whose last pull failed, or that was never read, is *missing*:
the feeds leave its rows out and name it with the reason (:class:`Missing`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from adapters import AdapterCatalog
from gateway.feeds.errors import SnapshotInvalid, SourceFailure
from gateway.feeds.keys import KINDS, Indexed, index, records_of
from gateway.feeds.pull import Puller
from gateway.feeds.render import prerender
from gateway.feeds.store import FeedStore
from gateway.trust.directory import DirectoryStore, Participant
from standards.codec import Medium
from standards.errors import CarbonlinkError

log = logging.getLogger("carbonlink.feeds")


@dataclass(frozen=True, slots=True)
class Missing:
    """A source the feed could not include, and why."""

    source: str
    code: str
    detail: str
    since: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"registry": self.source, "code": self.code, "detail": self.detail, "since": self.since}


@dataclass(frozen=True, slots=True)
class Coverage:
    """The sources a feed includes (with their revision, for the ETag) and the ones it misses."""

    #: source -> its sequence (changes only when the source's content does)
    included: dict[str, int]
    missing: list[Missing]

    @property
    def complete(self) -> bool:
        return not self.missing


def _age(stamp: str | None) -> float:
    if stamp is None:
        return float("inf")
    return time.time() - datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _stored(kind: str, records: Sequence[BaseModel], source: str, offset: int) -> list[tuple[Indexed, bytes, bytes]]:
    """Rows of one page: indexed record, canonical JSON, and its shape in each standard (made once, here)."""
    indexed = [index(kind, record, f"{source}:{offset + i}") for i, record in enumerate(records)]
    rendered = prerender(kind, records, [i.key for i in indexed])
    return [(i, r.model_dump_json(exclude_defaults=True).encode(), shapes)
            for i, r, shapes in zip(indexed, records, rendered, strict=True)]


class FeedView:
    """Sources, freshness and snapshots over one :class:`FeedStore`."""

    def __init__(self, store: FeedStore, puller: Puller, directory: DirectoryStore, catalog: AdapterCatalog, *,
                 max_age: float = 30.0, workers: int = 4) -> None:
        self.store = store
        self.puller = puller
        self.directory = directory
        self.catalog = catalog
        self.max_age = max_age
        self.workers = workers
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def registries(self) -> dict[str, Participant]:
        return {p.id: p for p in self.directory.current().participants
                if p.active and (p.message_kinds or p.endpoints.read is not None)}

    def _lock(self, source: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(source, threading.Lock())

    def refresh(self, only: Iterable[str] | None = None) -> None:
        """Pull every pullable source (of ``only``) whose last attempt is older than ``max_age``."""
        wanted = set(only) if only is not None else None
        states = self.store.sources()
        stale = [p for p in self.registries().values()
                 if p.endpoints.read is not None and (wanted is None or p.id in wanted)
                 and (p.id not in states or _age(states[p.id].attempted_at) >= self.max_age)]
        if not stale:
            return
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(stale)))) as pool:
            list(pool.map(self.pull, stale))

    def pull(self, participant: Participant) -> None:
        """Replace ``participant``'s rows by a fresh pull; a failure is recorded, never raised."""
        with self._lock(participant.id):
            try:
                with self.store.replacing(participant.id, participant.party, "pull") as replacement:
                    n = 0
                    for kind, records in self.puller.pages(participant):
                        replacement.add(_stored(kind, records, participant.id, n))
                        n += len(records)
            except SourceFailure as exc:
                self.store.record_failure(participant.id, participant.party, "pull", exc.code, exc.message)
            except Exception as exc:  # whatever a registry's data sets off, the feed names it and carries on
                log.exception("pulling %s failed unexpectedly", participant.id)
                self.store.record_failure(participant.id, participant.party, "pull", SourceFailure.code,
                                          f"the pull failed unexpectedly ({type(exc).__name__})")

    def push(self, participant: Participant, body: bytes, medium: Medium | None = None) -> dict[str, Any]:
        """Replace ``participant``'s rows by a snapshot in its directory format."""
        try:
            adapter = self.catalog.get(participant.format)
            chosen = medium or adapter.media[0]
            result = adapter.parse(body, medium=chosen)
        except CarbonlinkError as exc:
            raise SnapshotInvalid(f"the snapshot is not readable {participant.format}: {exc.code}: {exc.message}"
                                  ) from exc
        errors = [f for f in result.findings if f.is_error]
        if errors:
            raise SnapshotInvalid(f"the snapshot has {len(errors)} error(s) in {participant.format}",
                                  findings=errors)
        with self._lock(participant.id), \
                self.store.replacing(participant.id, participant.party, "push") as replacement:
            n = 0
            for kind in KINDS:
                records = records_of(kind, result.document)
                replacement.add(_stored(kind, records, participant.id, n))
                n += len(records)
        return {"registry": participant.id, "records": replacement.count, "changed": replacement.changed,
                "sequence": replacement.seq}

    def coverage(self, sources: Iterable[str] | None = None) -> Coverage:
        """Which of ``sources`` (default: every registry) the feed includes, and which it misses."""
        registries = self.registries()
        names = sorted(registries if sources is None else set(sources))
        states = self.store.sources()
        included: dict[str, int] = {}
        missing: list[Missing] = []
        for name in names:
            state = states.get(name)
            if state is not None and state.failed:
                missing.append(Missing(name, state.error_code or "FEED.SOURCE_FAILED", state.error_detail or "",
                                       state.ok_at))
            elif state is not None and state.ok_at is not None:
                included[name] = state.seq
            elif name in registries:
                missing.append(Missing(name, "FEED.SOURCE_NOT_CONNECTED", "the registry has no read endpoint in "
                                       "the directory and has pushed no snapshot", None))
        return Coverage(included, missing)


__all__ = ["Coverage", "FeedView", "Missing"]

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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from adapters import AdapterCatalog
from gateway.feeds.errors import SnapshotInvalid, SourceFailure
from gateway.feeds.keys import KINDS, Indexed, index, records_of
from gateway.feeds.pull import Puller
from gateway.feeds.render import prerender
from gateway.feeds.store import FeedStore, SourceState
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
    #: source -> when its data was last read successfully
    as_of: dict[str, str | None] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.missing


def _age(stamp: str | None) -> float:
    if stamp is None:
        return float("inf")
    return time.time() - datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _never_read(state: SourceState | None) -> bool:
    """Never pulled (or its records were dropped by a store upgrade): a request pulls it before answering."""
    return state is None or (state.ok_at is None and state.error_code is None)


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
        #: True while :meth:`start_refresher` keeps stale sources fresh: requests then pull only new sources
        self.background = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def registries(self) -> dict[str, Participant]:
        return {p.id: p for p in self.directory.current().participants
                if p.active and (p.message_kinds or p.endpoints.read is not None)}

    def _lock(self, source: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(source, threading.Lock())

    def refresh(self, only: Iterable[str] | None = None, *, stale_too: bool | None = None) -> None:
        """Pull every pullable source (of ``only``) never pulled, and (``stale_too``; default: unless the
        background refresher runs) those whose last attempt is older than ``max_age``."""
        wanted = set(only) if only is not None else None
        again = (not self.background) if stale_too is None else stale_too
        states = self.store.sources()
        stale = [p for p in self.registries().values()
                 if p.endpoints.read is not None and (wanted is None or p.id in wanted)
                 and (_never_read(states.get(p.id))
                      or (again and _age(states[p.id].attempted_at) >= self.max_age))]
        if not stale:
            return
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(stale)))) as pool:
            list(pool.map(self.pull, stale))

    def start_refresher(self) -> None:
        """Pull stale sources in a background thread every ``max_age / 2`` seconds (at least 1), so a request
        does not wait for a large registry's pull; a request still pulls a source never pulled. Not started
        when ``max_age`` is 0 (every request pulls)."""
        if self.max_age <= 0:
            return

        def loop() -> None:
            while not self._stop.wait(max(1.0, self.max_age / 2)):
                try:
                    self.refresh(stale_too=True)
                except CarbonlinkError as exc:  # no directory yet, or it expired: the trust layer reports it
                    log.debug("feeds background refresh skipped (%s): %s", exc.code, exc.message)
                except Exception:  # the loop must survive anything
                    log.exception("the feeds' background refresh failed")

        self.background = True
        self._thread = threading.Thread(target=loop, name="carbonlink-feed-refresh", daemon=True)
        self._thread.start()

    def stop_refresher(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.background = False

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
        as_of: dict[str, str | None] = {}
        missing: list[Missing] = []
        for name in names:
            state = states.get(name)
            if state is not None and state.failed:
                missing.append(Missing(name, state.error_code or "FEED.SOURCE_FAILED", state.error_detail or "",
                                       state.ok_at))
            elif state is not None and state.ok_at is not None:
                included[name] = state.seq
                as_of[name] = state.ok_at
            elif name in registries:
                missing.append(Missing(name, "FEED.SOURCE_NOT_CONNECTED", "the registry has no read endpoint in "
                                       "the directory and has pushed no snapshot", None))
        return Coverage(included, missing, as_of)


__all__ = ["Coverage", "FeedView", "Missing"]

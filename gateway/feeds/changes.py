"""Change subscriptions as server-sent events: every change of the view, per source, in sequence.

Every row a pull or a snapshot changes gets the source's next sequence number (:mod:`gateway.feeds.store`),
so the change log of one source is gap-free and ordered. A subscriber names where it stands as a *position*,
``source:seq`` pairs (``gha:12,che:40``; a source not named starts from 0), in ``after=`` or in the
``Last-Event-ID`` header; each event's id is the position *after* that event, so reconnecting with the last
id received resumes exactly: nothing lost, nothing twice. Because the sequence lives in the view's store,
gateway processes sharing one store (the same SQLite file, ``CARBONLINK_FEEDS_STORE``) hand out the same
sequence and a subscriber may resume at any of them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator

import orjson

from gateway.feeds.errors import ChangesCompacted, FeedQueryInvalid
from gateway.feeds.keys import SEP
from gateway.feeds.store import Change, FeedStore
from gateway.feeds.view import FeedView

_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
BATCH = 500


def parse_position(text: str | None) -> dict[str, int]:
    """``source:seq,...`` -> {source: seq}; FEED.QUERY_INVALID for anything else."""
    if not text:
        return {}
    position: dict[str, int] = {}
    for part in text.split(","):
        source, sep, seq = part.strip().rpartition(":")
        if not sep or not _SOURCE.match(source) or not seq.isdigit() or len(seq) > 18:
            raise FeedQueryInvalid(f"position {part.strip()[:60]!r} is not source:sequence")
        position[source] = int(seq)
    return position


def render_position(position: dict[str, int]) -> str:
    return ",".join(f"{source}:{seq}" for source, seq in sorted(position.items()))


def check_position(store: FeedStore, sources: Iterable[str], position: dict[str, int]) -> None:
    """FEED.CHANGES_COMPACTED when ``position`` is below a source's floor (changes it needs are gone)."""
    floors = store.floors()
    behind = {name: floors[name] for name in sources if position.get(name, 0) < floors.get(name, 0)}
    if not behind:
        return
    states = store.sources()
    resume = {name: states[name].seq for name in behind if name in states}
    raise ChangesCompacted(
        "the change log was compacted past your position ("
        + ", ".join(f"{name} up to {floor}, you are at {position.get(name, 0)}" for name, floor in behind.items())
        + f"); read the feed again and resume from {render_position(resume)}")


def event(change: Change, position: dict[str, int]) -> bytes:
    data = {"source": change.source, "seq": change.seq, "kind": change.kind, "key": change.key.replace(SEP, " "),
            "op": change.op, "at": change.at,
            "record": orjson.loads(change.body) if change.body is not None else None}
    return (f"id: {render_position(position)}\nevent: change\n".encode() + b"data: " + orjson.dumps(data) + b"\n\n")


def stream(view: FeedView, sources: Iterable[str], position: dict[str, int], *, wait: float, limit: int | None,
           poll: float = 0.5) -> Iterator[bytes]:
    """Events from ``position`` on: everything logged now, then new changes as pulls bring them (the stream
    refreshes the view every ``poll`` seconds, within the view's ``max_age``) until ``wait`` seconds pass
    without one or ``limit`` events were sent. A comment line every poll keeps proxies from timing out."""
    names = sorted(sources)
    here = {name: position.get(name, 0) for name in names}
    check_position(view.store, names, here)
    sent = 0
    idle_since = time.monotonic()
    while True:
        progressed = False
        for name in names:
            for change in view.store.changes(name, here[name], BATCH):
                if change.seq != here[name] + 1:  # the log is gap-free: compacted meanwhile, or rewritten
                    check_position(view.store, [name], here)
                    raise FeedQueryInvalid(f"the change log of {name} jumps from {here[name]} to {change.seq}",
                                           code="FEED.CHANGES_GAP")
                here[name] = change.seq
                yield event(change, here)
                sent += 1
                progressed = True
                if limit is not None and sent >= limit:
                    return
        if progressed:
            idle_since = time.monotonic()
            continue
        if time.monotonic() - idle_since >= wait:
            return
        yield b": idle\n\n"
        time.sleep(poll)
        view.refresh(names)


__all__ = ["check_position", "event", "parse_position", "render_position", "stream"]

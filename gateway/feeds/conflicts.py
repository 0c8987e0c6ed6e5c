"""Cross-registry double-counting detection over the harmonized view.

Each finding is coded, names both records (source registry and natural key) and says why:

* ``FEED.DC.SERIAL_OVERLAP``: unit blocks of the same series (same programme serial scheme and series, or
  same ITMO cooperative approach/registry/first transferring Party/vintage) whose numbers overlap, in two
  registries, both counted (held, pending, issued) or both ended (retired, cancelled);
* ``FEED.DC.RETIRED_AND_ACTIVE``: overlapping units retired or cancelled in one registry and still held
  in another;
* ``FEED.DC.PROJECT_TWO_PROGRAMMES``: one project registered in two crediting programmes, found by natural
  key (a project naming another programme's project as its origin while both are listed) or by a fuzzy
  match of name within the same host country at or above the configured threshold
  (:data:`DEFAULT_THRESHOLD`, rapidfuzz ``token_sort_ratio`` on normalised names, 0-100);
* ``FEED.DC.ITMO_FIRST_TRANSFERRED_TWICE``: two different first transfers whose ITMO blocks overlap.

A block marked transferred, expired, buffer, inactive or rejected in one registry has left it; its overlap
with another registry is how an export looks and is not a finding. Unit and action sweeps are one ordered
pass over the view (memory bounded by the blocks overlapping at one point); the project match compares
projects of one country with each other.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from rapidfuzz import fuzz, process

from gateway.feeds.keys import SEP
from gateway.feeds.store import FeedStore

DEFAULT_THRESHOLD = 90.0
ACTIVE = frozenset({"held", "pending", "issued", None})
ENDED = frozenset({"retired", "cancelled"})
_INACTIVE_PROJECT = re.compile(r"transferred|inactive|withdrawn|cancel|reject|deregistered", re.IGNORECASE)
CODES = {
    "FEED.DC.SERIAL_OVERLAP": "the same units are counted in two registries",
    "FEED.DC.RETIRED_AND_ACTIVE": "units retired or cancelled in one registry are still held in another",
    "FEED.DC.PROJECT_TWO_PROGRAMMES": "one project is registered in two crediting programmes",
    "FEED.DC.ITMO_FIRST_TRANSFERRED_TWICE": "the same ITMOs were first-transferred twice",
}


@dataclass(frozen=True, slots=True)
class DoubleCount:
    code: str
    message: str
    records: tuple[dict[str, Any], dict[str, Any]]
    basis: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "title": CODES[self.code], "message": self.message,
                "records": list(self.records), "basis": self.basis}


def _range(row: tuple[Any, ...]) -> str:
    return f"{row[1]}-{row[2]}"


def _ref(row: tuple[Any, ...]) -> dict[str, Any]:
    return {"registry": row[3], "key": row[4].replace(SEP, " "), "status": row[5], "first": row[1], "last": row[2]}


def _pair_code(a: str | None, b: str | None) -> str | None:
    if (a not in ACTIVE and a not in ENDED) or (b not in ACTIVE and b not in ENDED):
        return None
    if (a in ENDED) != (b in ENDED):
        return "FEED.DC.RETIRED_AND_ACTIVE"
    return "FEED.DC.SERIAL_OVERLAP"


def _overlaps(rows: Iterable[tuple[Any, ...]], *, cross_source: bool) -> Iterator[tuple[tuple[Any, ...],
                                                                                        tuple[Any, ...]]]:
    """Pairs of rows of one series whose ranges overlap (rows come in (series, first) order)."""
    series: str | None = None
    open_rows: list[tuple[Any, ...]] = []
    for row in rows:
        if row[0] != series:
            series, open_rows = row[0], []
        open_rows = [r for r in open_rows if r[2] >= row[1]]
        for other in open_rows:
            if other[4] == row[4] and other[3] == row[3]:
                continue
            if cross_source and other[3] == row[3]:
                continue
            yield other, row
        open_rows.append(row)


def unit_findings(store: FeedStore, sources: Iterable[str]) -> Iterator[DoubleCount]:
    for a, b in _overlaps(store.sweep_rows("units", sources), cross_source=True):
        code = _pair_code(a[5], b[5])
        if code is None:
            continue
        exact = a[1] == b[1] and a[2] == b[2]
        message = (f"units {_range(a)} in {a[3]} ({a[5] or 'no status'}) and {_range(b)} in {b[3]} "
                   f"({b[5] or 'no status'}) {'are the same block' if exact else 'overlap'}")
        yield DoubleCount(code, message, (_ref(a), _ref(b)), "serial range")


def itmo_findings(store: FeedStore, sources: Iterable[str]) -> Iterator[DoubleCount]:
    rows = store.sweep_rows("actions", sources, action_type="First transfer")
    for a, b in _overlaps(rows, cross_source=False):
        if a[4] == b[4]:
            continue
        message = f"ITMOs {_range(a)} first-transferred in {a[3]} and {_range(b)} again in {b[3]}"
        yield DoubleCount("FEED.DC.ITMO_FIRST_TRANSFERRED_TWICE", message, (_ref(a), _ref(b)), "ITMO block")


def _normal(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@dataclass(frozen=True, slots=True)
class _Project:
    source: str
    key: str
    programme: str
    project_id: str
    name: str
    country: str | None
    active: bool

    def ref(self) -> dict[str, Any]:
        return {"registry": self.source, "key": self.key.replace(SEP, " "), "programme": self.programme,
                "project_id": self.project_id, "name": self.name, "country": self.country}


def _projects(store: FeedStore, sources: Iterable[str]) -> list[_Project]:
    out = []
    for source, key, body in store.bodies("projects", sources):
        doc = orjson.loads(body)
        out.append(_Project(source, key, str(doc.get("registry") or ""), str(doc["project_id"]),
                            str(doc.get("name") or ""), doc.get("country"),
                            not _INACTIVE_PROJECT.search(str(doc.get("status") or ""))))
    return out


def project_findings(store: FeedStore, sources: Iterable[str], threshold: float = DEFAULT_THRESHOLD
                     ) -> Iterator[DoubleCount]:
    projects = [p for p in _projects(store, sources) if p.active]
    by_key: dict[str, list[_Project]] = {}
    for p in projects:
        by_key.setdefault(p.key, []).append(p)
    for group in by_key.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if a.programme != b.programme:
                    yield DoubleCount("FEED.DC.PROJECT_TWO_PROGRAMMES", f"project {a.programme} {a.project_id} in "
                                      f"{a.source} is listed as {b.programme} {b.project_id} in {b.source}, both "
                                      "active", (a.ref(), b.ref()), "natural key")
    by_country: dict[str | None, list[_Project]] = {}
    for p in projects:
        if p.name and p.country:
            by_country.setdefault(p.country, []).append(p)
    for group in by_country.values():
        names = [_normal(p.name) for p in group]
        for i, a in enumerate(group):
            matches = process.extract(names[i], names[i + 1:], scorer=fuzz.token_sort_ratio, score_cutoff=threshold,
                                      limit=None)
            for _, score, offset in matches:
                b = group[i + 1 + offset]
                if a.programme != b.programme and a.key != b.key:
                    yield DoubleCount("FEED.DC.PROJECT_TWO_PROGRAMMES",
                                      f"{a.programme} {a.project_id} {a.name!r} and {b.programme} {b.project_id} "
                                      f"{b.name!r} in {a.country} match at {score:.0f} (threshold {threshold:g})",
                                      (a.ref(), b.ref()), "name and country")


def detect(store: FeedStore, sources: Iterable[str], *, threshold: float = DEFAULT_THRESHOLD
           ) -> Iterator[DoubleCount]:
    """Every double-counting finding among ``sources``: units, then ITMO first transfers, then projects."""
    names = tuple(sources)
    yield from unit_findings(store, names)
    yield from itmo_findings(store, names)
    yield from project_findings(store, names, threshold)


__all__ = ["CODES", "DEFAULT_THRESHOLD", "DoubleCount", "detect"]

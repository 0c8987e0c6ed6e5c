"""Which relayed messages moved which part of a block.

Every receipt of a relayed message lists the serial ranges it moved (``units``: ``series``, ``first``,
``last``, ``vintage``, ``action``; :func:`gateway.transfers._plan.units_moved`). The trail of a block is every
receipted message whose units overlap it, in the evidence log's order. Where messages moved only part of the
block (a block split, or a range that spans two transfers), the block is cut into *parts*, each with the hops
that moved exactly it; a part's holder is the receiver of its last accepted hop. A hop sent by a registry other
than the one the previous accepted hop delivered to is a break in the chain (``TITLE.CHAIN_BROKEN``): the units
reached the sender some other way than through this gateway.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateway.evidence.record import EvidenceRecord
from standards.errors import CarbonlinkError

_BLOCK = re.compile(r"^(?P<series>[^\s:]+:[^\s:]+):(?P<first>\d{1,18})(?:-(?P<last>\d{1,18}))?$")


class TitleError(CarbonlinkError):
    """A block that cannot be read, or a title that cannot be traced."""

    code = "TITLE.BLOCK_INVALID"


@dataclass(frozen=True, slots=True)
class Block:
    """A range of serial numbers in one numbering series (of one vintage, when given)."""

    series: str
    first: int
    last: int
    vintage: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"series": self.series, "first": self.first, "last": self.last, "vintage": self.vintage}


def parse_block(text: str, vintage: int | None = None) -> Block:
    """``SERIES:FIRST-LAST`` (or ``SERIES:N``): ITMOs ``CA0001:GHA:1-100`` (cooperative approach, first
    transferring Party), crediting-programme blocks ``REGISTRY:PROJECT:FIRST-LAST``."""
    m = _BLOCK.match(text.strip())
    if m is None:
        raise TitleError(f"block {text!r} is not SERIES:FIRST-LAST, e.g. CA0001:GHA:1-100 (ITMOs of cooperative "
                         "approach CA0001 first transferred by GHA) or VCS:1234:1-500 (a crediting-programme block)")
    first = int(m["first"])
    last = int(m["last"]) if m["last"] else first
    if last < first:
        raise TitleError(f"block {text!r}: the last serial {last} is before the first {first}")
    return Block(m["series"], first, last, vintage)


@dataclass(frozen=True, slots=True)
class Hop:
    """One relayed message that moved ``first``..``last`` of the block."""

    record: EvidenceRecord
    unit: dict[str, Any]
    first: int
    last: int

    @property
    def accepted(self) -> bool:
        return bool(self.record.receipt and self.record.receipt.get("outcome") == "accepted")

    def as_dict(self) -> dict[str, Any]:
        receipt = self.record.receipt or {}
        return {"seq": self.record.seq, "ts": self.record.ts, "message_id": self.record.message_id,
                "kind": self.record.kind, "action": self.unit.get("action"), "first": self.first, "last": self.last,
                "vintage": self.unit.get("vintage"), "outcome": receipt.get("outcome"),
                "sender": receipt.get("sender"), "receiver": receipt.get("receiver"),
                "receipt_id": receipt.get("receipt_id"), "record_hash": self.record.hash}


def _overlaps(record: EvidenceRecord, block: Block) -> list[Hop]:
    if record.receipt is None:
        return []
    hops = []
    for unit in record.receipt.get("units") or []:
        if not isinstance(unit, dict) or unit.get("series") != block.series:
            continue
        if block.vintage is not None and unit.get("vintage") not in (None, block.vintage):
            continue
        first, last = max(int(unit["first"]), block.first), min(int(unit["last"]), block.last)
        if first <= last:
            hops.append(Hop(record, unit, first, last))
    return hops


def _registry(party: Any) -> str | None:
    return str(party.get("registry") or party.get("id")) if isinstance(party, dict) else None


def _part(first: int, last: int, hops: list[Hop]) -> dict[str, Any]:
    findings: list[dict[str, Any]] = []
    holder: dict[str, Any] | None = None
    for hop in hops:
        if not hop.accepted:
            continue
        receipt = hop.record.receipt or {}
        if holder is not None and _registry(receipt.get("sender")) != _registry(holder):
            findings.append({"code": "TITLE.CHAIN_BROKEN", "seq": hop.record.seq,
                             "message": f"record {hop.record.seq}: {_registry(receipt.get('sender'))} sent units "
                                        f"{first}-{last}, which record {hops[0].record.seq}'s chain left with "
                                        f"{_registry(holder)}"})
        holder = receipt.get("receiver")
    return {"first": first, "last": last, "status": "held" if holder else "no history at this gateway",
            "holder": holder, "hops": [h.as_dict() for h in hops], "findings": findings}


def trail(records: Iterable[EvidenceRecord], block: Block) -> dict[str, Any]:
    """The block's parts, each with the hops that moved it, in the log's order (see the module)."""
    hops = [hop for record in records for hop in _overlaps(record, block)]
    cuts = sorted({block.first, block.last + 1} | {h.first for h in hops} | {h.last + 1 for h in hops})
    parts: list[dict[str, Any]] = []
    previous: tuple[int, ...] | None = None
    for start, end in itertools.pairwise(cuts):
        covering = [h for h in hops if h.first <= start and end - 1 <= h.last]
        key = tuple(h.record.seq for h in covering)
        if parts and key == previous:  # the same hops as the part before: one part
            parts[-1] = _part(parts[-1]["first"], end - 1, covering)
        else:
            parts.append(_part(start, end - 1, covering))
        previous = key
    return {"block": block.as_dict(), "parts": parts, "messages": len({h.record.seq for h in hops}),
            "findings": [f for p in parts for f in p["findings"]]}

"""A lookup through the title index (:mod:`gateway.title._index`), checked against the evidence log.

The index only says where to look. Each record it points to is read from the log together with the record
before it, and both are checked as the whole-chain verifier checks them (:class:`ChainVerifier`: format, the
sequence, the link to the previous hash, the recomputed hash, the gateway's signature). A record whose hash is
not the one the index holds means the index does not describe this log: it is reset, and the caller scans.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from gateway.evidence.log import EvidenceLog
from gateway.evidence.record import GENESIS_PREV_HASH, EvidenceRecord
from gateway.evidence.signing import KeySetVerifier
from gateway.evidence.verify import ChainVerifier
from gateway.title._index import TitleIndex, TitleIndexUnavailable
from gateway.title._trail import Block

log_ = logging.getLogger("carbonlink.title")


@dataclass(frozen=True, slots=True)
class Indexed:
    """The records the index found, the report of their checks (the shape of a chain report) and how the index
    was used."""

    records: list[EvidenceRecord]
    chain: dict[str, Any]
    about: dict[str, Any]


def indexed(log: EvidenceLog, index: TitleIndex, block: Block, keys: KeySetVerifier) -> Indexed | None:
    """The block's records through ``index``, each checked in the log; ``None``: scan the log instead."""
    try:
        caught_up = index.catch_up(log)
        hits = index.lookup(block)
    except TitleIndexUnavailable as exc:
        log_.warning("title index set aside, scanning the log: %s", exc.message)
        return None
    records: list[EvidenceRecord] = []
    findings: list[dict[str, Any]] = []
    kids: set[str] = set()
    for seq, hash_ in hits:
        window = list(log.records(from_seq=max(1, seq - 1), to_seq=seq))
        if not window or window[-1].seq != seq or window[-1].hash != hash_:
            log_.warning("title index does not match the log at record %s: rebuilding it", seq)
            index.reset()
            return None
        first = window[0]
        verifier = ChainVerifier(keys, prev_hash=first.prev_hash if first.seq > 1 else GENESIS_PREV_HASH,
                                 next_seq=first.seq)
        for record in window:
            verifier.check(record)
        report = verifier.finish()
        findings += [f.as_dict() for f in report.findings]
        kids |= report.kids
        records.append(window[-1])
    chain = {"ok": not findings, "code": findings[0]["rule"] if findings else "EVIDENCE.OK", "records": len(records),
             "scope": "the records of the trail, each with the record before it", "findings": findings,
             "head_seq": records[-1].seq if records else 0, "kids": sorted(kids)}
    return Indexed(records, chain, {"used": True, "caught_up": caught_up, "records_read": len(records)})

"""Proving a chain: recompute every hash, check every link and signature, stop at the first break.

Verification stops at the first broken record: nothing after it is proven any more. The
result is a :class:`ChainReport` whose ``findings`` use the ``EVIDENCE.*`` rules below.

``signatures="head"`` checks every hash and link but only the last record's signature: since
each hash covers ``prev_hash``, a valid signature on the head proves every record before it
(a rewrite would need a new head signature). It is the fast mode for large logs; ``"all"`` (the
default) also proves that each record was signed when it was written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gateway.evidence.record import GENESIS_PREV_HASH, RECORD_VERSION, EvidenceRecord
from gateway.evidence.signing import KeySetVerifier, SignatureProblem
from standards.findings import Finding, Layer, Location, RuleCatalogue, Severity

_DOC = "carbonlink evidence log v1 (docs/evidence.md)"
CATALOGUE = RuleCatalogue("evidence")
_RULES = {
    "EVIDENCE.RECORD_MALFORMED": ("A record cannot be read as an evidence record", f"{_DOC} §Records"),
    "EVIDENCE.SEQUENCE_GAP": ("Records are missing, duplicated or out of order", f"{_DOC} §Chain"),
    "EVIDENCE.CHAIN_BROKEN": ("prev_hash does not name the previous record's hash", f"{_DOC} §Chain"),
    "EVIDENCE.HASH_MISMATCH": ("The record's content no longer matches its hash",
                               f"{_DOC} §Hash; RFC 8785 JSON Canonicalization Scheme (JCS); FIPS 180-4 SHA-256"),
    "EVIDENCE.SIGNATURE_INVALID": ("The gateway signature does not verify", f"{_DOC} §Signature; RFC 7515"),
    "EVIDENCE.SIGNATURE_MISMATCH": ("The gateway signature is over a different hash", f"{_DOC} §Signature"),
    "EVIDENCE.KEY_UNKNOWN": ("The record was signed with a key outside the trusted key set",
                             f"{_DOC} §Signature; RFC 7517 JWKS"),
    "EVIDENCE.HEAD_MISMATCH": ("The export holds other records than its manifest announces",
                               f"{_DOC} §Export"),
    "EVIDENCE.MANIFEST_SIGNATURE": ("The export manifest's signature does not verify", f"{_DOC} §Export"),
}
for _rid, (_title, _ref) in _RULES.items():
    CATALOGUE.add(_rid, severity=Severity.ERROR, layer=Layer.CROSS_RECORD, title=_title, reference=_ref)


def finding(rule: str, message: str, pointer: str, *, line: int | None = None) -> Finding:
    return CATALOGUE[rule].finding(message, Location(pointer=pointer, line=line))


@dataclass(slots=True)
class ChainReport:
    """Outcome of a verification. ``ok`` means every record checked and the chain is whole."""

    records: int = 0
    first_seq: int | None = None
    head_seq: int = 0
    head_hash: str = GENESIS_PREV_HASH
    kids: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def code(self) -> str:
        """``EVIDENCE.OK`` or the rule id of the first break."""
        return self.findings[0].rule if self.findings else "EVIDENCE.OK"

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "code": self.code, "records": self.records, "first_seq": self.first_seq,
                "head_seq": self.head_seq, "head_hash": self.head_hash, "kids": sorted(self.kids),
                "findings": [f.as_dict() for f in self.findings]}


class ChainVerifier:
    """Feed records in order with :meth:`check`; it returns False at the first break."""

    def __init__(self, keys: KeySetVerifier, *, prev_hash: str = GENESIS_PREV_HASH,
                 next_seq: int = 1, signatures: str = "all") -> None:
        if signatures not in ("all", "head"):
            raise ValueError("signatures is 'all' or 'head'")
        self._keys = keys
        self._all_signatures = signatures == "all"
        self._last: tuple[EvidenceRecord, int | None] | None = None
        self._prev_hash = prev_hash
        self._next_seq = next_seq
        self.report = ChainReport(head_seq=next_seq - 1, head_hash=prev_hash)

    def fail(self, rule: str, message: str, pointer: str, *, line: int | None = None) -> bool:
        self.report.findings.append(finding(rule, message, pointer, line=line))
        return False

    def check(self, record: EvidenceRecord, *, line: int | None = None) -> bool:
        """Check one record against its predecessor; record the first break in the report."""
        if self.report.findings:
            return False
        seq, where = record.seq, f"/records/{record.seq}"
        if record.v != RECORD_VERSION:
            return self.fail("EVIDENCE.RECORD_MALFORMED",
                             f"record {seq} has format version {record.v}; this verifier reads "
                             f"{RECORD_VERSION}",
                             f"{where}/v", line=line)
        if seq != self._next_seq:
            return self.fail("EVIDENCE.SEQUENCE_GAP",
                             f"expected record {self._next_seq} next, found record {seq}: records were "
                             "removed, inserted or reordered", f"{where}/seq", line=line)
        if record.prev_hash != self._prev_hash:
            return self.fail("EVIDENCE.CHAIN_BROKEN",
                             f"record {seq} says the previous hash is {record.prev_hash[:16]}..., but record "
                             f"{seq - 1} has hash {self._prev_hash[:16]}...", f"{where}/prev_hash", line=line)
        try:
            computed = record.computed_hash()
        except Exception as exc:  # a value JCS cannot encode (float, surrogate) is a malformed record
            return self.fail("EVIDENCE.RECORD_MALFORMED", f"record {seq} cannot be hashed: {exc}",
                             where, line=line)
        if computed != record.hash:
            return self.fail("EVIDENCE.HASH_MISMATCH",
                             f"record {seq} was changed after it was written: its content hashes to "
                             f"{computed[:16]}..., the stored hash is {record.hash[:16]}...",
                             f"{where}/hash", line=line)
        if self._all_signatures and not self._signature_ok(record, line):
            return False
        self._last = (record, line)
        self.report.records += 1
        if self.report.first_seq is None:
            self.report.first_seq = seq
        self.report.head_seq, self.report.head_hash = seq, record.hash
        self._prev_hash, self._next_seq = record.hash, seq + 1
        return True


    def _signature_ok(self, record: EvidenceRecord, line: int | None) -> bool:
        try:
            kid = self._keys.verify(record.signature, record.hash.encode("ascii"))
        except SignatureProblem as exc:
            return self.fail(exc.rule, f"record {record.seq}: {exc.message}",
                             f"/records/{record.seq}/signature", line=line)
        self.report.kids.add(kid)
        return True

    def finish(self) -> ChainReport:
        """Complete the check (in ``head`` mode: the head's signature) and return the report."""
        if not self._all_signatures and not self.report.findings and self._last is not None:
            record, line = self._last
            if not self._signature_ok(record, line):
                self.report.findings[0] = finding(
                    self.report.findings[0].rule,
                    self.report.findings[0].message + "; with only the head checked, no record is proven",
                    f"/records/{record.seq}/signature", line=line)
        return self.report


def verify_records(records: Iterable[EvidenceRecord], keys: KeySetVerifier, *,
                   signatures: str = "all") -> ChainReport:
    """Verify a whole chain from its first record (``prev_hash`` = 64 zeros, seq 1)."""
    verifier = ChainVerifier(keys, signatures=signatures)
    for record in records:
        if not verifier.check(record):
            break
    return verifier.finish()

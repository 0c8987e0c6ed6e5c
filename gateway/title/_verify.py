"""The trail from an evidence export (offline) or a log, with its proofs checked.

From an export (``carbonlink evidence export``) and the gateway's published keys, nothing is taken on trust:
the export is verified whole (the manifest's signature, every record's hash, its link to the one before and its
signature: :func:`gateway.evidence.verify_export`), and each hop's receipt is checked against the gateway's
detached signature kept with it. A tampered record breaks the chain and the answer says so with the evidence
finding's code (``verified`` false); the trail is still shown, marked unverified.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
from joserfc.jwk import Key

from gateway.evidence import EvidenceRecord, KeySetVerifier, verify_export
from gateway.evidence.errors import InvalidEntry
from gateway.evidence.log import EvidenceLog
from gateway.title._index import TitleIndex
from gateway.title._lookup import indexed
from gateway.title._trail import Block, trail
from gateway.transfers._recorder import RECEIPT_SIGNATURE, receipt_bytes
from gateway.transfers._signer import RECEIPT_TYP
from gateway.trust import jose
from gateway.trust.errors import JwsRejected
from gateway.trust.keys import public_key_set


def _export_records(path: Path) -> Iterator[EvidenceRecord]:
    with path.open("rb") as stream:
        next(stream, None)  # the manifest
        for line in stream:
            if line.strip():
                try:
                    yield EvidenceRecord.from_dict(orjson.loads(line))
                except (orjson.JSONDecodeError, InvalidEntry):
                    return  # the chain check reports it


def _receipt_problem(record: EvidenceRecord, keys: dict[str, Key]) -> str | None:
    signature = record.verdicts.get(RECEIPT_SIGNATURE)
    if not isinstance(signature, str) or record.receipt is None:
        return "the receipt carries no signature of the gateway"
    body = receipt_bytes(record.receipt)

    def key_for(header: dict[str, Any]) -> Key:
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in keys:
            raise JwsRejected("KID", f"kid {kid!r} is not a key of the gateway")
        return keys[kid]

    try:
        jose.verify(signature, typ=[RECEIPT_TYP], key_for=key_for, payload=body,
                    registry=jose.make_registry(max_payload=max(len(body) * 2, 1024)))
    except JwsRejected as exc:
        return exc.message
    return None


def _with_receipts(result: dict[str, Any], records: dict[int, EvidenceRecord], keys: dict[str, Key]) -> None:
    """Check every hop's receipt signature; add findings for those that fail."""
    for part in result["parts"]:
        for hop in part["hops"]:
            problem = _receipt_problem(records[hop["seq"]], keys)
            hop["receipt_verified"] = problem is None
            if problem is not None:
                result["findings"].append({"code": "TITLE.RECEIPT_SIGNATURE", "seq": hop["seq"],
                                           "message": f"record {hop['seq']}: {problem}"})


def _collect(records: Iterable[EvidenceRecord], block: Block) -> tuple[dict[str, Any], dict[int, EvidenceRecord]]:
    kept: dict[int, EvidenceRecord] = {}

    def remember() -> Iterator[EvidenceRecord]:
        for record in records:
            if record.receipt is not None and record.receipt.get("units"):
                kept[record.seq] = record
            yield record

    return trail(remember(), block), kept


def title_from_export(path: Path, block: Block, *, jwks: dict[str, Any] | None = None) -> dict[str, Any]:
    """The block's trail in an export, verified against ``jwks`` (the gateway's published JWKS; default the
    keys the export carries, which only shows the file is consistent with itself)."""
    verifier = KeySetVerifier.from_jwks(jwks, what="--jwks") if jwks is not None else None
    report, manifest = verify_export(path, keys=verifier)
    keys = public_key_set(jwks if jwks is not None else manifest["jwks"], what="gateway JWKS")
    result, records = _collect(_export_records(path), block)
    _with_receipts(result, records, keys)
    return _finish(result, report.as_dict(), f"export {path}", "--jwks" if jwks is not None else "the export's own")


def title_from_log(log: EvidenceLog, block: Block, *, jwks: dict[str, Any], verify_chain: bool = True,
                   index: TitleIndex | None = None) -> dict[str, Any]:
    """The block's trail in a live log; with ``verify_chain`` the whole chain is verified first (every record:
    the cost grows with the log), else only the hops' receipt signatures.

    With an ``index`` (and without ``verify_chain``) only the records the index points to are read, each checked
    in the log with the record before it (:func:`gateway.title._lookup.indexed`); an index that cannot be read
    or does not match the log is set aside and the log is scanned."""
    keys = public_key_set(jwks, what="gateway JWKS")
    if index is not None and not verify_chain:
        found = indexed(log, index, block, KeySetVerifier.from_jwks(jwks))
        if found is not None:
            result, records = _collect(found.records, block)
            _with_receipts(result, records, keys)
            done = _finish(result, found.chain, f"log {log.url}", "the gateway's keys")
            done["evidence"]["index"] = found.about
            return done
    chain = log.verify(KeySetVerifier.from_jwks(jwks)).as_dict() if verify_chain else None
    result, records = _collect(log.records(), block)
    _with_receipts(result, records, keys)
    done = _finish(result, chain, f"log {log.url}", "the gateway's keys")
    if index is not None:
        done["evidence"]["index"] = {"used": False}
    return done


def _finish(result: dict[str, Any], chain: dict[str, Any] | None, source: str, keys: str) -> dict[str, Any]:
    if chain is not None and not chain["ok"]:
        result["findings"].insert(0, {"code": chain["code"], "seq": chain.get("head_seq"),
                                      "message": "the evidence does not verify: " + "; ".join(
                                          f["message"] for f in chain["findings"][:3])})
    result["evidence"] = {"source": source, "keys": keys, "chain": chain}
    result["verified"] = not result["findings"] and chain is not None
    return result

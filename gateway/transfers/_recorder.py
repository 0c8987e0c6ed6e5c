"""Receipts and the record of every exchange: the receipt a sender gets, sealed (signed) and put on
record in the evidence log before the idempotency store hands it to retries."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson

from gateway.digests import sha256_b64, sha256_hex
from gateway.evidence.log import EvidenceLog
from gateway.evidence.record import Exchange, utc_timestamp
from gateway.idempotency.store import Claim, IdempotencyStore
from gateway.protocol import MessageKind
from gateway.transfers._plan import Plan
from gateway.transfers._signer import RECEIPT_TYP, DetachedSigner
from gateway.transfers.delivery import Answer
from gateway.transfers.errors import UpstreamError
from gateway.trust.directory import Participant
from standards.errors import CarbonlinkError

log = logging.getLogger("carbonlink.transfers")

#: A receipt lists at most this many validation warnings (``warnings_total`` counts them all).
MAX_RECEIPT_WARNINGS = 50


def _without_floats(value: Any) -> Any:
    """Receipts are sorted-key JSON without binary floats: a float from a registry is kept as its text."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: _without_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_floats(v) for v in value]
    return value


def receipt_bytes(doc: dict[str, Any]) -> bytes:
    """The exact bytes a receipt is signed over (sorted keys, no whitespace)."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


class Recorder:
    """Writes receipts and keeps the evidence log and the idempotency store in step."""

    def __init__(self, *, evidence: EvidenceLog, idempotency: IdempotencyStore, signer: DetachedSigner) -> None:
        self.evidence = evidence
        self.idempotency = idempotency
        self.signer = signer

    def receipt(self, sender: Participant, kind: MessageKind, message_id: str, body: bytes, inbound_digest: str,
                plan: Plan, answer: Answer, received_at: str, delivered_at: str) -> dict[str, Any]:
        receiver, outbound_body = plan.receiver, plan.outbound_body
        return {
            "type": "carbonlink-receipt", "version": 1, "receipt_id": str(uuid.uuid4()),
            "gateway": self.signer.issuer, "message_id": message_id, "kind": kind.value,
            "outcome": answer.verdict,
            "sender": {"id": sender.id, "party": sender.party, "registry": sender.party_registry_id},
            "receiver": {"id": receiver.id, "party": receiver.party, "registry": receiver.party_registry_id},
            "inbound": {"sha256": inbound_digest, "bytes": len(body), "format": plan.source_format,
                        "medium": plan.source_medium.value},
            "outbound": {"sha256": sha256_hex(outbound_body), "bytes": len(outbound_body),
                         "format": plan.target_format or receiver.format, "medium": plan.target_medium.value},
            "receiver_answer": {"status": answer.status, "sha256": sha256_hex(answer.body),
                                "signature": answer.signature, "attempts": answer.attempts,
                                "body": _without_floats(answer.document)},
            "losses": [loss.as_dict() for loss in plan.losses],
            "warnings": [f.as_dict() for f in plan.findings[:MAX_RECEIPT_WARNINGS]],
            "warnings_total": len(plan.findings),
            "received_at": received_at, "delivered_at": delivered_at, "answered_at": utc_timestamp(),
            "request_sha256_b64": sha256_b64(body),
        }

    def seal(self, receipt: dict[str, Any]) -> tuple[bytes, str]:
        """The receipt's bytes and the gateway's detached signature over them."""
        body = receipt_bytes(receipt)
        return body, self.signer.sign(body, typ=RECEIPT_TYP)

    def record(self, claim: Claim, exchange: Exchange, stored: dict[str, Any]) -> None:
        """Evidence first, then the idempotency record: a receipt is only handed out once it is on record."""
        try:
            self.evidence.append(exchange)
            self.idempotency.complete(claim, stored)
        except BaseException:
            self.idempotency.release(claim)
            raise

    def record_fault(self, sender: Participant, receiver_id: str | None, kind: MessageKind, message_id: str,
                     inbound_digest: str, exc: UpstreamError) -> None:
        """A delivery that failed, on record (no receipt); a failure to record it is logged, not raised."""
        try:
            self.evidence.append(Exchange(
                kind=kind.value, sender=sender.id, receiver=receiver_id or "-",
                message_id=message_id, inbound_sha256=inbound_digest, outbound_sha256=None, receipt=None,
                verdicts={"outcome": "fault", "code": exc.code, "detail": exc.message[:500]}))
        except CarbonlinkError:
            log.exception("could not record a delivery fault in the evidence log")

"""Receipts and the record of every exchange: the receipt a sender gets, sealed (signed) and put on
record in the evidence log, which answers retries with it (and the idempotency store too, once a retry
after the claim's lease has completed the claim with it).

The evidence log, not the idempotency store, is where a receipt lives: it holds one receipt per
``(sender, message id)`` (:meth:`EvidenceLog.append_receipt`), with the gateway's signature over it,
so whatever happens to a claim (a store that lost it, a lease that expired, a complete that failed)
the message's receipt is the one on record, byte for byte. Before delivering, the recorder puts the
intent on record (``outcome: delivering``): the delivery is on record even if the gateway dies
during it, and an evidence log that cannot be written refuses the message before anything is
delivered.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from gateway.digests import sha256_b64, sha256_hex
from gateway.evidence.log import EvidenceLog
from gateway.evidence.record import EvidenceRecord, Exchange, utc_timestamp
from gateway.idempotency.store import Claim, IdempotencyConflict, IdempotencyError, IdempotencyStore
from gateway.protocol import MessageKind
from gateway.transfers._health import EVIDENCE, IDEMPOTENCY, StoreHealth
from gateway.transfers._plan import Plan
from gateway.transfers._signer import RECEIPT_TYP, DetachedSigner
from gateway.transfers.delivery import Answer
from gateway.trust.directory import Participant
from standards.errors import CarbonlinkError

log = logging.getLogger("carbonlink.transfers")

#: A receipt lists at most this many validation warnings (``warnings_total`` counts them all).
MAX_RECEIPT_WARNINGS = 50
#: ``verdicts.outcome`` of the record written before a delivery.
DELIVERING = "delivering"
#: The ``verdicts`` member that keeps the gateway's signature over the receipt of a receipted record.
RECEIPT_SIGNATURE = "receipt_signature"


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


def _delivery_left(records: list[EvidenceRecord], within: float) -> float | None:
    """Seconds left of the delivery ``records`` (one message's, in order) show under way: the latest is an
    intent made less than ``within`` seconds ago."""
    if not records or records[-1].verdicts.get("outcome") != DELIVERING:
        return None
    started = datetime.strptime(records[-1].ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    left = within - (datetime.now(UTC) - started).total_seconds()
    return left if left > 0 else None


class Recorder:
    """Writes receipts and keeps the evidence log and the idempotency store in step."""

    def __init__(self, *, evidence: EvidenceLog, idempotency: IdempotencyStore, signer: DetachedSigner,
                 health: StoreHealth | None = None) -> None:
        self.evidence = evidence
        self.idempotency = idempotency
        self.signer = signer
        self.health = health or StoreHealth()

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
            **({"units": [dict(u) for u in plan.units]} if plan.units else {}),
        }

    def seal(self, receipt: dict[str, Any]) -> tuple[bytes, str]:
        """The receipt's bytes and the gateway's detached signature over them."""
        body = receipt_bytes(receipt)
        return body, self.signer.sign(body, typ=RECEIPT_TYP)

    def stored(self, record: EvidenceRecord) -> dict[str, Any]:
        """What a retry of the message gets: the receipt on record and the signature made over it
        when it was recorded (records written before the signature was kept are signed again)."""
        assert record.receipt is not None
        signature = record.verdicts.get(RECEIPT_SIGNATURE)
        if not isinstance(signature, str):
            signature = self.seal(record.receipt)[1]
        return {"status": 200, "receipt": record.receipt, "signature": signature}

    def recorded(self, sender: str, message_id: str, inbound_digest: str) -> dict[str, Any] | None:
        """The receipt of the message on record, if it has one (it was delivered and receipted, even if
        the idempotency store forgot it); :class:`IdempotencyConflict` if it was another body."""
        with self.health.watch(EVIDENCE):
            record = self.evidence.find_receipt(sender, message_id)
        if record is None:
            return None
        if record.inbound_sha256 != inbound_digest:
            raise IdempotencyConflict(f"message id {message_id!r} from {sender!r} was already used with a "
                                      "different body; send a new message id for a new message")
        return self.stored(record)

    def lookup(self, sender: str, message_id: str, inbound_digest: str, within: float
               ) -> tuple[dict[str, Any] | None, float | None]:
        """What the evidence log holds about the message, in one read: its receipt on record (as
        :meth:`recorded`: :class:`IdempotencyConflict` if it was another body), and otherwise the seconds
        left of a delivery of it still under way (as :meth:`delivering`)."""
        with self.health.watch(EVIDENCE):
            records = self.evidence.find(sender, message_id)
        receipted = next((r for r in records if r.receipt is not None), None)
        if receipted is not None:
            if receipted.inbound_sha256 != inbound_digest:
                raise IdempotencyConflict(f"message id {message_id!r} from {sender!r} was already used with a "
                                          "different body; send a new message id for a new message")
            return self.stored(receipted), None
        return None, _delivery_left(records, within)

    def delivering(self, sender: str, message_id: str, within: float) -> float | None:
        """Seconds left of a delivery of the message still under way, by the evidence log: its latest
        record is an intent made less than ``within`` seconds ago (by the record's time, so gateways
        sharing a log need clocks in step). Catches a delivery whose claim the idempotency store lost."""
        with self.health.watch(EVIDENCE):
            records = self.evidence.find(sender, message_id)
        return _delivery_left(records, within)

    def adopt(self, claim: Claim, stored: dict[str, Any]) -> None:
        """Complete ``claim`` with the receipt already on record (a failure is logged: the receipt
        stays the one on record, and the next retry finds it there again)."""
        try:
            with self.health.watch(IDEMPOTENCY):
                self.idempotency.complete(claim, stored)
        except IdempotencyError as exc:
            log.warning("the idempotency claim was not completed with the receipt on record (%s); retries are "
                        "answered from the evidence log", exc.code,
                        extra={"message_id": claim.message_id, "sender": claim.sender, "code": exc.code})

    def intend(self, sender: Participant, kind: MessageKind, message_id: str, inbound_digest: str,
               plan: Plan, verdicts: dict[str, Any] | None = None) -> None:
        """Put the delivery about to be made on record (with ``verdicts``: the transaction controls' decision);
        raises (nothing is delivered) if the log cannot be written."""
        with self.health.watch(EVIDENCE):
            self.evidence.append(self.intent(sender, kind, message_id, inbound_digest, plan, verdicts))

    @staticmethod
    def intent(sender: Participant, kind: MessageKind, message_id: str, inbound_digest: str, plan: Plan,
               verdicts: dict[str, Any] | None = None) -> Exchange:
        """The evidence record of a delivery about to be made (with the transaction controls' verdicts)."""
        return Exchange(kind=kind.value, sender=sender.id, receiver=plan.receiver.id, message_id=message_id,
                        inbound_sha256=inbound_digest, outbound_sha256=sha256_hex(plan.outbound_body), receipt=None,
                        verdicts={"outcome": DELIVERING, **verdicts} if verdicts else {"outcome": DELIVERING})

    def record(self, claim: Claim, exchange: Exchange, stored: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Put the receipt on record; return the receipt in force and whether it is an earlier one (another
        request recorded this message's receipt first).

        A receipt is only handed out once it is on record, and the record is the message's receipt: the
        claim is not completed here (one write per outcome, the durable one). It stays held for its lease,
        so a retry meanwhile is told IN_PROGRESS by the store and answered from the evidence log's receipt
        (:meth:`lookup`); after the lease the first retry claims the message anew, finds the receipt and
        completes the claim with it (:meth:`adopt`), so later retries are answered by the store alone.
        """
        try:
            with self.health.watch(EVIDENCE):
                record = self.evidence.append_receipt(exchange)
        except BaseException:
            self.release(claim)
            raise
        earlier = record.receipt != exchange.receipt
        return (self.stored(record) if earlier else stored), earlier

    def release(self, claim: Claim) -> None:
        """Give the claim up after a delivery that did not happen (or is not acknowledged); a store
        that cannot release it lets it expire after its lease."""
        try:
            with self.health.watch(IDEMPOTENCY):
                self.idempotency.release(claim)
        except IdempotencyError as exc:
            log.warning("the idempotency claim was not released (%s); it expires after its lease", exc.code,
                        extra={"message_id": claim.message_id, "sender": claim.sender, "code": exc.code})

    def record_fault(self, sender: Participant, receiver_id: str | None, kind: MessageKind, message_id: str,
                     inbound_digest: str, exc: CarbonlinkError) -> None:
        """A delivery that failed, on record (no receipt); a failure to record it is logged, not raised."""
        try:
            self.evidence.append(Exchange(
                kind=kind.value, sender=sender.id, receiver=receiver_id or "-",
                message_id=message_id, inbound_sha256=inbound_digest, outbound_sha256=None, receipt=None,
                verdicts={"outcome": "fault", "code": exc.code, "detail": exc.message[:500]}))
        except CarbonlinkError as exc:
            if exc.code == "EVIDENCE.STORE_UNAVAILABLE":
                self.health.failed(EVIDENCE, exc)
            log.warning("could not record a delivery fault in the evidence log (%s): %s", exc.code, exc.message)

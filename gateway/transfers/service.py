"""The transfer path: authenticate, check, validate, translate, sign, deliver, receipt, record.

:meth:`TransferService.submit` is the whole pipeline for one message from a registry, run by
collaborators it is given: planners (Article 6 actions, crediting-programme blocks, notices) that
check, route and translate, a signer, the delivery client and a recorder that writes receipts,
evidence and idempotency records. It keeps no transfer state: the registries do. What it keeps is
the idempotency record (so a retry gets the original receipt and a message is delivered once) and
the evidence log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gateway.digests import sha256_hex
from gateway.evidence.record import Exchange, utc_timestamp
from gateway.idempotency.store import Claim, ClaimState, IdempotencyStore
from gateway.protocol import MESSAGE_ID, MESSAGE_ID_HEADER, MESSAGE_ID_RULE, MessageKind
from gateway.transfers._health import IDEMPOTENCY, StoreHealth
from gateway.transfers._http import DeliveryHttp, PooledHttp
from gateway.transfers._plan import DocumentPlanner, NoticePlanner, Plan, TransferControls, quantity_of
from gateway.transfers._recorder import RECEIPT_SIGNATURE, Recorder, receipt_bytes
from gateway.transfers._signer import DetachedSigner
from gateway.transfers._translator import CANONICAL_CONTENT_TYPE, MEDIA_TYPES, Translator
from gateway.transfers.delivery import Answer, deliver
from gateway.transfers.errors import KindNotAllowed, MessageIdInvalid, UpstreamError
from gateway.transfers.metrics import METRICS
from gateway.transfers.settings import TransferSettings
from gateway.trust.directory import Participant
from gateway.trust.outbound import OutboundClient
from standards.errors import CarbonlinkError, ValidationFailed

__all__ = ["CANONICAL_CONTENT_TYPE", "MEDIA_TYPES", "Outcome", "TransferService"]

log = logging.getLogger("carbonlink.transfers")

@dataclass(slots=True)
class Outcome:
    """What the HTTP layer sends back: the receipt bytes, its signature and the status."""

    status: int
    body: bytes
    signature: str
    replayed: bool = False
    receipt: dict[str, Any] = field(default_factory=dict)


class TransferService:
    """Everything one gateway process needs to relay messages.

    ``planners`` take documents the sender's adapter reads (asked in order; the first that accepts a
    document plans it); ``notices`` takes the notice kinds. ``controls`` (the governance policy's
    transaction controls, when configured) decide on every message before it is put on record and delivered.
    """

    def __init__(self, *, settings: TransferSettings, translator: Translator, planners: Sequence[DocumentPlanner],
                 notices: NoticePlanner, signer: DetachedSigner, recorder: Recorder, idempotency: IdempotencyStore,
                 outbound: OutboundClient, http: DeliveryHttp | None = None,
                 controls: TransferControls | None = None) -> None:
        self.settings = settings
        self.translator = translator
        self.planners = tuple(planners)
        self.notices = notices
        self.signer = signer
        self.recorder = recorder
        self.idempotency = idempotency
        self.outbound = outbound
        self.http = http or PooledHttp()
        self.controls = controls

    @property
    def health(self) -> StoreHealth:
        """Which of the transfer path's stores are failing (shown by ``/healthz``)."""
        return self.recorder.health

    def close(self) -> None:
        """Close the outbound client and the stores."""
        self.http.close()
        self.idempotency.close()
        self.recorder.evidence.close()
        if self.controls is not None:
            self.controls.close()

    def submit(self, sender: Participant, kind: MessageKind, message_id: str, body: bytes,
               content_type: str | None, receiver_hint: str | None = None, approvals: Sequence[str] = ()) -> Outcome:
        """Relay one message from ``sender``; return the signed receipt (or raise a coded error).

        ``approvals``: officers' approvals the message carries (four eyes, docs/governance.md). Blocking: the
        HTTP layer runs it in a worker thread.
        """
        started = time.perf_counter()
        received_at = utc_timestamp()
        if kind not in sender.message_kinds:
            raise KindNotAllowed(f"{sender.id!r} may not send {kind.value} messages (directory)")
        if not MESSAGE_ID.match(message_id or ""):
            raise MessageIdInvalid(f"{MESSAGE_ID_HEADER} must be {MESSAGE_ID_RULE} starting with a letter or digit")
        inbound_digest = sha256_hex(body)
        claim = self._claim(sender, kind, message_id, inbound_digest)
        if not isinstance(claim, Claim):
            return claim
        plan: Plan | None = None
        intended = False
        try:
            plan = self.plan(sender, kind, body, content_type, receiver_hint)
            decision = None if self.controls is None else self.controls.decide(
                sender, kind, message_id, inbound_digest, plan.receiver, plan.quantity, approvals)
            self.recorder.intend(sender, kind, message_id, inbound_digest, plan,
                                 None if decision is None else decision.verdicts())
            intended = True
            delivered_at = utc_timestamp()
            answer = self._deliver(sender, kind, message_id, plan)
        except UpstreamError as exc:
            receiver_id = plan.receiver.id if plan else None
            self._give_back(claim)
            self.recorder.record_fault(sender, receiver_id, kind, message_id, inbound_digest, exc)
            METRICS.faults.labels(receiver_id or "-", kind.value, exc.code).inc()
            log.warning("delivery failed", extra={"message_id": message_id, "sender": sender.id, "kind": kind.value,
                                                  "receiver": receiver_id, "code": exc.code,
                                                  "detail": exc.message})
            raise
        except CarbonlinkError as exc:
            self._give_back(claim)
            if intended:  # the intent on record is closed, so it holds no retry back
                self.recorder.record_fault(sender, plan.receiver.id if plan else None, kind, message_id,
                                           inbound_digest, exc)
            METRICS.rejections.labels(sender.id, kind.value, exc.code).inc()
            log.info("refused", extra={"message_id": message_id, "sender": sender.id, "kind": kind.value,
                                       "code": exc.code, "detail": exc.message})
            raise
        except BaseException:
            self._give_back(claim)
            raise
        receiver = plan.receiver
        receipt = self.recorder.receipt(sender, kind, message_id, body, inbound_digest, plan, answer,
                                        received_at, delivered_at)
        receipt_body, receipt_signature = self.recorder.seal(receipt)
        status = 200
        exchange = Exchange(
            kind=kind.value, sender=sender.id, receiver=receiver.id, message_id=message_id,
            inbound_sha256=inbound_digest, outbound_sha256=receipt["outbound"]["sha256"], receipt=receipt,
            verdicts={"outcome": receipt["outcome"], "receiver_status": answer.status,
                      "receiver_code": answer.document.get("code"), "warnings": len(plan.findings),
                      "losses": len(plan.losses), RECEIPT_SIGNATURE: receipt_signature})
        stored, earlier = self.recorder.record(claim, exchange, {"status": status, "receipt": receipt,
                                                                 "signature": receipt_signature})
        if earlier:  # another request recorded this message's receipt first: that one is the receipt
            return self._replay(sender, kind, message_id, stored)
        METRICS.messages.labels(receiver.id, kind.value, receipt["outcome"]).inc()
        METRICS.latency.labels(receiver.id, kind.value).observe(time.perf_counter() - started)
        log.info("relayed", extra={"message_id": message_id, "sender": sender.id, "receiver": receiver.id,
                                   "kind": kind.value, "outcome": receipt["outcome"]})
        return Outcome(status, receipt_body, receipt_signature, receipt=receipt)

    def _give_back(self, claim: Claim) -> None:
        """Release the claim of a message that is not relayed, and what the controls reserved for it."""
        self.recorder.release(claim)
        if self.controls is not None:
            self.controls.release(claim.sender, claim.message_id)

    def _claim(self, sender: Participant, kind: MessageKind, message_id: str, inbound_digest: str
               ) -> Claim | Outcome:
        """A NEW claim on the message, or the outcome of a message already receipted.

        The idempotency store answers first; a message it does not know as done (a claim it lost, one
        whose lease expired, one still held for its lease after its receipt was recorded: the recorder
        does not complete claims) is looked up in the evidence log, whose receipt is the message's receipt.
        """
        with self.health.watch(IDEMPOTENCY):
            claim = self.idempotency.claim(sender.id, message_id, inbound_digest)
        if claim.state is ClaimState.DONE:
            assert claim.receipt is not None
            return self._replay(sender, kind, message_id, claim.receipt)
        if claim.state is ClaimState.CONFLICT:
            claim.raise_unless_new()
        try:
            stored, left = self.recorder.lookup(sender.id, message_id, inbound_digest, self.idempotency.lease_seconds)
        except BaseException:
            if claim.state is ClaimState.NEW:
                self.recorder.release(claim)
            raise
        if stored is None:
            claim.raise_unless_new()
            return self._unless_delivering(claim, left)
        if claim.state is ClaimState.NEW:
            self.recorder.adopt(claim, stored)
        return self._replay(sender, kind, message_id, stored)

    def _unless_delivering(self, claim: Claim, left: float | None) -> Claim:
        """``claim``, unless the evidence log shows a delivery of the message under way (``left`` seconds
        of it: the store lost that delivery's claim, e.g. Redis restarted without persistence): then 409
        IN_PROGRESS."""
        if left is None:
            return claim
        self.recorder.release(claim)
        return Claim(ClaimState.IN_PROGRESS, claim.sender, claim.message_id, claim.body_sha256,
                     retry_after=left).raise_unless_new()

    def _replay(self, sender: Participant, kind: MessageKind, message_id: str, stored: dict[str, Any]) -> Outcome:
        """The message's receipt, as first handed out (byte for byte, with its signature)."""
        METRICS.replays.labels(sender.id, kind.value).inc()
        log.info("replayed receipt", extra={"message_id": message_id, "sender": sender.id, "kind": kind.value})
        return Outcome(int(stored["status"]), receipt_bytes(stored["receipt"]), str(stored["signature"]),
                       replayed=True, receipt=stored["receipt"])

    def plan(self, sender: Participant, kind: MessageKind, body: bytes, content_type: str | None,
             receiver_hint: str | None) -> Plan:
        """Everything before delivery: read, check, find the receiver, translate (by the planner that
        takes the message)."""
        if kind in self.notices.kinds:
            return self.notices.plan(sender, kind, body, content_type, receiver_hint)
        message = self.translator.read(sender, body, content_type)
        for planner in self.planners:
            if planner.accepts(message.document):
                plan = planner.plan(sender, kind, message, receiver_hint)
                return plan if self.controls is None else replace(plan, quantity=quantity_of(message.document))
        raise ValidationFailed("no planner of this gateway takes the message", findings=message.findings)

    def _deliver(self, sender: Participant, kind: MessageKind, message_id: str, plan: Plan) -> Answer:
        """Sign the outbound body and deliver it to the plan's receiver."""
        signature = self.signer.sign(plan.outbound_body)
        return deliver(self.http, self.outbound, plan.receiver, body=plan.outbound_body,
                       content_type=MEDIA_TYPES[plan.target_medium], message_id=message_id, sender=sender.id,
                       kind=kind.value, signature=signature, policy=self.settings.policy_for(plan.receiver.id))

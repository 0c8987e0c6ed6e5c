"""How MRV messages ride the transfer path without changing it: a transfer service that lets the MRV planner plan
the MRV kinds, puts each MRV message on record in the MRV store before delivery (a report takes its project's
period then), checks the registry's issuance notice in its answer to a request, and records the gateway's signed
record of every relayed MRV message once it is receipted."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson

from gateway.digests import sha256_hex
from gateway.evidence.record import Exchange
from gateway.mrv._documents import digest_of, read_value
from gateway.mrv._planner import MrvPlan, MrvPlanner
from gateway.mrv._records import MESSAGE_RECORD_TYP, NOTICE_RECORD_TYP, sign_record
from gateway.mrv._store import ACCEPTED, REJECTED, MrvStore, StoredNotice
from gateway.mrv.errors import BlockQuantity
from gateway.protocol import MRV_KINDS, MessageKind
from gateway.transfers import Plan, TransferService
from gateway.transfers.delivery import Answer
from gateway.transfers.service import Outcome
from gateway.trust.directory import Participant
from gateway.trust.keys import SigningKeyRing
from standards.errors import CarbonlinkError
from standards.mrv import IssuanceNotice, IssuanceRequest
from standards.mrv import check_notice as check_mrv_notice
from standards.mrv.rules import finding
from standards.safeio import decode_text

log = logging.getLogger("carbonlink.mrv")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def block_key(notice: IssuanceNotice) -> str:
    """How ``carbonlink mrv trail`` names a block: the registry's serial text, else ``registry:first-last``."""
    return notice.block.serial or f"{notice.registry}:{notice.block.first}-{notice.block.last}"


def check_notice(request: IssuanceRequest, request_digest: str, receiver: Participant, answer: Answer
                 ) -> IssuanceNotice:
    """The issuance notice in a registry's answer accepting a request: it names the request, the registry, the
    project and vintage, and a block of exactly the requested quantity (BlockQuantity, 502, otherwise)."""
    raw = answer.document.get("notice")
    if not isinstance(raw, dict):
        raise BlockQuantity(f"registry {receiver.id!r} accepted issuance request {request.request_id!r} without an "
                            "issuance notice in its answer ('notice')")
    try:
        notice = read_value(IssuanceNotice, raw)
    except CarbonlinkError as exc:
        refused = BlockQuantity(f"the issuance notice of {receiver.id!r} is not a valid IssuanceNotice: "
                                f"{exc.findings[0].message if exc.findings else exc.message}")
        refused.findings = exc.findings
        raise refused from exc
    assert isinstance(notice, IssuanceNotice)
    findings = check_mrv_notice(request, notice, request_digest=request_digest)
    if notice.registry != receiver.id:
        findings.append(finding("MRV.NOTICE_MISMATCH", ("registry",), f"the notice names registry {notice.registry!r}"
                                f", but {receiver.id!r} answered"))
    errors = [f for f in findings if f.is_error]
    if errors:
        refused = BlockQuantity(f"the issuance notice of {receiver.id!r} is refused: "
                                f"{'; '.join(f'{f.rule}: {f.message}' for f in errors)}")
        refused.findings = findings
        raise refused
    return notice


class MrvTransferService(TransferService):
    """The transfer service with the MRV kinds (see module docstring)."""

    mrv: MrvPlanner
    keyring: SigningKeyRing

    def equip(self, planner: MrvPlanner, keyring: SigningKeyRing) -> MrvTransferService:
        self.mrv = planner
        self.keyring = keyring
        self._local = threading.local()
        return self

    @property
    def store(self) -> MrvStore:
        return self.mrv.store

    def close(self) -> None:
        super().close()
        self.store.close()

    def submit(self, sender: Participant, kind: MessageKind, message_id: str, body: bytes,
               content_type: str | None, receiver_hint: str | None = None, approvals: Sequence[str] = ()) -> Outcome:
        if kind not in MRV_KINDS:
            return super().submit(sender, kind, message_id, body, content_type, receiver_hint, approvals)
        self._local.message_id, self._local.claimed = message_id, False
        try:
            outcome = super().submit(sender, kind, message_id, body, content_type, receiver_hint, approvals)
        except BaseException:
            if self._local.claimed:  # this request put the message on record: it was not relayed after all
                try:
                    self.store.release(sender.id, message_id)
                except CarbonlinkError as exc:
                    log.warning("an MRV message not relayed stays on record as delivering (%s)", exc.code)
            raise
        self._settle(sender, kind, message_id, outcome)
        return outcome

    def plan(self, sender: Participant, kind: MessageKind, body: bytes, content_type: str | None,
             receiver_hint: str | None) -> Plan:
        if kind not in MRV_KINDS:
            return super().plan(sender, kind, body, content_type, receiver_hint)
        plan = self.mrv.plan(sender, kind, body, content_type, receiver_hint)
        assert plan.stored is not None
        stored = replace(plan.stored, message_id=self._local.message_id, body=decode_text(body, what=kind.value))
        self.store.claim(stored)
        self._local.claimed = True
        return replace(plan, stored=stored)

    def _deliver(self, sender: Participant, kind: MessageKind, message_id: str, plan: Plan) -> Answer:
        answer = super()._deliver(sender, kind, message_id, plan)
        if kind is MessageKind.ISSUANCE_REQUESTS and isinstance(plan, MrvPlan) and answer.verdict == "accepted":
            assert isinstance(plan.document, IssuanceRequest)
            notice = check_notice(plan.document, digest_of(plan.document), plan.receiver, answer)
            self._record_notice(sender, message_id, plan, notice, answer)
        return answer

    def _record_notice(self, sender: Participant, message_id: str, plan: MrvPlan, notice: IssuanceNotice,
                       answer: Answer) -> None:
        """The notice on record: in the MRV store with the gateway's signed record, and in the evidence log."""
        assert isinstance(plan.document, IssuanceRequest)
        digest, request_digest, block = digest_of(notice), digest_of(plan.document), block_key(notice)
        claims: dict[str, Any] = {"registry": plan.receiver.id, "request_digest": request_digest, "digest": digest,
                  "block": block, "first": notice.block.first, "last": notice.block.last,
                  "answer_sha256": sha256_hex(answer.body), "registry_jwks": plan.receiver.jwks,
                  "request_sender": sender.id, "request_message_id": message_id, "recorded_at": _now()}
        record = sign_record(self.keyring, NOTICE_RECORD_TYP, claims)
        self.store.add_notice(StoredNotice(request_digest, digest, plan.receiver.id, block,
                                           notice.block.first, notice.block.last,
                                           orjson.dumps(notice.model_dump(mode="json")).decode(),
                                           answer.body.decode("utf-8"), answer.signature, record))
        self.recorder.evidence.append(Exchange(
            kind=MessageKind.ISSUANCE_NOTICES.value, sender=plan.receiver.id, receiver=sender.id,
            message_id=f"{message_id}/notice", inbound_sha256=sha256_hex(answer.body), outbound_sha256=None,
            receipt=None, verdicts={"outcome": "issued", "block": claims["block"], "quantity": notice.quantity,
                                    "notice_digest": digest, "request_digest": request_digest,
                                    "registry_signature": answer.signature}))

    def _settle(self, sender: Participant, kind: MessageKind, message_id: str, outcome: Outcome) -> None:
        """The receiver's verdict and the gateway's signed record, once the message is receipted (a retry settles
        a message whose first request stopped in between)."""
        stored = self.store.message(sender.id, message_id)
        if stored is None or stored.status != "delivering":
            return
        receipt: dict[str, Any] = outcome.receipt
        status = ACCEPTED if receipt.get("outcome") == "accepted" else REJECTED
        claims = {"kind": kind.value, "sender": sender.id, "receiver": stored.receiver, "message_id": message_id,
                  "digest": stored.digest, "cites": stored.cites, "body_sha256": sha256_hex(stored.body.encode()),
                  "outcome": status, "receipt_id": receipt.get("receipt_id"),
                  "receipt_sha256": sha256_hex(outcome.body), "recorded_at": _now()}
        record = sign_record(self.keyring, MESSAGE_RECORD_TYP, claims)
        self.store.settle(sender.id, message_id, status, record, outcome.body.decode("utf-8"), outcome.signature)

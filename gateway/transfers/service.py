"""The transfer path: authenticate, check, validate, translate, sign, deliver, receipt, record.

:meth:`TransferService.submit` is the whole pipeline for one message from a registry. It keeps
no transfer state: the registries do. What it keeps is the idempotency record (so a retry gets
the original receipt and a message is delivered once) and the evidence log.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import orjson

from adapters import AdapterCatalog, default_catalog
from gateway.evidence.log import EvidenceLog
from gateway.evidence.record import Exchange, utc_timestamp
from gateway.idempotency.store import Claim, ClaimState, IdempotencyStore
from gateway.transfers.crediting import is_crediting_transfer, plan_crediting
from gateway.transfers.delivery import Answer, deliver
from gateway.transfers.errors import (
    KindMismatch,
    KindNotAllowed,
    MessageIdInvalid,
    OutputInvalid,
    ReceiverUnknown,
    SenderMismatch,
    UpstreamError,
)
from gateway.transfers.metrics import METRICS
from gateway.transfers.notices import NOTICE_KINDS, plan_notice
from gateway.transfers.settings import TransferSettings
from gateway.trust import jose
from gateway.trust.directory import DirectoryStore, Participant
from gateway.trust.keys import SigningKeyRing
from gateway.trust.outbound import OutboundClient, sha256_b64
from standards.codec import Loss, Medium, MessageKind
from standards.errors import CarbonlinkError, ValidationFailed
from standards.findings import Finding
from standards.model import Action, ActionType, CanonicalDocument

log = logging.getLogger("carbonlink.transfers")

CANONICAL_CONTENT_TYPE = "application/vnd.carbonlink.canonical+json"
RECEIPT_TYP = "carbonlink-receipt+jws"
#: A receipt lists at most this many validation warnings (``warnings_total`` counts them all).
MAX_RECEIPT_WARNINGS = 50
#: Outbound connections kept per gateway process.
OUTBOUND_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=64)
MESSAGE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$")
MEDIA_TYPES = {Medium.JSON: "application/json", Medium.CSV: "text/csv", Medium.XML: "application/xml",
                Medium.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_FROM_CONTENT_TYPE = {v: k for k, v in MEDIA_TYPES.items()}
#: Actions that move units from the sender to a receiver.
OUTGOING_ACTIONS = (ActionType.FIRST_TRANSFER, ActionType.TRANSFER)
#: The actions each message kind may carry (kinds not listed carry any action).
KIND_ACTIONS: dict[MessageKind, frozenset[ActionType]] = {
    MessageKind.TRANSFERS: frozenset({ActionType.FIRST_TRANSFER, ActionType.TRANSFER}),
    MessageKind.CANCELLATIONS: frozenset({ActionType.CANCELLATION, ActionType.VOLUNTARY_CANCELLATION}),
    MessageKind.RETIREMENTS: frozenset({ActionType.RETIREMENT, ActionType.USE}),
    MessageKind.AUTHORIZATIONS: frozenset({ActionType.AUTHORIZATION}),
}


def counterpart_party(action: Action) -> str | None:
    """The Party on the other side of an action: the acquiring Party of a (first) transfer, the
    transferring Party of an acquisition (the acquirer's registry reports it to the registry the units
    came from); None for actions with no other side (uses, cancellations, authorizations)."""
    if action.action_type is ActionType.ACQUISITION:
        return action.transferring_party
    return action.acquiring_party


def _without_floats(value: Any) -> Any:
    """Receipts are canonical JSON (no binary floats): a float from a registry is kept as its text."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: _without_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_floats(v) for v in value]
    return value


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_bytes(doc: dict[str, Any]) -> bytes:
    """The exact bytes a receipt is signed over (sorted keys, no whitespace)."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True, slots=True)
class _Plan:
    """A message made ready for delivery."""

    source_format: str
    source_medium: Medium
    receiver: Participant
    outbound_body: bytes
    target_medium: Medium
    losses: list[Loss]
    findings: list[Finding]
    signature: str
    #: The format of ``outbound_body`` when it is not the receiver's (notices: always notice JSON).
    target_format: str | None = None


@dataclass(slots=True)
class Outcome:
    """What the HTTP layer sends back: the receipt bytes, its signature and the status."""

    status: int
    body: bytes
    signature: str
    replayed: bool = False
    receipt: dict[str, Any] = field(default_factory=dict)


class TransferService:
    """Everything one gateway process needs to relay messages."""

    def __init__(self, *, settings: TransferSettings, directory: DirectoryStore, outbound: OutboundClient,
                 keyring: SigningKeyRing, idempotency: IdempotencyStore, evidence: EvidenceLog, issuer: str,
                 adapters: AdapterCatalog | None = None, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self.directory = directory
        self.outbound = outbound
        self.keyring = keyring
        self.idempotency = idempotency
        self.evidence = evidence
        self.issuer = issuer
        self.adapters = adapters or default_catalog()
        self.http = http or httpx.Client(follow_redirects=False, limits=OUTBOUND_LIMITS)

    # -- the pipeline -------------------------------------------------------------------------

    def submit(self, sender: Participant, kind: MessageKind, message_id: str, body: bytes,
               content_type: str | None, receiver_hint: str | None = None) -> Outcome:
        """Relay one message from ``sender``; return the signed receipt (or raise a coded error).

        Blocking: the HTTP layer runs it in a worker thread.
        """
        started = time.perf_counter()
        received_at = utc_timestamp()
        if kind not in sender.message_kinds:
            raise KindNotAllowed(f"{sender.id!r} may not send {kind.value} messages (directory)")
        if not MESSAGE_ID.match(message_id or ""):
            raise MessageIdInvalid("Carbonlink-Message-Id must be 1-200 characters of A-Z a-z 0-9 . _ : @ / + = - "
                                   "starting with a letter or digit")
        inbound_digest = sha256_hex(body)
        claim = self.idempotency.claim(sender.id, message_id, inbound_digest).raise_unless_new()
        if claim.state is ClaimState.DONE:
            assert claim.receipt is not None
            METRICS.replays.labels(sender.id, kind.value).inc()
            log.info("replayed receipt", extra={"message_id": message_id, "sender": sender.id, "kind": kind.value})
            stored = claim.receipt
            return Outcome(int(stored["status"]), canonical_bytes(stored["receipt"]), str(stored["signature"]),
                           replayed=True, receipt=stored["receipt"])
        plan: _Plan | None = None
        try:
            plan = self._plan(sender, kind, body, content_type, receiver_hint)
            delivered_at = utc_timestamp()
            answer = deliver(self.http, self.outbound, plan.receiver, body=plan.outbound_body,
                                   content_type=MEDIA_TYPES[plan.target_medium], message_id=message_id,
                                   sender=sender.id, kind=kind.value, signature=plan.signature,
                                   policy=self.settings.policy_for(plan.receiver.id))
        except UpstreamError as exc:
            receiver_id = plan.receiver.id if plan else None
            self.idempotency.release(claim)
            self._record_fault(sender, receiver_id, kind, message_id, inbound_digest, exc)
            METRICS.faults.labels(receiver_id or "-", kind.value, exc.code).inc()
            log.warning("delivery failed", extra={"message_id": message_id, "sender": sender.id, "kind": kind.value,
                                                  "receiver": receiver_id, "code": exc.code,
                                                  "detail": exc.message})
            raise
        except CarbonlinkError as exc:
            self.idempotency.release(claim)
            METRICS.rejections.labels(sender.id, kind.value, exc.code).inc()
            log.info("refused", extra={"message_id": message_id, "sender": sender.id, "kind": kind.value,
                                       "code": exc.code, "detail": exc.message})
            raise
        except BaseException:
            self.idempotency.release(claim)
            raise
        receiver = plan.receiver
        receipt = self._receipt(sender, receiver, kind, message_id, body, inbound_digest, plan, answer,
                                received_at, delivered_at)
        receipt_body = canonical_bytes(receipt)
        receipt_signature = self._sign_detached(receipt_body, typ=RECEIPT_TYP)
        status = 200
        exchange = Exchange(
            kind=kind.value, sender=sender.id, receiver=receiver.id, message_id=message_id,
            inbound_sha256=inbound_digest, outbound_sha256=receipt["outbound"]["sha256"], receipt=receipt,
            verdicts={"outcome": receipt["outcome"], "receiver_status": answer.status,
                      "receiver_code": answer.document.get("code"), "warnings": len(plan.findings),
                      "losses": len(plan.losses)})
        self._record(claim, exchange, {"status": status, "receipt": receipt, "signature": receipt_signature})
        METRICS.messages.labels(receiver.id, kind.value, receipt["outcome"]).inc()
        METRICS.latency.labels(receiver.id, kind.value).observe(time.perf_counter() - started)
        log.info("relayed", extra={"message_id": message_id, "sender": sender.id, "receiver": receiver.id,
                                   "kind": kind.value, "outcome": receipt["outcome"]})
        return Outcome(status, receipt_body, receipt_signature, receipt=receipt)

    def _plan(self, sender: Participant, kind: MessageKind, body: bytes, content_type: str | None,
              receiver_hint: str | None) -> _Plan:
        """Everything before delivery: parse, check, find the receiver, translate, sign."""
        if kind in NOTICE_KINDS:
            return plan_notice(self, sender, kind, body, content_type, receiver_hint)
        source_format, source_medium = self._source(sender, content_type)
        document, findings = self._parse(source_format, source_medium, body)
        if is_crediting_transfer(document):
            return plan_crediting(self, sender, kind, document, findings, (source_format, source_medium),
                                  receiver_hint)
        self._check_kind(kind, document)
        self._check_sender(sender, document)
        receiver = self._receiver(sender, document, kind, receiver_hint)
        outbound_body, target_medium, losses = self._translate(document, receiver)
        return _Plan(source_format, source_medium, receiver, outbound_body, target_medium, losses, findings,
                     self._sign_detached(outbound_body))

    def _record(self, claim: Claim, exchange: Exchange, stored: dict[str, Any]) -> None:
        """Evidence first, then the idempotency record: a receipt is only handed out once it is on record."""
        try:
            self.evidence.append(exchange)
            self.idempotency.complete(claim, stored)
        except BaseException:
            self.idempotency.release(claim)
            raise

    # -- steps --------------------------------------------------------------------------------

    def _source(self, sender: Participant, content_type: str | None) -> tuple[str, Medium]:
        media_type = (content_type or "").split(";")[0].strip().lower()
        if media_type == CANONICAL_CONTENT_TYPE:
            return "canonical", Medium.JSON
        adapter = self.adapters.get(sender.format)
        medium = _FROM_CONTENT_TYPE.get(media_type, adapter.media[0] if adapter.media else Medium.JSON)
        return sender.format, medium

    def _parse(self, source_format: str, medium: Medium, body: bytes) -> tuple[CanonicalDocument, list[Finding]]:
        adapter = self.adapters.get(source_format)
        result = adapter.parse(body, medium=medium)
        if not result.valid:
            raise ValidationFailed(f"the message is not valid {source_format} ({medium.value})",
                                   findings=result.findings)
        if not result.document.actions and not result.document.units:
            raise ValidationFailed("the message carries no actions or unit blocks to relay", findings=result.findings)
        return result.document, list(result.findings)

    @staticmethod
    def _check_kind(kind: MessageKind, document: CanonicalDocument) -> None:
        allowed = KIND_ACTIONS.get(kind)
        if allowed is None:
            return
        for index, action in enumerate(document.actions):
            if action.action_type not in allowed:
                raise KindMismatch(f"actions[{index}] is a {action.action_type.value}, which a {kind.value} message "
                                   f"cannot carry ({', '.join(sorted(a.value for a in allowed))})")

    @staticmethod
    def _check_sender(sender: Participant, document: CanonicalDocument) -> None:
        """The sender must be the registry the message says the units move from."""
        for index, action in enumerate(document.actions):
            where = f"actions[{index}]"
            if action.registry is None:
                raise SenderMismatch(f"{where} does not name the registry it is tracked in "
                                     "(Party ITMO registry ID); the gateway cannot check the sender")
            if action.registry != sender.party_registry_id:
                raise SenderMismatch(f"{where} is tracked in {action.registry}, but the sender {sender.id!r} "
                                     f"is registry {sender.party_registry_id}")
            if action.action_type is ActionType.FIRST_TRANSFER and action.first_transferring_party not in (
                    None, sender.party):
                raise SenderMismatch(f"{where} is a first transfer by {action.first_transferring_party}, "
                                     f"but the sender is a registry of {sender.party}")
            if action.action_type in OUTGOING_ACTIONS and action.acquiring_party == sender.party:
                raise SenderMismatch(f"{where} transfers to the sender's own Party {sender.party}")
            if action.action_type is ActionType.ACQUISITION and action.transferring_party == sender.party:
                raise SenderMismatch(f"{where} is an acquisition from the sender's own Party {sender.party}")

    def _receiver(self, sender: Participant, document: CanonicalDocument, kind: MessageKind,
                  hint: str | None) -> Participant:
        parties = {party for a in document.actions if (party := counterpart_party(a))}
        current = self.directory.current()
        if hint:
            receiver = current.get(hint)
            if receiver is None:
                raise ReceiverUnknown(f"Carbonlink-Receiver {hint!r} is not in the directory")
            if parties and parties != {receiver.party}:
                raise ReceiverUnknown(f"the message transfers to {', '.join(sorted(parties))}, but "
                                      f"{hint!r} is a registry of {receiver.party}")
        else:
            if len(parties) != 1:
                raise ReceiverUnknown("the message names no single other Party (acquiring, or transferring for an "
                                      "acquisition); name the receiving registry "
                                      "in the Carbonlink-Receiver header")
            party = next(iter(parties))
            candidates = [p for p in current.participants if p.party == party and p.id != sender.id and p.active
                          and kind in p.message_kinds]
            if len(candidates) != 1:
                raise ReceiverUnknown(f"{len(candidates)} active registries of {party} take {kind.value} messages; "
                                      "name the receiving registry in the Carbonlink-Receiver header")
            receiver = candidates[0]
        if receiver.id == sender.id:
            raise ReceiverUnknown("a registry cannot send a message to itself through the gateway")
        if not receiver.active:
            raise ReceiverUnknown(f"registry {receiver.id!r} is suspended")
        if kind not in receiver.message_kinds:
            raise ReceiverUnknown(f"registry {receiver.id!r} does not take {kind.value} messages")
        return receiver

    def _translate(self, document: CanonicalDocument, receiver: Participant, *,
                   records: Literal["actions", "units"] = "actions") -> tuple[bytes, Medium, list[Loss]]:
        """The message in the receiver's format, validated by that format; refused unless it carries every
        one of the message's ``records`` (Article 6 actions, or a crediting programme's unit blocks)."""
        adapter = self.adapters.get(receiver.format)
        medium = adapter.media[0]
        out = adapter.serialize(document, medium=medium)
        if out.files:
            raise OutputInvalid(f"{receiver.format} writes this message as several files; the gateway relays one "
                                "body", findings=[])
        check = adapter.parse(out.data, medium=medium)
        errors = [f for f in [*out.findings, *check.findings] if f.is_error]
        if errors:
            raise OutputInvalid(f"the message translated to {receiver.format} fails that format's validation",
                                findings=errors)
        carried, sent = len(getattr(check.document, records)), len(getattr(document, records))
        if carried != sent:
            noun = "action(s)" if records == "actions" else "unit block(s)"
            raise OutputInvalid(f"{receiver.format} carries {carried} of the message's {sent} {noun}; the gateway "
                                "does not relay a partial message", findings=[])
        if out.losses and self.settings.refuse_lossy:
            raise OutputInvalid(f"{receiver.format} cannot hold {len(out.losses)} field(s) of this message "
                                f"({', '.join(loss.field for loss in out.losses[:5])}); lossy relays are refused",
                                findings=[])
        return out.data, medium, list(out.losses)

    def _sign_detached(self, body: bytes, *, typ: str = "carbonlink-message+jws") -> str:
        header = {"typ": typ, "b64": False, "crit": ["b64"], "iss": self.issuer, "iat": int(time.time())}
        compact = jose.sign(header, body, self.keyring.current)
        head, _, sig = compact.split(".")
        return f"{head}..{sig}"

    def _receipt(self, sender: Participant, receiver: Participant, kind: MessageKind, message_id: str,
                 body: bytes, inbound_digest: str, plan: _Plan, answer: Answer, received_at: str,
                 delivered_at: str) -> dict[str, Any]:
        source_format, source_medium, outbound_body = plan.source_format, plan.source_medium, plan.outbound_body
        target_medium, losses, findings = plan.target_medium, plan.losses, plan.findings
        return {
            "type": "carbonlink-receipt", "version": 1, "receipt_id": str(uuid.uuid4()), "gateway": self.issuer,
            "message_id": message_id, "kind": kind.value,
            "outcome": answer.verdict,
            "sender": {"id": sender.id, "party": sender.party, "registry": sender.party_registry_id},
            "receiver": {"id": receiver.id, "party": receiver.party, "registry": receiver.party_registry_id},
            "inbound": {"sha256": inbound_digest, "bytes": len(body), "format": source_format,
                        "medium": source_medium.value},
            "outbound": {"sha256": sha256_hex(outbound_body), "bytes": len(outbound_body),
                         "format": plan.target_format or receiver.format, "medium": target_medium.value},
            "receiver_answer": {"status": answer.status, "sha256": sha256_hex(answer.body),
                                "signature": answer.signature, "attempts": answer.attempts,
                                "body": _without_floats(answer.document)},
            "losses": [loss.as_dict() for loss in losses],
            "warnings": [f.as_dict() for f in findings[:MAX_RECEIPT_WARNINGS]],
            "warnings_total": len(findings),
            "received_at": received_at, "delivered_at": delivered_at, "answered_at": utc_timestamp(),
            "request_sha256_b64": sha256_b64(body),
        }

    def _record_fault(self, sender: Participant, receiver_id: str | None, kind: MessageKind,
                      message_id: str, inbound_digest: str, exc: UpstreamError) -> None:
        try:
            self.evidence.append(Exchange(
                kind=kind.value, sender=sender.id, receiver=receiver_id or "-",
                message_id=message_id, inbound_sha256=inbound_digest, outbound_sha256=None, receipt=None,
                verdicts={"outcome": "fault", "code": exc.code, "detail": exc.message[:500]}))
        except CarbonlinkError:
            log.exception("could not record a delivery fault in the evidence log")

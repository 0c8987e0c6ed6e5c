"""Held transfers: four eyes by separate approval messages (docs/governance.md, "Four eyes").

When the policy's controls of the sending registry say ``four_eyes_hold``, a message above its four-eyes threshold
that carries too few approvals is not refused: it is *held* (stored in the :mod:`~gateway.governance._held_store`,
put on record in the evidence log with ``outcome: held`` and the policy version) and the sender gets ``202`` with
the hold. Officers' approvals - the same JWS as the ``Carbonlink-Approval`` header's, bound to the held message's
id and body digest - arrive later in approval messages (``POST /v1/transfers/{message_id}/approvals``); when
distinct officers reach the policy's count, the message is relayed as any other (:meth:`TransferService.submit`:
every control checked again at release time, the same signed receipt, the intent record naming the approving
officers and the policy version).

A message held once stays one hold: sent again while held, it answers the hold (another body: 409); an approval
taken already (``GOVERNANCE.POLICY_APPROVAL_REPLAYED``), a second approval by the same officer
(``..._SAME_OFFICER``), one for another message or body (``..._MISMATCH``) or by a key that is no officer key of
the sender in the policy and directory in force (``..._INVALID``) is refused, citing its clause. A hold ends, its
message id spent, when it waits past ``approval_wait_seconds`` (``GOVERNANCE.HOLD_EXPIRED``) or when another policy
version is in force than the one it was held under (``GOVERNANCE.HOLD_POLICY_CHANGED``); either is put on record.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from gateway.digests import sha256_hex
from gateway.evidence.record import Exchange
from gateway.governance._approvals import MAX_APPROVALS, ApprovalProblem, check_one
from gateway.governance._controls import TransactionControls
from gateway.governance._held_store import EXPIRED, HELD, POLICY_CHANGED, RELEASED, Approval, Held, HeldStore
from gateway.governance._officers import officer_keys
from gateway.governance._policy import Controls, Policy
from gateway.governance.errors import ApprovalPending, HoldConflict, HoldEnded, HoldNotFound, PolicyRefused
from gateway.protocol import MessageKind
from gateway.trust.directory import Participant
from standards.errors import CarbonlinkError

if TYPE_CHECKING:
    from gateway.transfers.service import Outcome, TransferService

log = logging.getLogger("carbonlink.governance")

HELD_CODE = "GOVERNANCE.TRANSFER_HELD"


@dataclass(frozen=True, slots=True)
class HoldAnswer:
    """What the sender or an approver is told while a message waits: the hold as stored (HTTP 202)."""

    held: Held

    def body(self) -> dict[str, Any]:
        return {"status": self.held.state, "code": HELD_CODE, **self.held.view()}


class HeldTransfers:
    """Holds messages for approval messages and releases them through ``service``."""

    def __init__(self, service: TransferService, controls: TransactionControls, store: HeldStore, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.service = service
        self.controls = controls
        self.store = store
        self.clock = clock
        self._known: tuple[Policy | None, dict[str, bool]] = (None, {})  # per policy version: who is held

    # -- sending -------------------------------------------------------------------------------------------------

    def submit(self, sender: Participant, kind: MessageKind, message_id: str, body: bytes, content_type: str | None,
               receiver_hint: str | None = None, approvals: Sequence[str] = ()) -> Outcome | HoldAnswer:
        """Relay the message (:meth:`TransferService.submit`) or hold it; a message held already answers its hold
        (with ``approvals``: they are taken as an approval message)."""
        earlier = self.store.get(sender.id, message_id) if self._holds(sender.id) else None
        if earlier is not None and earlier.state != RELEASED:
            if earlier.sha256 != sha256_hex(body):
                raise HoldConflict(f"message id {message_id!r} of {sender.id!r} is held with another body; send a "
                                   "new message id for a new message")
            return self.approve(sender, message_id, approvals)
        try:
            return self.service.submit(sender, kind, message_id, body, content_type, receiver_hint, approvals)
        except ApprovalPending as pending:
            return self._hold(sender, kind, message_id, body, content_type, receiver_hint, approvals, pending)

    def _holds(self, sender_id: str) -> bool:
        """Whether the policy in force holds the sender's messages (else its messages never touch the store)."""
        try:
            policy, _ = self.controls.policies.current(self.clock())
        except CarbonlinkError:  # no policy in force: the relay fails closed on its own
            return False
        cached = self._known
        if cached[0] is not policy:  # a new version: ask it again
            cached = self._known = (policy, {})
        holds = cached[1].get(sender_id)
        if holds is None:
            holds = cached[1][sender_id] = policy.controls(sender_id).four_eyes_hold
        return holds

    def _hold(self, sender: Participant, kind: MessageKind, message_id: str, body: bytes, content_type: str | None,
              receiver_hint: str | None, tokens: Sequence[str], pending: ApprovalPending) -> HoldAnswer:
        now = self.clock()
        digest = sha256_hex(body)
        controls: Controls = pending.controls
        # the controls found every carried approval valid, only too few: keep them
        carried = [self._checked(i, t, controls, sender, kind.value, message_id, digest, now, pending.version)
                   for i, t in enumerate(tokens)]
        held, stored = self.store.hold(Held(
            sender.id, message_id, kind.value, digest, body, content_type, receiver_hint, pending.receiver,
            pending.units, pending.version, controls.approvals, now, now + controls.approval_wait_seconds,
            approvals=tuple(carried)))
        if stored:
            self._record(held, "held", HELD_CODE, f"held for approval messages until {held.expires_at:.0f}",
                         f"participants.{sender.id}.four_eyes_hold")
            log.info("held for approvals", extra={"message_id": message_id, "sender": sender.id,
                                                  "kind": kind.value})
        elif held.sha256 != digest:  # another request held the message id first, with another body
            raise HoldConflict(f"message id {message_id!r} of {sender.id!r} is held with another body")
        return HoldAnswer(held)

    # -- approving -----------------------------------------------------------------------------------------------

    def approve(self, sender: Participant, message_id: str, tokens: Sequence[str]) -> Outcome | HoldAnswer:
        """Take officers' approvals of a held message of ``sender`` (the registry whose officers sign them);
        relay the message when they are enough, else answer the hold."""
        held = self.store.get(sender.id, message_id)
        if held is None:
            raise HoldNotFound(f"{sender.id!r} has no held message {message_id!r}")
        if held.state == RELEASED:  # relayed already: its receipt, as first handed out
            return self._release(sender, held)
        now = self.clock()
        controls = self._in_force(held, now)
        if len(tokens) > MAX_APPROVALS:
            raise self._refusal(held, "INVALID", f"at most {MAX_APPROVALS} approvals are read from a message")
        fresh: list[Approval] = []
        for index, token in enumerate(tokens):
            approval = self._checked(index, token, controls, sender, held.kind, message_id, held.sha256, now,
                                     held.version)
            if approval.officer in (a.officer for a in fresh):
                raise self._refusal(held, "SAME_OFFICER", f"approval {index + 1} is by officer {approval.officer!r} "
                                                          "again; four eyes need different officers")
            fresh.append(approval)
        current = self.store.approve(sender.id, message_id, fresh,
                                     lambda what, message: self._refusal(held, what, message))
        if current is None or current.state != HELD:  # released or ended meanwhile (another request)
            return self.approve(sender, message_id, ())
        valid = self._still_valid(current, controls, sender, now)
        if len(valid) >= current.needed:
            return self._release(sender, current, valid)
        return HoldAnswer(self.store.get(sender.id, message_id) or current)

    def _in_force(self, held: Held, now: float) -> Controls:
        """The sender's controls, if the hold may still be released; else end it (expired, policy changed)."""
        if held.state in (EXPIRED, POLICY_CHANGED):
            raise _ended(held)
        if now >= held.expires_at:
            self._end(held, EXPIRED, now)
        self.controls.policies.maybe_refresh(now)
        policy, _ = self.controls.policies.current(now)
        if policy.version != held.version:
            self._end(held, POLICY_CHANGED, now)
        return policy.controls(held.sender)

    def _end(self, held: Held, state: str, now: float) -> NoReturn:
        moved = self.store.end(held.sender, held.message_id, state, now)
        ended = _ended(Held(**{**_fields(held), "state": state}))
        if moved:
            self._record(held, state, ended.code, ended.message, ended.clause)
        raise ended

    def _checked(self, index: int, token: str, controls: Controls, sender: Participant, kind: str, message_id: str,
                 digest: str, now: float, version: int) -> Approval:
        keys = officer_keys(controls, sender)
        try:
            officer = check_one(index, token, keys, sender=sender.id, kind=kind, message_id=message_id,
                                body_sha256=digest, now=now, skew=self.controls.skew)
        except ApprovalProblem as exc:
            raise PolicyRefused(exc.message, code=f"GOVERNANCE.POLICY_APPROVAL_{exc.what}",
                                clause=f"participants.{sender.id}.officers", version=version) from exc
        return Approval(officer, token, sha256_hex(token.encode("ascii", "replace")), now)

    def _still_valid(self, held: Held, controls: Controls, sender: Participant, now: float) -> list[Approval]:
        """The held message's approvals that still hold (keys in force, not expired); the others are forgotten."""
        valid: list[Approval] = []
        for index, approval in enumerate(held.approvals):
            try:
                valid.append(self._checked(index, approval.token, controls, sender, held.kind, held.message_id,
                                           held.sha256, now, held.version))
            except PolicyRefused as exc:
                log.info("an approval of a held message no longer holds (%s)", exc.code,
                         extra={"message_id": held.message_id, "sender": held.sender})
        gone = [a.officer for a in held.approvals if a.officer not in {v.officer for v in valid}]
        if gone:
            self.store.drop_approvals(held.sender, held.message_id, gone)
        return valid

    def _release(self, sender: Participant, held: Held, valid: Sequence[Approval] | None = None) -> Outcome:
        """Relay the held message as any other with its ``valid`` approvals; every control is checked again. On a
        refusal or a fault it stays held (an approval message, or the message sent again, retries). A message
        released already gets its receipt, as first handed out."""
        tokens = [a.token for a in (held.approvals if valid is None else valid)][:max(held.needed, 1)]
        outcome = self.service.submit(sender, MessageKind(held.kind), held.message_id, held.body, held.content_type,
                                      held.receiver_hint, tokens)
        if held.state == HELD and self.store.end(held.sender, held.message_id, RELEASED, self.clock()):
            log.info("released after approvals", extra={"message_id": held.message_id, "sender": held.sender})
        return outcome

    def _refusal(self, held: Held, what: str, message: str) -> PolicyRefused:
        return PolicyRefused(message, code=f"GOVERNANCE.POLICY_APPROVAL_{what}",
                             clause=f"participants.{held.sender}.four_eyes_above", version=held.version)

    # -- reading -------------------------------------------------------------------------------------------------

    def listing(self, sender: str, state: str | None = HELD) -> list[dict[str, Any]]:
        """The sender's held messages (those past their time are ended first)."""
        now = self.clock()
        for held in self.store.listing(sender, HELD):
            if now >= held.expires_at:
                with contextlib.suppress(HoldEnded):
                    self._end(held, EXPIRED, now)
        return [h.view() for h in self.store.listing(sender, state)]

    def show(self, sender: str, message_id: str) -> dict[str, Any]:
        held = self.store.get(sender, message_id)
        if held is None:
            raise HoldNotFound(f"{sender!r} has no held message {message_id!r}")
        return held.view()

    def _record(self, held: Held, outcome: str, code: str, detail: str, clause: str) -> None:
        evidence = self.controls.evidence
        if evidence is None:
            return
        policy: dict[str, Any] = {"version": held.version, "decision": outcome, "clause": clause,
                                  "units": str(held.units)}
        if held.approvals:
            policy["approved_by"] = list(held.officers())
        try:
            evidence.append(Exchange(
                kind=held.kind, sender=held.sender, receiver=held.receiver, message_id=held.message_id,
                inbound_sha256=held.sha256, outbound_sha256=None, receipt=None,
                verdicts={"outcome": outcome, "code": code, "detail": detail[:500], "policy": policy,
                          "expires_at": held.expires_at}))
        except CarbonlinkError as failure:  # the hold stands; it just is not on record
            log.warning("could not put a held message on record (%s): %s", failure.code, failure.message)

    def close(self) -> None:
        self.store.close()


def _fields(held: Held) -> dict[str, Any]:
    return {name: getattr(held, name) for name in Held.__dataclass_fields__}


def _ended(held: Held) -> HoldEnded:
    if held.state == EXPIRED:
        return HoldEnded(f"message {held.message_id!r} of {held.sender!r} waited for approvals past "
                         f"{held.expires_at:.0f} and was not relayed; send it again under a new message id",
                         code="GOVERNANCE.HOLD_EXPIRED", clause=f"participants.{held.sender}.approval_wait_seconds",
                         version=held.version)
    return HoldEnded(f"message {held.message_id!r} of {held.sender!r} was held under policy version {held.version}, "
                     "which is no longer in force; it was not relayed: send it again under a new message id",
                     code="GOVERNANCE.HOLD_POLICY_CHANGED", clause="version", version=held.version)

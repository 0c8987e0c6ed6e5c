"""Transaction controls: the clauses of the policy in force, applied to every message the relay is about to
deliver (docs/governance.md, "Policy").

In this order, each refusal coded ``GOVERNANCE.POLICY_<WHAT>`` and naming its clause:

1. a valid policy is in force (else the kinds that move units fail closed: ``GOVERNANCE.POLICY_UNAVAILABLE``);
2. the kill switch of the sender and of the receiver (every kind);
   for the kinds the policy controls (``kinds``, default transfers):
3. the sender's business hours, in its time zone;
4. the holding period of a counterpart not on the sender's trusted list (from the first message to it);
5. four eyes: above the sender's threshold, approvals by distinct officers bound to this message;
6. the daily limits, in total and per counterpart (reserved in the controls store, given back when the message
   is not relayed after all).

Every decision, allowed or refused, puts the policy version on record in the evidence log: an allowed message
in its intent record (``verdicts.policy``), a refused one in a record of its own (``outcome: refused``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from gateway.evidence.log import EvidenceLog
from gateway.evidence.record import Exchange
from gateway.governance._approvals import ApprovalProblem, check_approvals
from gateway.governance._controls_store import ALL, ControlsStore, LimitExceeded
from gateway.governance._policy import DAYS, BusinessHours, Controls, Policy, PolicyStore
from gateway.governance.errors import ApprovalPending, PolicyRefused, PolicyUnavailable
from gateway.protocol import MessageKind
from gateway.trust.directory import Participant
from standards.errors import CarbonlinkError

log = logging.getLogger("carbonlink.governance")

#: Kinds that never fail closed: notices about a message relayed earlier (they move no units).
NOTICE_KINDS = frozenset({MessageKind.ACCEPTANCES, MessageKind.COMPLETIONS})


@dataclass(frozen=True, slots=True)
class Decision:
    """An allowed message: the policy version it was decided under and what the decision rested on."""

    version: int
    controlled: bool
    approved_by: tuple[str, ...] = ()
    units: Decimal | None = None
    reserved: bool = False

    def verdicts(self) -> dict[str, Any]:
        """What the intent record keeps (``verdicts.policy``)."""
        body: dict[str, Any] = {"version": self.version, "decision": "allowed", "controlled": self.controlled}
        if self.approved_by:
            body["approved_by"] = list(self.approved_by)
        if self.units is not None:
            body["units"] = str(self.units)
        return {"policy": body}


class TransactionControls:
    """Applies the policy of ``policies`` to messages, with the daily usage and counterparts in ``store``."""

    def __init__(self, policies: PolicyStore, store: ControlsStore, evidence: EvidenceLog | None = None, *,
                 clock: Callable[[], float] = time.time, skew: int = 30) -> None:
        self.policies = policies
        self.store = store
        self.evidence = evidence
        self.clock = clock
        self.skew = skew
        self._reserved: set[tuple[str, str]] = set()  # (sender, message id) this process reserved units for
        #: The participants' merged controls under the policy last in force, looked up once per version.
        self._merged: tuple[Policy | None, dict[str, Controls]] = (None, {})

    def _controls(self, policy: Policy, participant_id: str) -> Controls:
        cached_for, merged = self._merged
        if cached_for is not policy:
            merged = {}
            self._merged = (policy, merged)
        found = merged.get(participant_id)
        if found is None:
            found = merged[participant_id] = policy.controls(participant_id)
        return found

    def decide(self, sender: Participant, kind: MessageKind, message_id: str, body_sha256: str, receiver: Participant,
               units: Decimal | None, approvals: Sequence[str] = ()) -> Decision | None:
        """Allow the message (its :class:`Decision`) or raise the coded refusal (put on record first)."""
        now = self.clock()
        self.policies.maybe_refresh(now)
        try:
            policy, _ = self.policies.current(now)
        except PolicyUnavailable as exc:
            if kind in NOTICE_KINDS:
                return None
            self._record(sender, kind, message_id, body_sha256, receiver, exc, None, "in_force")
            raise
        try:
            return self._decide(policy, now, sender, kind, message_id, body_sha256, receiver, units, approvals)
        except PolicyRefused as exc:
            self._record(sender, kind, message_id, body_sha256, receiver, exc, policy.version, exc.clause)
            raise

    def _decide(self, policy: Policy, now: float, sender: Participant, kind: MessageKind, message_id: str,
                body_sha256: str, receiver: Participant, units: Decimal | None, approvals: Sequence[str]
                ) -> Decision:
        mine, theirs = self._controls(policy, sender.id), self._controls(policy, receiver.id)
        for who, controls in ((sender.id, mine), (receiver.id, theirs)):
            if controls.kill_switch:
                reason = f": {controls.kill_reason}" if controls.kill_reason else ""
                raise _refuse(policy, "KILL_SWITCH", f"participants.{who}.kill_switch",
                              f"the network operator has stopped every message of {who}{reason}")
        if kind not in policy.kinds:
            return Decision(policy.version, False)
        if mine.business_hours is not None:
            self._hours(policy, sender.id, mine, mine.business_hours, now)
        if mine.holding_seconds and receiver.id not in mine.trusted:
            first = self.store.first_seen(sender.id, receiver.id, now)
            left = first + mine.holding_seconds - now
            if left > 0:
                raise _refuse(policy, "HOLDING_PERIOD", f"participants.{sender.id}.holding_seconds",
                              f"{receiver.id} is a new counterpart of {sender.id} (not on its trusted list); messages "
                              f"to it are held for {mine.holding_seconds} s from the first, {math.ceil(left)} s left",
                              retry_after=math.ceil(left))
        approved_by: tuple[str, ...] = ()
        quantity = units or Decimal(0)
        if mine.four_eyes_above is not None and quantity > mine.four_eyes_above:
            try:
                approved_by = check_approvals(approvals, mine, sender=sender.id, kind=kind.value,
                                              message_id=message_id, body_sha256=body_sha256, now=now, skew=self.skew,
                                              entry=sender)
            except ApprovalProblem as exc:
                if exc.what == "REQUIRED" and mine.four_eyes_hold:  # held for separate approval messages (_holds)
                    raise ApprovalPending(exc.message, version=policy.version, controls=mine, units=quantity,
                                          receiver=receiver.id) from exc
                raise _refuse(policy, f"APPROVAL_{exc.what}", f"participants.{sender.id}.four_eyes_above",
                              f"{quantity} units is above the four-eyes threshold {mine.four_eyes_above}: "
                              f"{exc.message}") from exc
        reserved = self._limits(policy, now, sender.id, receiver.id, mine, message_id, quantity)
        return Decision(policy.version, True, approved_by, units, reserved)

    def _hours(self, policy: Policy, who: str, controls: Controls, hours: BusinessHours, now: float) -> None:
        local = datetime.fromtimestamp(now, controls.zone())
        if DAYS[local.weekday()] in hours.days and hours.opens() <= local.time() < hours.closes():
            return
        opens = _next_opening(local, hours)
        raise _refuse(policy, "BUSINESS_HOURS", f"participants.{who}.business_hours",
                      f"it is {local:%a %H:%M} in {controls.timezone}, outside {who}'s business hours "
                      f"({', '.join(hours.days)} {hours.start}-{hours.end}); they open {opens:%a %H:%M}",
                      retry_after=max(1, int((opens - local).total_seconds())))

    def _limits(self, policy: Policy, now: float, sender: str, receiver: str, controls: Controls, message_id: str,
                quantity: Decimal) -> bool:
        limits = {ALL: controls.daily_limit, receiver: controls.counterparty_limit(receiver)}
        if limits[ALL] is None and limits[receiver] is None:
            return False
        day = datetime.fromtimestamp(now, controls.zone()).date().isoformat()
        try:
            self.store.reserve(sender, message_id, day, receiver, quantity, limits)
            self._reserved.add((sender, message_id))
        except LimitExceeded as exc:
            what, clause = (("DAILY_LIMIT", "daily_limit") if exc.counterpart == ALL else
                            ("COUNTERPARTY_LIMIT", f"counterparty_limits.{receiver}"
                             if receiver in controls.counterparty_limits else "counterparty_daily_limit"))
            raise _refuse(policy, what, f"participants.{sender}.{clause}", exc.message) from exc
        return True

    def release(self, sender: str, message_id: str) -> None:
        """Give back the units a message reserved (it is not relayed); a failure is logged, never raised (this
        runs while another error is on its way out). Only a message this process reserved units for touches the
        store."""
        if (sender, message_id) not in self._reserved:
            return
        self._reserved.discard((sender, message_id))
        try:
            self.store.release(sender, message_id)
        except CarbonlinkError as exc:
            log.warning("the message's units were not given back to its daily limit (%s); a retry of the same "
                        "message reuses them", exc.code, extra={"message_id": message_id, "sender": sender})

    def _record(self, sender: Participant, kind: MessageKind, message_id: str, body_sha256: str,
                receiver: Participant, exc: CarbonlinkError, version: int | None, clause: str) -> None:
        if self.evidence is None:
            return
        try:
            self.evidence.append(Exchange(
                kind=kind.value, sender=sender.id, receiver=receiver.id, message_id=message_id,
                inbound_sha256=body_sha256, outbound_sha256=None, receipt=None,
                verdicts={"outcome": "refused", "code": exc.code, "detail": exc.message[:500],
                          "policy": {"version": version, "decision": "refused", "clause": clause}}))
        except CarbonlinkError as failure:  # the refusal stands; it just is not on record
            log.warning("could not put a policy refusal on record (%s): %s", failure.code, failure.message)

    def close(self) -> None:
        self.store.close()


def _refuse(policy: Policy, what: str, clause: str, message: str, retry_after: int | None = None) -> PolicyRefused:
    return PolicyRefused(message, code=f"GOVERNANCE.POLICY_{what}", clause=clause, version=policy.version,
                         retry_after=retry_after)


def _next_opening(local: datetime, hours: BusinessHours) -> datetime:
    """When the window opens next after ``local`` (today, or one of the next seven days)."""
    for ahead in range(8):
        day = (local + timedelta(days=ahead)).date()
        opening = datetime.combine(day, hours.opens(), tzinfo=local.tzinfo)
        if DAYS[day.weekday()] in hours.days and opening > local:
            return opening
    return local + timedelta(days=7)  # pragma: no cover - a window with days always opens within a week

"""How the authorization gate plugs into the transfer path without changing it: a planner that wraps the
Article 6 planner (checks the document, then lets it plan) and a recorder that draws the plan's quantities
when the message is about to be delivered (the first point that knows the message id) and gives them back
when the message is not relayed after all."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from gateway.governance._gate import AuthorizationGate, Drawing
from gateway.governance.errors import AuthorizationChanged, GovernanceError
from gateway.idempotency.store import Claim
from gateway.protocol import MessageKind
from gateway.transfers import DocumentPlanner, Plan, Recorder, SourceMessage
from gateway.transfers._health import EVIDENCE
from gateway.trust.directory import Participant
from standards.model import CanonicalDocument

log = logging.getLogger("carbonlink.governance")


@dataclass(frozen=True, slots=True)
class GovernedPlan(Plan):
    """A plan with what the message draws on each authorization."""

    drawings: dict[tuple[str, str], Drawing] = field(default_factory=dict)
    document: CanonicalDocument | None = None


class GovernedPlanner:
    """The Article 6 planner behind the authorization gate."""

    def __init__(self, inner: DocumentPlanner, gate: AuthorizationGate) -> None:
        self.inner = inner
        self.gate = gate

    def accepts(self, document: CanonicalDocument) -> bool:
        return self.inner.accepts(document)

    def plan(self, sender: Participant, kind: MessageKind, message: SourceMessage, receiver_hint: str | None) -> Plan:
        plan = self.inner.plan(sender, kind, message, receiver_hint)  # kind and sender checks come first
        drawings = self.gate.check(sender, message.document)
        if not drawings:
            return plan
        return GovernedPlan(plan.source_format, plan.source_medium, plan.receiver, plan.outbound_body,
                            plan.target_medium, plan.losses, plan.findings, plan.target_format, units=plan.units,
                            quantity=plan.quantity, drawings=drawings, document=message.document)


class GovernedRecorder(Recorder):
    """The recorder that also draws on authorizations before delivery and gives back on release."""

    gate: AuthorizationGate
    _shares: bool | None = None

    def _joint(self) -> bool:
        """Whether the authorization store lives in the evidence log's database (asked once)."""
        if self._shares is None:
            self._shares = self.gate.store.shares(self.evidence)
        return self._shares

    def intend(self, sender: Participant, kind: MessageKind, message_id: str, inbound_digest: str,
               plan: Plan, verdicts: dict[str, Any] | None = None) -> None:
        """Draw the plan's quantities, then put the delivery on record. When the authorization store lives in
        the evidence log's database (the default), both are one transaction: one durable write, and either
        both are kept or neither; otherwise the drawing commits first, in its own."""
        if not isinstance(plan, GovernedPlan):
            super().intend(sender, kind, message_id, inbound_digest, plan, verdicts)
            return
        try:
            self._draw_and_intend(sender, kind, message_id, inbound_digest, plan, plan.drawings, verdicts)
        except AuthorizationChanged:
            # amended or revoked elsewhere since the check (another gateway, the CLI): check again, once,
            # against the standing the store has now (the gate dropped what it knew)
            if plan.document is None:
                raise
            drawings = self.gate.check(sender, plan.document)
            self._draw_and_intend(sender, kind, message_id, inbound_digest, plan, drawings, verdicts)

    def _draw_and_intend(self, sender: Participant, kind: MessageKind, message_id: str, inbound_digest: str,
                         plan: Plan, drawings: dict[tuple[str, str], Drawing],
                         verdicts: dict[str, Any] | None) -> None:
        if not self._joint():
            self.gate.draw(sender.id, message_id, drawings)
            super().intend(sender, kind, message_id, inbound_digest, plan, verdicts)
            return
        with self.health.watch(EVIDENCE):
            self.evidence.append(self.intent(sender, kind, message_id, inbound_digest, plan, verdicts),
                                 alongside=lambda cur: self.gate.draw(sender.id, message_id, drawings, within=cur))

    def release(self, claim: Claim) -> None:
        super().release(claim)
        try:
            self.gate.store.release(claim.sender, claim.message_id)
        except GovernanceError as exc:  # called while another error is on its way out: log, never mask it
            log.warning("the message's drawing on its authorization was not given back (%s); a retry of the same "
                        "message reuses it", exc.code, extra={"message_id": claim.message_id, "sender": claim.sender})

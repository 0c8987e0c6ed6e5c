"""What planning a message produces, and the two kinds of planner the transfer service is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from gateway.protocol import MessageKind
from gateway.trust.directory import Participant
from standards.codec import Loss, Medium
from standards.findings import Finding
from standards.model import CanonicalDocument


@dataclass(frozen=True, slots=True)
class SourceMessage:
    """A message as read from the sender: its format and medium, its document and the warnings."""

    format: str
    medium: Medium
    document: CanonicalDocument
    findings: list[Finding]


@dataclass(frozen=True, slots=True)
class Plan:
    """A message made ready for delivery (the service signs ``outbound_body``)."""

    source_format: str
    source_medium: Medium
    receiver: Participant
    outbound_body: bytes
    target_medium: Medium
    losses: list[Loss]
    findings: list[Finding]
    #: The format of ``outbound_body`` when it is not the receiver's (notices: always notice JSON).
    target_format: str | None = None
    #: The units the message moves (:func:`units_moved`), put in its receipt: the legal-title trail reads them.
    units: tuple[dict[str, Any], ...] = ()
    #: The quantity the message moves (set for the transaction controls only: :func:`quantity_of`).
    quantity: Decimal | None = None


def _unit(series: str, first: int | None, last: int | None, vintage: int | None, action: str) -> dict[str, Any] | None:
    if first is None or last is None:
        return None
    return {"series": series, "first": first, "last": last, "vintage": vintage, "action": action}


def units_moved(sender: Participant, document: CanonicalDocument) -> tuple[dict[str, Any], ...]:
    """The serial ranges ``document`` moves, each in its numbering *series*: ITMOs ``CA####:PARTY`` (the
    cooperative approach and the first transferring Party, whose registry numbered them), crediting-programme
    blocks ``REGISTRY:PROJECT`` (docs/governance.md, "Legal title trail")."""
    units = [_unit(f"{a.cooperative_approach or '-'}:{a.first_transferring_party or sender.party}", a.first_id,
                   a.last_id, a.vintage, a.action_type.value) for a in document.actions]
    units += [_unit(f"{b.registry or '-'}:{b.project_id or '-'}", b.first_id, b.last_id, b.vintage, "block")
              for b in document.units]
    return tuple(u for u in units if u is not None)


def quantity_of(document: CanonicalDocument) -> Decimal:
    """The units a document moves: its actions' quantities (or serial ranges) and its unit blocks'."""
    total = Decimal(0)
    for action in document.actions:
        if action.quantity is not None:
            total += action.quantity
        elif action.first_id is not None and action.last_id is not None:
            total += Decimal(action.last_id - action.first_id + 1)
    for block in document.units:
        if block.quantity is not None:
            total += block.quantity
    return total


class ControlDecision(Protocol):
    """What the transaction controls decided for a message they allow (its part of the intent record)."""

    def verdicts(self) -> dict[str, Any]: ...


class TransferControls(Protocol):
    """Controls applied to every message before delivery (the governance policy, docs/governance.md)."""

    def decide(self, sender: Participant, kind: MessageKind, message_id: str, body_sha256: str,
               receiver: Participant, units: Decimal | None, approvals: Sequence[str] = ()) -> ControlDecision | None:
        """Allow the message (or raise its coded refusal)."""

    def release(self, sender: str, message_id: str) -> None:
        """Give back what an allowed message reserved, when it is not relayed after all."""

    def close(self) -> None:
        """Close the controls' store."""


class DocumentPlanner(Protocol):
    """Plans messages whose body the sender's adapter reads into a canonical document (Article 6
    actions, crediting-programme unit blocks): checks, routes and translates them."""

    def accepts(self, document: CanonicalDocument) -> bool:
        """Whether this planner takes ``document`` (the service asks its planners in order)."""

    def plan(self, sender: Participant, kind: MessageKind, message: SourceMessage, receiver_hint: str | None) -> Plan:
        """Check ``message``, find its receiver and translate it; raise a coded error otherwise."""


class NoticePlanner(Protocol):
    """Plans notices (acceptances, completions): messages about an earlier message, read as notice JSON."""

    kinds: frozenset[MessageKind]

    def plan(self, sender: Participant, kind: MessageKind, body: bytes, content_type: str | None,
             receiver_hint: str | None) -> Plan:
        """Check the notice against the evidence log and route it to the other party of that exchange."""

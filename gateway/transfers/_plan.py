"""What planning a message produces, and the two kinds of planner the transfer service is given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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

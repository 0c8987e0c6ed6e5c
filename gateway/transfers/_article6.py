"""Article 6 messages: documents of actions (first transfers, transfers, acquisitions, uses,
cancellations, authorizations) between Parties' registries."""

from __future__ import annotations

from gateway.protocol import MessageKind
from gateway.transfers._plan import Plan, SourceMessage, units_moved
from gateway.transfers._router import Router, counterpart_party
from gateway.transfers._translator import Translator
from gateway.transfers.errors import KindMismatch, SenderMismatch
from gateway.trust.directory import Participant
from standards.model import ActionType, CanonicalDocument

#: Actions that move units from the sender to a receiver.
OUTGOING_ACTIONS = (ActionType.FIRST_TRANSFER, ActionType.TRANSFER)
#: The actions each message kind may carry (kinds not listed carry any action).
KIND_ACTIONS: dict[MessageKind, frozenset[ActionType]] = {
    MessageKind.TRANSFERS: frozenset({ActionType.FIRST_TRANSFER, ActionType.TRANSFER}),
    MessageKind.CANCELLATIONS: frozenset({ActionType.CANCELLATION, ActionType.VOLUNTARY_CANCELLATION}),
    MessageKind.RETIREMENTS: frozenset({ActionType.RETIREMENT, ActionType.USE}),
    MessageKind.AUTHORIZATIONS: frozenset({ActionType.AUTHORIZATION}),
}


def check_kind(kind: MessageKind, document: CanonicalDocument) -> None:
    """Every action is one the message kind may carry (KindMismatch otherwise)."""
    allowed = KIND_ACTIONS.get(kind)
    if allowed is None:
        return
    for index, action in enumerate(document.actions):
        if action.action_type not in allowed:
            raise KindMismatch(f"actions[{index}] is a {action.action_type.value}, which a {kind.value} message "
                               f"cannot carry ({', '.join(sorted(a.value for a in allowed))})")


def check_sender(sender: Participant, document: CanonicalDocument) -> None:
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


class Article6Planner:
    """Plans a document of Article 6 actions: kind and sender checks, routed to the other Party's registry."""

    def __init__(self, router: Router, translator: Translator) -> None:
        self.router = router
        self.translator = translator

    def accepts(self, document: CanonicalDocument) -> bool:
        return bool(document.actions)

    def plan(self, sender: Participant, kind: MessageKind, message: SourceMessage, receiver_hint: str | None) -> Plan:
        document = message.document
        check_kind(kind, document)
        check_sender(sender, document)
        parties = {party for a in document.actions if (party := counterpart_party(a))}
        receiver = self.router.by_parties(sender, kind, parties, receiver_hint)
        outbound, medium, losses = self.translator.write(document, receiver)
        return Plan(message.format, message.medium, receiver, outbound, medium, losses, message.findings,
                    units=units_moved(sender, document))

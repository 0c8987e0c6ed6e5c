"""Routing: which registry in the directory receives a message, and the checks every receiver passes."""

from __future__ import annotations

from gateway.protocol import MessageKind
from gateway.transfers.errors import ReceiverUnknown
from gateway.trust.directory import DirectoryStore, Participant
from standards.model import Action, ActionType


def counterpart_party(action: Action) -> str | None:
    """The Party on the other side of an action: the acquiring Party of a (first) transfer, the
    transferring Party of an acquisition (the acquirer's registry reports it to the registry the units
    came from); None for actions with no other side (uses, cancellations, authorizations)."""
    if action.action_type is ActionType.ACQUISITION:
        return action.transferring_party
    return action.acquiring_party


class Router:
    """Finds receivers in the current directory."""

    def __init__(self, directory: DirectoryStore) -> None:
        self.directory = directory

    @staticmethod
    def check_receiver(receiver: Participant, kind: MessageKind) -> Participant:
        """The receiver, if it is active and takes ``kind`` messages (ReceiverUnknown otherwise)."""
        if not receiver.active:
            raise ReceiverUnknown(f"registry {receiver.id!r} is suspended")
        if kind not in receiver.message_kinds:
            raise ReceiverUnknown(f"registry {receiver.id!r} does not take {kind.value} messages")
        return receiver

    def by_parties(self, sender: Participant, kind: MessageKind, parties: set[str], hint: str | None) -> Participant:
        """The registry of the one other Party named (``parties``), or the one ``hint`` names.

        ``parties`` empty (a crediting-programme transfer names no Party) needs the hint."""
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
        return self.check_receiver(receiver, kind)

    def by_id(self, kind: MessageKind, participant_id: str, hint: str | None) -> Participant:
        """The registry ``participant_id`` (the other party of an exchange); ``hint``, if given, must name it."""
        if hint and hint != participant_id:
            raise ReceiverUnknown(f"Carbonlink-Receiver {hint!r} is not the other party of the exchange this notice "
                                  f"is about ({participant_id!r}); leave it out or name that registry")
        receiver = self.directory.current().get(participant_id)
        if receiver is None:
            raise ReceiverUnknown(f"registry {participant_id!r} is no longer in the directory")
        return self.check_receiver(receiver, kind)

"""The relay's wire protocol, shared by the gateway and the sandbox registry: header names, the syntax
of message ids, and the kinds of message the gateway relays (docs/transfers.md)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from standards.codec import RecordKind

__all__ = ["CARRIED_AS", "KIND_HEADER", "MAX_ID_CHARS", "MESSAGE_ID", "MESSAGE_ID_HEADER", "MESSAGE_ID_PATTERN",
           "MESSAGE_ID_RULE", "MRV_KINDS", "NOTICE_KINDS", "RELAYED_KINDS", "SENDER_HEADER", "MessageKind",
           "carried_kinds", "id_problem"]

MESSAGE_ID_HEADER = "Carbonlink-Message-Id"
SENDER_HEADER = "Carbonlink-Sender"
KIND_HEADER = "Carbonlink-Message-Kind"
#: A message id (also a participant id in the sender header): 1-200 characters, a letter or digit first.
MESSAGE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}$"
MESSAGE_ID = re.compile(MESSAGE_ID_PATTERN)
MESSAGE_ID_RULE = "1-200 characters of A-Z a-z 0-9 . _ : @ / + = -"
#: The longest sender or message id the stores keep (evidence log, idempotency store).
MAX_ID_CHARS = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class MessageKind(StrEnum):
    """What one relayed message is: the kind in POST /v1/messages/{kind}, a directory entry's message_kinds
    and the Carbonlink-Message-Kind header. (A format's record kinds are another vocabulary.)"""

    # Not standards.codec.RecordKind (what a format reads and writes); CARRIED_AS says which records carry
    # which message.

    TRANSFERS = "transfers"
    RETIREMENTS = "retirements"
    CANCELLATIONS = "cancellations"
    #: Authorization actions (AEF "Authorization"), not AEF T2 authorization records.
    AUTHORIZATIONS = "authorizations"
    #: Actions of any type.
    ACTIONS = "actions"
    #: Notices about an earlier relayed message (docs/transfers.md, "Notices"): the receiver's
    #: acceptance or rejection, and the sender's completion or termination.
    ACCEPTANCES = "acceptances"
    COMPLETIONS = "completions"
    #: Digital MRV (docs/mrv.md): an MRV system's monitoring report, a verifier's verification statement and
    #: an issuance request to the project's registry, whose signed answer is the registry's issuance notice.
    MONITORING_REPORTS = "monitoring-reports"
    VERIFICATIONS = "verifications"
    ISSUANCE_REQUESTS = "issuance-requests"
    ISSUANCE_NOTICES = "issuance-notices"
    # Record-kind names that directories and senders used as message kinds before record kinds and
    # message kinds were told apart: still read (signed directories keep verifying), relayed as
    # ``actions`` messages are (actions of any type).
    SUBMISSIONS = "submissions"
    HOLDINGS = "holdings"
    AUTHORIZED_ENTITIES = "authorized-entities"
    PROJECTS = "projects"
    ISSUANCES = "issuances"
    UNIT_BLOCKS = "unit-blocks"


#: The notices: messages about an earlier message, always notice JSON whatever the parties' formats.
NOTICE_KINDS = frozenset({MessageKind.ACCEPTANCES, MessageKind.COMPLETIONS})

#: The MRV documents: canonical MRV JSON whatever the parties' formats (docs/mrv.md, gateway section).
MRV_KINDS = frozenset({MessageKind.MONITORING_REPORTS, MessageKind.VERIFICATIONS, MessageKind.ISSUANCE_REQUESTS,
                       MessageKind.ISSUANCE_NOTICES})

#: How each message kind the gateway relays travels in a registry's format: the record kinds that carry it
#: (a transfer is a transfer or other action, or a crediting programme's unit blocks; a retirement or a
#: cancellation also a retired or cancelled unit block). Notices are not listed: they are notice JSON.
CARRIED_AS: dict[MessageKind, frozenset[RecordKind]] = {
    MessageKind.TRANSFERS: frozenset({RecordKind.TRANSFERS, RecordKind.ACTIONS, RecordKind.UNIT_BLOCKS}),
    MessageKind.RETIREMENTS: frozenset({RecordKind.RETIREMENTS, RecordKind.ACTIONS, RecordKind.UNIT_BLOCKS}),
    MessageKind.CANCELLATIONS: frozenset({RecordKind.CANCELLATIONS, RecordKind.ACTIONS, RecordKind.UNIT_BLOCKS}),
    MessageKind.AUTHORIZATIONS: frozenset({RecordKind.ACTIONS}),
    MessageKind.ACTIONS: frozenset({RecordKind.ACTIONS}),
}

#: The message kinds the gateway relays today (the others are the old record-kind names, still read).
RELAYED_KINDS = frozenset(CARRIED_AS) | NOTICE_KINDS | MRV_KINDS


def carried_kinds(records: Iterable[RecordKind]) -> frozenset[MessageKind]:
    """The message kinds a format carries, given the record kinds it reads (to send) or writes (to
    receive): each kind of :data:`CARRIED_AS` one of whose record kinds it has, and the notices."""
    held = frozenset(records)
    return frozenset(kind for kind, carriers in CARRIED_AS.items() if carriers & held) | NOTICE_KINDS


def id_problem(value: object) -> str | None:
    """What is wrong with a stored identifier (sender, receiver, message id), or None if nothing."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if len(value) > MAX_ID_CHARS:
        return f"is longer than {MAX_ID_CHARS} characters"
    if _CONTROL.search(value):
        return "contains control characters"
    return None

"""Notices the sandbox receives: acceptances/rejections of messages it sent, completions/terminations
of messages it received (docs/transfers.md, "Notices"; docs/sandbox.md).

A notice never changes the holdings. The sandbox checks that the message it names is one it sent
(an outgoing reservation under that message id) or received (an answered inbound message from
that sender), records the notice, and answers ``accepted`` or ``rejected`` with coded reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.protocol import NOTICE_KINDS, MessageKind
from gateway.sandbox.ledger import CATALOGUE, MALFORMED, UNSUPPORTED_KIND
from gateway.transfers.notices import KIND_NOTICE_TYPES, DeliveredNotice, parse_notice
from standards.errors import CarbonlinkError, ValidationFailed
from standards.findings import Finding, Layer, Location, Severity

_REF = "carbonlink sandbox registry (docs/sandbox.md, docs/transfers.md Notices)"
UNKNOWN_MESSAGE = CATALOGUE.add(
    "SANDBOX.UNKNOWN_MESSAGE", severity=Severity.ERROR, layer=Layer.CROSS_RECORD, reference=_REF,
    title="The notice names a message this registry neither sent nor received")
NOTICE_STATE = CATALOGUE.add(
    "SANDBOX.NOTICE_STATE", severity=Severity.ERROR, layer=Layer.CROSS_RECORD, reference=_REF,
    title="The message the notice names is in a state that rules the notice out")

NOTICE_KIND_NAMES = frozenset(k.value for k in NOTICE_KINDS)
#: ``answered(sender, message_id)`` -> ``(digest, status, answer)`` of a message already answered.
Answered = Callable[[str, str], tuple[str, int, bytes] | None]


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """An accepted notice, as the store keeps it."""

    kind: str
    notice_type: str
    transaction_status: int
    ref_sender: str
    ref_message_id: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "notice_type": self.notice_type, "transaction_status": self.transaction_status,
                "in_reply_to": {"sender": self.ref_sender, "message_id": self.ref_message_id}}


def check_notice(kind: str, body: bytes, *, sender: str, registry_id: str, outgoing: str,
                 answered: Answered) -> tuple[list[Finding], NoticeRecord | None]:
    """Coded reasons to refuse the notice (``[]`` when it is accepted) and what to record."""
    where = Location(pointer="")
    try:
        notice = parse_notice(body, DeliveredNotice)
    except ValidationFailed as exc:
        errors = [f for f in exc.findings if f.is_error]
        first = errors[0] if errors else None
        detail = f": {first.rule} at {first.location.render()}: {first.message}" if first else ""
        return [MALFORMED.finding(f"the notice is not valid notice JSON{detail}", where), *errors], None
    except CarbonlinkError as exc:
        return [MALFORMED.finding(f"the notice is not readable notice JSON: {exc.code}: {exc.message}", where)], None
    message_kind = MessageKind(kind)
    if notice.notice_type not in KIND_NOTICE_TYPES[message_kind]:
        return [UNSUPPORTED_KIND.finding(f"a {notice.notice_type} is not a {kind} notice",
                                         Location(pointer="/notice_type"))], None
    ref = notice.in_reply_to
    record = NoticeRecord(kind, notice.notice_type, notice.transaction_status, ref.sender, ref.message_id)
    pointer = Location(pointer="/in_reply_to")
    if message_kind is MessageKind.ACCEPTANCES:
        sent = answered(outgoing, ref.message_id) if ref.sender == registry_id else None
        if sent is None or sent[1] != 200:
            return [UNKNOWN_MESSAGE.finding(f"this registry ({registry_id}) sent no message {ref.message_id!r} "
                                            f"(no outgoing transfer reserved under that id)", pointer)], None
        return [], record
    received = answered(ref.sender, ref.message_id) if ref.sender == sender else None
    if received is None:
        return [UNKNOWN_MESSAGE.finding(f"this registry received no message {ref.message_id!r} from "
                                        f"{ref.sender!r}" + ("" if ref.sender == sender else
                                                             f" (the notice comes from {sender!r})"), pointer)], None
    if notice.notice_type == "completion" and received[1] != 200:
        return [NOTICE_STATE.finding(f"this registry rejected message {ref.message_id!r} from {ref.sender!r} "
                                     f"(HTTP {received[1]}); it cannot be completed", pointer)], None
    return [], record

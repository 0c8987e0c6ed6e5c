"""Notices: a registry's acceptance or rejection of a message it received, and the sender's
completion or termination of a message it sent (docs/transfers.md, "Notices").

Modelled on the Kyoto DES transaction flow (propose -> accept/reject -> complete/terminate,
transaction statuses 8 Accepted, 6 Rejected, 4 Completed, 5 Terminated). A notice names the
earlier message by ``(sender, message_id)``; the gateway holds no transfer state, so it checks the
notice against its evidence log (the original must be on record as relayed, with a receipt) and
routes it to the other party of that exchange:

* ``acceptances`` (``acceptance``, ``rejection``): from the registry that *received* the original,
  to the one that sent it;
* ``completions`` (``completion``, ``termination``): from the registry that *sent* the original,
  to the one that received it.

The delivered body is the canonical notice JSON (sorted keys, no whitespace) plus the DES
``transaction_status``, the same for every receiver format: AEF and CAD Trust have no notice
record, so there is nothing to translate it into. :class:`EvidenceNoticePlanner` is the notice
planner the transfer service is given; delivery, signing, receipt, idempotency and evidence are
the transfer path's own.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.evidence.log import EvidenceLog
from gateway.evidence.record import EvidenceRecord
from gateway.protocol import MESSAGE_ID_PATTERN, NOTICE_KINDS, MessageKind
from gateway.transfers._plan import Plan
from gateway.transfers._router import Router
from gateway.transfers._translator import NOTICE_CONTENT_TYPE, accepted_media_types, media_type_of
from gateway.transfers.errors import (
    KindMismatch,
    NoticeContentType,
    NoticeNotAParty,
    NoticeState,
    NoticeUnknownMessage,
)
from gateway.trust.directory import Participant
from standards.codec import Medium
from standards.errors import MalformedInput, ValidationFailed
from standards.findings import Finding, Layer, Location, RuleCatalogue, Severity, json_pointer
from standards.safeio import decode_text

#: The ``format`` a receipt names for a notice's inbound and outbound body.
NOTICE_FORMAT = "notice"
NoticeType = Literal["acceptance", "rejection", "completion", "termination"]
#: The notice types each notice kind carries.
KIND_NOTICE_TYPES: dict[MessageKind, tuple[str, ...]] = {
    MessageKind.ACCEPTANCES: ("acceptance", "rejection"),
    MessageKind.COMPLETIONS: ("completion", "termination"),
}
#: Kyoto DES ``transactionStatus`` of each notice type (DES 8.4: 8 Accepted, 6 Rejected, 4 Completed,
#: 5 Terminated).
TRANSACTION_STATUS: dict[str, int] = {"acceptance": 8, "rejection": 6, "completion": 4, "termination": 5}
#: Notice types that must give at least one reason.
NEEDS_REASONS = frozenset({"rejection", "termination"})
#: Receipt outcomes of a message that was relayed (the receiver answered).
RELAYED_OUTCOMES = ("accepted", "rejected")
#: The notice types each relayed outcome of the original allows (the others: NOTICE.STATE).
ALLOWED_AFTER: dict[str, frozenset[str]] = {
    "accepted": frozenset({"acceptance", "rejection", "completion", "termination"}),
    "rejected": frozenset({"rejection", "termination"}),
}

_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")

CATALOGUE = RuleCatalogue("notice")
_REFERENCE = "carbonlink notice JSON (docs/transfers.md, Notices); Kyoto DES transaction statuses"
SCHEMA = CATALOGUE.add("NOTICE.SCHEMA", severity=Severity.ERROR, layer=Layer.STRUCTURE,
                       title="The notice does not match the notice JSON model", reference=_REFERENCE)
REASONS_REQUIRED = CATALOGUE.add("NOTICE.REASONS_REQUIRED", severity=Severity.ERROR, layer=Layer.FIELD,
                                 title="A rejection or termination gives at least one reason", reference=_REFERENCE)

MessageId = Annotated[str, Field(pattern=MESSAGE_ID_PATTERN)]  # as Carbonlink-Message-Id
ParticipantId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]


class InReplyTo(BaseModel):
    """The message a notice is about: its sender's participant id and message id."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    message_id: MessageId
    sender: ParticipantId


class NoticeReason(BaseModel):
    """One coded reason (the registry's own code, e.g. a DES response code or SANDBOX.UNITS_NOT_HELD)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$")]
    detail: Annotated[str, Field(min_length=1, max_length=2000)]


class Notice(BaseModel):
    """A notice as a registry sends it (canonical notice JSON)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    notice_type: NoticeType
    in_reply_to: InReplyTo
    reasons: list[NoticeReason] = Field(default_factory=list, max_length=100)
    issued_at: str
    additional_information: Annotated[str, Field(max_length=4000)] | None = None

    @field_validator("issued_at")
    @classmethod
    def _rfc3339(cls, value: str) -> str:
        match = _RFC3339.match(value)
        if match is None:
            raise ValueError("issued_at is an RFC 3339 date-time with a time zone, e.g. 2024-06-03T10:00:00Z")
        day, clock, fraction, zone = match.groups()
        zone = "+00:00" if zone in ("Z", "z") else zone
        try:
            datetime.fromisoformat(f"{day}T{clock}{(fraction or '')[:7]}{zone}")
        except ValueError as exc:
            raise ValueError(f"issued_at {value!r} is not a real date and time") from exc
        return value

    def delivered(self) -> dict[str, Any]:
        """The body the gateway delivers: this notice plus its DES ``transaction_status``."""
        doc = self.model_dump(mode="json", exclude_none=True)
        doc["transaction_status"] = TRANSACTION_STATUS[self.notice_type]
        return doc


class DeliveredNotice(Notice):
    """A notice as the gateway delivers it (what a receiving registry reads)."""

    transaction_status: Literal[4, 5, 6, 8]

    @model_validator(mode="after")
    def _status_fits(self) -> DeliveredNotice:
        if TRANSACTION_STATUS[self.notice_type] != self.transaction_status:
            raise ValueError(f"transaction_status {self.transaction_status} is not that of a {self.notice_type} "
                             f"({TRANSACTION_STATUS[self.notice_type]})")
        return self


def _findings(exc: ValidationError) -> list[Finding]:
    findings = []
    for err in exc.errors(include_url=False):
        if err["type"] == "json_invalid":
            raise MalformedInput(f"the notice is not valid JSON: {err['msg']}", code="INPUT.JSON")
        pointer = json_pointer([p for p in err["loc"]])
        findings.append(SCHEMA.finding(f"{pointer or '/'}: {err['msg']}", Location(pointer=pointer),
                                       cause=err["type"]))
    return findings


N = TypeVar("N", bound="Notice")


def parse_notice(body: bytes, model: type[N]) -> N:
    """Read notice JSON into ``model``; every problem is a coded finding (ValidationFailed, 422)."""
    text = decode_text(body, what="notice JSON")
    try:
        notice = model.model_validate_json(text)
    except ValidationError as exc:
        raise ValidationFailed("the message is not valid notice JSON", findings=_findings(exc)) from exc
    if notice.notice_type in NEEDS_REASONS and not notice.reasons:
        raise ValidationFailed(f"a {notice.notice_type} gives its reasons", findings=[REASONS_REQUIRED.finding(
            f"/reasons: a {notice.notice_type} needs at least one reason ({{code, detail}})",
            Location(pointer="/reasons"))])
    return notice


def relayed_record(records: list[EvidenceRecord]) -> EvidenceRecord | None:
    """The receipted record among one message's evidence records (faults have no receipt)."""
    for record in reversed(records):
        if record.receipt is not None and record.verdicts.get("outcome") in RELAYED_OUTCOMES:
            return record
    return None


def resolve_party(evidence: EvidenceLog, sender: Participant, kind: MessageKind, notice: Notice) -> str:
    """Check the notice against the evidence log; return the id of the registry it goes to.

    A registry that is no party of the exchange at all gets the same answer as for a message that
    does not exist (NOTICE.UNKNOWN_MESSAGE), so notices cannot probe other registries' traffic.
    """
    ref = notice.in_reply_to
    what = f"message {ref.message_id!r} from {ref.sender!r}"
    if kind is MessageKind.ACCEPTANCES and ref.sender == sender.id:
        raise NoticeNotAParty(f"{what} is {sender.id!r}'s own message: only the registry that received it "
                              f"accepts or rejects it")
    if kind is MessageKind.COMPLETIONS and ref.sender != sender.id:
        raise NoticeNotAParty(f"only the registry that sent {what} completes or terminates it, not {sender.id!r}")
    records = evidence.find(ref.sender, ref.message_id)
    if kind is MessageKind.ACCEPTANCES:
        records = [r for r in records if r.receiver == sender.id]
    record = relayed_record(records)
    if record is None:
        if records:
            raise NoticeState(f"{what} was never delivered (its delivery failed; there is no receipt): there is "
                              f"nothing to answer with a {notice.notice_type}")
        if kind is MessageKind.ACCEPTANCES:
            raise NoticeUnknownMessage(f"no {what} was relayed to {sender.id!r} through this gateway")
        raise NoticeUnknownMessage(f"no {what} was relayed through this gateway")
    if record.kind in {k.value for k in NOTICE_KINDS}:
        raise NoticeState(f"{what} is itself a notice ({record.kind}); notices answer messages, not notices")
    outcome = str(record.verdicts["outcome"])
    if notice.notice_type not in ALLOWED_AFTER[outcome]:
        raise NoticeState(f"{what} was {outcome} by {record.receiver!r} when it was relayed "
                          f"(receipt {(record.receipt or {}).get('receipt_id')}); it cannot get a "
                          f"{notice.notice_type} (only {' or '.join(sorted(ALLOWED_AFTER[outcome]))})")
    return ref.sender if kind is MessageKind.ACCEPTANCES else record.receiver


class EvidenceNoticePlanner:
    """Plans notices: read as notice JSON, checked against the evidence log, routed to the other party."""

    kinds = NOTICE_KINDS

    def __init__(self, router: Router, evidence: EvidenceLog) -> None:
        self.router = router
        self.evidence = evidence

    def plan(self, sender: Participant, kind: MessageKind, body: bytes, content_type: str | None,
             receiver_hint: str | None) -> Plan:
        if media_type_of(content_type) not in accepted_media_types((), notice=True):
            raise NoticeContentType(f"a {kind.value} message is notice JSON ({NOTICE_CONTENT_TYPE} or "
                                    "application/json)")
        notice = parse_notice(body, Notice)
        if notice.notice_type not in KIND_NOTICE_TYPES[kind]:
            raise KindMismatch(f"a {notice.notice_type} is not a {kind.value} notice "
                               f"({' or '.join(KIND_NOTICE_TYPES[kind])})")
        party_id = resolve_party(self.evidence, sender, kind, notice)
        receiver = self.router.by_id(kind, party_id, receiver_hint)
        outbound = orjson.dumps(notice.delivered(), option=orjson.OPT_SORT_KEYS)
        return Plan(NOTICE_FORMAT, Medium.JSON, receiver, outbound, Medium.JSON, [], [], target_format=NOTICE_FORMAT)

"""What the message page shows of a record, in plain words: the receipt, the receiver's answer, every finding
with its rule, location and clause, and the record's place in the chain. Values from senders and receivers
are passed to the templates as data and escaped there (autoescaping), never marked safe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.evidence import EvidenceRecord

#: What each outcome means, for people.
OUTCOME_WORDS = {
    "accepted": "delivered, and the receiving registry accepted it",
    "rejected": "delivered, and the receiving registry rejected it",
    "fault": "not delivered: the receiving registry could not be reached or answered wrongly",
    "delivering": "being delivered (the gateway recorded its intent before delivering)",
    "audit": "an operator action on the console",
}
MAX_SHOWN_JSON = 20_000


@dataclass(frozen=True, slots=True)
class FindingView:
    rule: str
    severity: str
    message: str
    location: str
    clause: str
    source: str

    @property
    def sentence(self) -> str:
        return f"{self.message} (rule {self.rule}, at {self.location or 'the whole message'})"


@dataclass(frozen=True, slots=True)
class ChainPlace:
    seq: int
    ts: str
    prev_hash: str
    hash: str
    signature_kid: str
    next_seq: int | None
    next_links: bool | None


@dataclass(slots=True)
class MessageView:
    record: EvidenceRecord
    outcome: str
    words: str
    receipt: Mapping[str, Any] | None
    answer_json: str | None
    findings: list[FindingView] = field(default_factory=list)
    losses: list[Mapping[str, Any]] = field(default_factory=list)
    fault: tuple[str, str] | None = None
    chain: ChainPlace | None = None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def finding_view(item: Any, source: str) -> FindingView | None:
    """A finding dict (``standards.findings.Finding.as_dict``, or a receiver's like it) in plain words."""
    if not isinstance(item, Mapping):
        return None
    location = item.get("location")
    if isinstance(location, Mapping):
        location = location.get("pointer")
    return FindingView(rule=_text(item.get("rule") or item.get("code") or "-"),
                       severity=_text(item.get("severity") or "error"),
                       message=_text(item.get("message") or item.get("detail") or item.get("title")),
                       location=_text(location or item.get("pointer")),
                       clause=_text(item.get("reference") or item.get("clause")), source=source)


def _answer_findings(body: Any) -> list[FindingView]:
    if not isinstance(body, Mapping):
        return []
    found = []
    for name in ("reasons", "findings", "errors"):
        items = body.get(name)
        if isinstance(items, list):
            found += [v for v in (finding_view(i, "receiving registry") for i in items[:200]) if v is not None]
    return found


def _kid(signature: str) -> str:
    try:
        import base64

        header = signature.split(".")[0]
        doc = orjson.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        return str(doc.get("kid", "-"))
    except (ValueError, IndexError):
        return "-"


def chain_place(record: EvidenceRecord, following: tuple[int, str] | None) -> ChainPlace:
    return ChainPlace(seq=record.seq, ts=record.ts, prev_hash=record.prev_hash, hash=record.hash,
                      signature_kid=_kid(record.signature), next_seq=following[0] if following else None,
                      next_links=(following[1] == record.hash) if following else None)


def message_view(record: EvidenceRecord, following: tuple[int, str] | None) -> MessageView:
    outcome = _text(record.verdicts.get("outcome") or "-")
    view = MessageView(record=record, outcome=outcome, words=OUTCOME_WORDS.get(outcome, "recorded"),
                       receipt=record.receipt, answer_json=None, chain=chain_place(record, following))
    if outcome == "fault":
        view.fault = (_text(record.verdicts.get("code")), _text(record.verdicts.get("detail")))
    receipt = record.receipt or {}
    warnings = receipt.get("warnings")
    if isinstance(warnings, list):
        view.findings += [v for v in (finding_view(w, "gateway validation") for w in warnings) if v is not None]
    answer = receipt.get("receiver_answer")
    if isinstance(answer, Mapping):
        view.findings += _answer_findings(answer.get("body"))
        text = orjson.dumps(answer.get("body"), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
        view.answer_json = text if len(text) <= MAX_SHOWN_JSON else text[:MAX_SHOWN_JSON] + "\n... (cut)"
    losses = receipt.get("losses")
    if isinstance(losses, list):
        view.losses = [loss for loss in losses if isinstance(loss, Mapping)]
    return view

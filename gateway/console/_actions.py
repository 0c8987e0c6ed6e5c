"""Operator actions: each is put on record in the evidence log (a ``console.*`` record, hash-chained and
signed like every exchange) before it takes effect, so the chain shows who did what and when.

Suspending a registry is a hold at this gateway, on top of the signed directory (which only the governing
body can change): :meth:`gateway.trust.directory.DirectoryStore.hold` makes the registry ``suspended`` for
the relay (it can neither send nor receive) until it is reinstated. Every gateway process sharing the
evidence log reads the holds back from it (:func:`holds_on_record`), so they all apply them.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.console._reader import AUDIT_KINDS, EvidenceReader
from gateway.console._session import Operator
from gateway.console.errors import ConsoleForbidden, ConsoleInputInvalid, ConsoleNotFound
from gateway.evidence import (
    ChainReport,
    EvidenceLog,
    EvidenceRecord,
    Exchange,
    ExportSummary,
    JwkSigner,
    KeySetVerifier,
    export_log,
)
from gateway.trust.setup import Trust

SUSPEND, REINSTATE, EXPORT, VERIFY, SIGNIN, SIGNOUT = AUDIT_KINDS
MAX_REASON = 500


def _audit(log: EvidenceLog, operator: Operator, kind: str, about: str, **details: Any) -> EvidenceRecord:
    """Append the audit record of one action (raises, and the action does not happen, if the log refuses)."""
    verdicts = {"outcome": "audit", "action": kind.removeprefix("console."), "role": operator.role,
                "via": operator.via, **details}
    return log.append(Exchange(kind=kind, sender=operator.subject, receiver=about,
                               message_id=f"console-{uuid.uuid4()}", inbound_sha256=None, outbound_sha256=None,
                               receipt=None, verdicts=verdicts))


def session_tag(operator: Operator) -> str:
    """A short tag of a session (a hash of its random id, never the id itself): pairs a sign-in with its
    sign-out on record."""
    return hashlib.sha256(operator.sid.encode()).hexdigest()[:16]


def signed(log: EvidenceLog, operator: Operator, *, signing_in: bool) -> EvidenceRecord:
    """A sign-in or sign-out on record (before the session cookie is set or removed)."""
    return _audit(log, operator, SIGNIN if signing_in else SIGNOUT, operator.registry or "network",
                  session=session_tag(operator), expires=operator.expires)


def _network_only(operator: Operator, what: str) -> None:
    if not operator.sees_all:
        raise ConsoleForbidden(f"only the network operator may {what}")


def holds_on_record(reader: EvidenceReader) -> frozenset[str]:
    """The registries suspended at the gateway: the latest suspend/reinstate record of each decides."""
    held: dict[str, bool] = {}
    changes = sorted(reader.audit(10_000, kind=SUSPEND) + reader.audit(10_000, kind=REINSTATE),
                     key=lambda record: record.seq)
    for record in changes:
        held[record.receiver] = record.kind == SUSPEND
    return frozenset(pid for pid, on in held.items() if on)


def set_hold(trust: Trust, log: EvidenceLog, operator: Operator, participant_id: str, *, suspend: bool,
             reason: str) -> EvidenceRecord:
    """Suspend (or reinstate) ``participant_id`` at this gateway, on record first."""
    _network_only(operator, "suspend or reinstate a registry")
    directory = trust.directory.current()
    if directory.get(participant_id) is None:
        raise ConsoleNotFound(f"{participant_id!r} is not in the participant directory")
    reason = reason.strip()
    if suspend and not reason:
        raise ConsoleInputInvalid("say why the registry is suspended (the reason goes on record)")
    if len(reason) > MAX_REASON:
        raise ConsoleInputInvalid(f"the reason is longer than {MAX_REASON} characters")
    held = set(trust.directory.held)
    record = _audit(log, operator, SUSPEND if suspend else REINSTATE, participant_id, reason=reason,
                    directory_sequence=directory.sequence)
    if suspend:
        held.add(participant_id)
    else:
        held.discard(participant_id)
    trust.directory.hold(held)
    return record


@dataclass(frozen=True, slots=True)
class Export:
    path: Path
    summary: ExportSummary
    record: EvidenceRecord


def export(trust: Trust, log: EvidenceLog, operator: Operator) -> Export:
    """The whole chain as an export file (docs/evidence.md §Export) in a temporary folder; the caller
    sends and removes it. On record first, with the head the export ends at."""
    _network_only(operator, "export the evidence log")
    head_seq, head_hash = log.head()
    record = _audit(log, operator, EXPORT, "evidence-log", head_seq=head_seq, head_hash=head_hash)
    folder = Path(tempfile.mkdtemp(prefix="carbonlink-console-export-"))
    path = folder / f"evidence-{record.seq}.jsonl"
    summary = export_log(log, path, signer=JwkSigner(trust.keyring.current), jwks=trust.keyring.jwks())
    return Export(path, summary, record)


def verify(trust: Trust, log: EvidenceLog, operator: Operator) -> tuple[ChainReport, EvidenceRecord]:
    """Prove the whole chain against the gateway's published keys; the result goes on record (so the
    evidence page shows the last verification, whoever ran it and from whichever process)."""
    report = log.verify(KeySetVerifier.from_jwks(trust.keyring.jwks(), what="the gateway's keys"))
    first = report.findings[0].as_dict() if report.findings else None
    record = _audit(log, operator, VERIFY, "evidence-log", ok=report.ok, code=report.code, records=report.records,
                    head_seq=report.head_seq, head_hash=report.head_hash,
                    finding=None if first is None else {k: first[k] for k in ("rule", "message", "location")})
    return report, record

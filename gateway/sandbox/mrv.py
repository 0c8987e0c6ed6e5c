"""MRV messages at the sandbox registry (docs/sandbox.md, docs/mrv.md gateway section).

The sandbox keeps the monitoring reports and verification statements relayed to it, and issues on a valid
issuance request: one that cites a verification it received, of a report of a project it lists (the report names
this registry), for a vintage of the report's period, at most the verified quantity minus the buffer, and not
issued on before. It answers ``accepted`` with the :class:`IssuanceNotice` of the block it issued (next serials of
the project's series; ITMO identifiers of ``mrv_cooperative_approach`` when the sandbox has a Party, otherwise a
registry serial range), or ``rejected`` with coded reasons.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from gateway.mrv._documents import Document, digest_of, read_document
from gateway.protocol import MRV_KINDS, MessageKind
from gateway.sandbox.ledger import CATALOGUE, MALFORMED, UNSUPPORTED_KIND, Plan, Step
from gateway.sandbox.store import Decision, Loader
from gateway.sandbox.units import Block, Units, itmo_units, merge_all, range_units
from standards.errors import CarbonlinkError
from standards.findings import Finding, Layer, Location, Severity
from standards.itmo import ItmoBlock
from standards.mrv import IssuanceNotice, IssuanceRequest, MonitoringReport, SerialBlock, VerificationStatement

MRV_KIND_NAMES = frozenset(k.value for k in MRV_KINDS)
_REF = "carbonlink sandbox registry (docs/sandbox.md; docs/mrv.md, gateway section)"
MRV_REFUSED = CATALOGUE.add(
    "SANDBOX.MRV_REFUSED", severity=Severity.ERROR, layer=Layer.CROSS_RECORD, reference=_REF,
    title="The MRV document does not rest on documents this registry received, or asks for more than verified")
ISSUANCE_KIND = "Issuance"

Verdict = Callable[[list[Finding], list[dict[str, object]], IssuanceNotice | None], bytes]


def _refuse(message: str, pointer: str = "") -> list[Finding]:
    return [MRV_REFUSED.finding(message, Location(pointer=pointer))]


def _kept(db: sqlite3.Connection, kind: MessageKind, digest: str) -> Document | None:
    row = db.execute("SELECT body FROM mrv_documents WHERE kind = ? AND digest = ?", (kind.value, digest)).fetchone()
    return None if row is None else read_document(kind, str(row[0]))


def _keep(db: sqlite3.Connection, kind: MessageKind, doc: Document, sender: str, message_id: str, body: bytes
          ) -> None:
    db.execute("INSERT OR IGNORE INTO mrv_documents (kind, digest, sender, message_id, body) VALUES (?, ?, ?, ?, ?)",
               (kind.value, digest_of(doc), sender, message_id, body.decode("utf-8")))


class SandboxMrv:
    """Decides one MRV message (see module docstring) inside the store's transaction."""

    def __init__(self, registry_id: str, party: str | None, account: str, cooperative_approach: str) -> None:
        self.registry_id = registry_id
        self.party = party
        self.account = account
        self.cooperative_approach = cooperative_approach

    def decide(self, db: sqlite3.Connection, load: Loader, kind_name: str, sender: str, message_id: str, body: bytes,
               verdict: Verdict) -> Decision:
        kind = MessageKind(kind_name)
        if kind is MessageKind.ISSUANCE_NOTICES:
            return Decision(422, verdict([UNSUPPORTED_KIND.finding("a registry answers issuance requests with "
                                                                   "notices; it takes none", Location())], [], None))
        try:
            doc = read_document(kind, body)
        except CarbonlinkError as exc:
            first = exc.findings[0].message if exc.findings else exc.message
            return Decision(422, verdict([MALFORMED.finding(f"not a valid {kind.value} document: {first}",
                                                            Location())], [], None))
        findings = self._check(db, kind, doc)
        if findings:
            return Decision(422, verdict(findings, [], None))
        _keep(db, kind, doc, sender, message_id, body)
        if not isinstance(doc, IssuanceRequest):
            return Decision(200, verdict([], [], None))
        plan, notice = self._issue(db, load, doc, message_id)
        return Decision(200, verdict([], [s.as_dict() for s in plan.steps], notice), plan)

    def _check(self, db: sqlite3.Connection, kind: MessageKind, doc: Document) -> list[Finding]:
        if isinstance(doc, MonitoringReport):
            if doc.registry != self.registry_id:
                return _refuse(f"the report names registry {doc.registry!r}, not this one ({self.registry_id})",
                               "/registry")
            return []
        if isinstance(doc, VerificationStatement):
            if _kept(db, MessageKind.MONITORING_REPORTS, doc.report_digest) is None:
                return _refuse(f"this registry received no monitoring report {doc.report_digest}", "/report_digest")
            return []
        assert isinstance(doc, IssuanceRequest)
        return self._check_request(db, doc)

    def _check_request(self, db: sqlite3.Connection, request: IssuanceRequest) -> list[Finding]:
        if request.registry != self.registry_id:
            return _refuse(f"the request asks registry {request.registry!r}, not this one", "/registry")
        statement = _kept(db, MessageKind.VERIFICATIONS, request.verification_digest)
        if not isinstance(statement, VerificationStatement):
            return _refuse(f"this registry received no verification {request.verification_digest}",
                           "/verification_digest")
        report = _kept(db, MessageKind.MONITORING_REPORTS, statement.report_digest)
        assert isinstance(report, MonitoringReport)
        if request.project_id != report.project_id:
            return _refuse(f"project {request.project_id!r} is not the verified report's {report.project_id!r}",
                           "/project_id")
        if not report.period.start.year <= request.vintage <= report.period.end.year:
            return _refuse(f"vintage {request.vintage} is outside the monitoring period", "/vintage")
        if statement.opinion.value == "adverse":
            return _refuse("the verification's opinion is adverse", "/verification_digest")
        if Decimal(request.quantity) > statement.verified_quantity - report.buffer:
            return _refuse(f"{request.quantity} units asked; at most {statement.verified_quantity - report.buffer} "
                           "are issuable (verified minus buffer)", "/quantity")
        if _issued_on(db, request.verification_digest):
            return _refuse(f"units were already issued on verification {request.verification_digest}",
                           "/verification_digest")
        return []

    def _units(self, request: IssuanceRequest, first: int, last: int) -> Units:
        if self.party is not None:
            return itmo_units(ItmoBlock(self.cooperative_approach, f"{self.party}01", self.party, request.vintage,
                                        first, last))
        return range_units(self.registry_id, first, last, unit_type="MRV", project_id=request.project_id,
                           vintage=request.vintage)

    def _issue(self, db: sqlite3.Connection, load: Loader, request: IssuanceRequest, message_id: str
               ) -> tuple[Plan, IssuanceNotice]:
        series = self._units(request, 1, 1).series
        held = load([series])
        row = db.execute("SELECT next FROM mrv_serials WHERE series = ?", (series,)).fetchone()
        first = max([int(row[0]) if row else 1, *(b.last + 1 for b in held)])
        last = first + request.quantity - 1
        units = self._units(request, first, last)
        db.execute("INSERT OR REPLACE INTO mrv_serials (series, next) VALUES (?, ?)", (series, last + 1))
        plan = Plan(steps=[Step(0, ISSUANCE_KIND, "credit", units.label(), units.quantity, self.account)],
                    series={series}, after=merge_all([*held, Block.of(units, self.account)]))
        notice = IssuanceNotice(
            notice_id=f"{self.registry_id}-{message_id}"[:200], project_id=request.project_id,
            registry=self.registry_id, request_digest=digest_of(request),
            block=SerialBlock(first=first, last=last, serial=units.label()), quantity=request.quantity,
            vintage=request.vintage, issued_on=datetime.now(UTC).date())
        return plan, notice


def _issued_on(db: sqlite3.Connection, verification_digest: str) -> bool:
    rows = db.execute("SELECT body FROM mrv_documents WHERE kind = 'issuance-requests'").fetchall()
    return any(json.loads(row[0]).get("verification_digest") == verification_digest for row in rows)

"""The gateway's checks of MRV messages, with the facts only it has: what it relayed before (reports and
verifications by digest, periods of every project across every registry it serves), the directory's roles and
accreditations, and the evidence files uploaded to it.

:class:`MrvPlanner` plans the MRV message kinds for the transfer path (as the notice planner plans notices): read
the document, check the sender's role and the chain, route it to the project's registry. The body is delivered
as sent (canonical MRV JSON is every registry's format for these kinds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.mrv._documents import MRV_FORMAT, Document, digest_of, read_document
from gateway.mrv._store import ACCEPTED, DELIVERING, MrvStore, StoredMessage
from gateway.mrv.errors import (
    AlreadyRequested,
    ChainMismatch,
    EvidenceMissing,
    MrvContentType,
    MrvError,
    MrvRoleRefused,
    QuantityRefused,
    ReportUnknown,
    VerificationUnknown,
    VerifierNotAccredited,
    VerifierNotIndependent,
)
from gateway.protocol import MRV_KINDS, MessageKind
from gateway.transfers import Plan, Router
from gateway.transfers.errors import ReceiverUnknown
from gateway.trust.directory import Participant
from gateway.trust.roles import Role
from standards.codec import Medium
from standards.findings import Finding
from standards.mrv import (
    IssuanceRequest,
    MonitoringReport,
    VerificationStatement,
    check_issuance,
    check_verification,
    check_verifier,
)

#: The directory role each MRV kind's sender must hold.
SENDER_ROLE: dict[MessageKind, Role] = {
    MessageKind.MONITORING_REPORTS: Role.MRV_SYSTEM,
    MessageKind.VERIFICATIONS: Role.VERIFIER,
    MessageKind.ISSUANCE_REQUESTS: Role.MRV_SYSTEM,
    MessageKind.ISSUANCE_NOTICES: Role.REGISTRY_OPERATOR,
}
_JSON_TYPES = ("application/json", "application/vnd.carbonlink.mrv+json")


@dataclass(frozen=True, slots=True)
class MrvPlan(Plan):
    """A planned MRV message: its document, digest and the record the store keeps of it."""

    document: Document | None = None
    stored: StoredMessage | None = None
    #: For an issuance request: the report and verification it rests on.
    chain: dict[str, StoredMessage] = field(default_factory=dict)


#: The gateway's refusal for each finding of the chain checks (standards.mrv.chain); others: ChainMismatch.
_REFUSALS: dict[str, type[MrvError]] = {
    "MRV.VERIFIER_NOT_INDEPENDENT": VerifierNotIndependent, "MRV.VERIFIER_NOT_ACCREDITED": VerifierNotAccredited,
    "MRV.VERIFIED_EXCEEDS_REPORTED": QuantityRefused, "MRV.ISSUANCE_EXCEEDS_VERIFIED": QuantityRefused,
    "MRV.OPINION_ADVERSE": QuantityRefused}


def _refuse_on(findings: list[Finding]) -> None:
    """Raise the gateway's refusal for the first error among the chain checks' findings (all of them attached)."""
    errors = [f for f in findings if f.is_error]
    if errors:
        refusal = _REFUSALS.get(errors[0].rule, ChainMismatch)
        raise refusal(f"{errors[0].rule}: {errors[0].message}" + (f" (and {len(errors) - 1} more)"
                                                                   if len(errors) > 1 else ""), findings=findings)


def _relayed(store: MrvStore, kind: MessageKind, digest: str) -> StoredMessage | None:
    """The message of ``kind`` with ``digest`` the receiver accepted, if any."""
    return next((m for m in store.by_digest(kind.value, digest) if m.status == ACCEPTED), None)


class MrvPlanner:
    """Plans monitoring reports, verifications and issuance requests (see module docstring)."""

    kinds = MRV_KINDS

    def __init__(self, router: Router, store: MrvStore) -> None:
        self.router = router
        self.store = store

    def plan(self, sender: Participant, kind: MessageKind, body: bytes, content_type: str | None,
             receiver_hint: str | None) -> MrvPlan:
        media = (content_type or "").split(";")[0].strip().lower()
        if media not in _JSON_TYPES:
            raise MrvContentType(f"a {kind.value} message is MRV JSON ({' or '.join(_JSON_TYPES)}), not "
                                 f"{media or 'a body without Content-Type'}")
        role = SENDER_ROLE[kind]
        if not sender.holds(role.value):
            raise MrvRoleRefused(f"{sender.id!r} does not hold the {role.value} role the directory must give a "
                                 f"sender of {kind.value}")
        if kind is MessageKind.ISSUANCE_NOTICES:
            raise MrvRoleRefused("an issuance notice is the registry's signed answer to an issuance request relayed "
                                 "through the gateway; it is not sent as a message of its own")
        doc = read_document(kind, body)
        digest = digest_of(doc)
        chain: dict[str, StoredMessage] = {}
        if isinstance(doc, MonitoringReport):
            registry = self._report(sender, doc)
            stored = StoredMessage(kind.value, sender.id, "", registry, digest, None, doc.project_id,
                                   doc.period.start.isoformat(), doc.period.end.isoformat(), "", DELIVERING)
        elif isinstance(doc, VerificationStatement):
            report = self._verification(sender, doc)
            registry = report.receiver
            stored = StoredMessage(kind.value, sender.id, "", registry, digest, doc.report_digest, doc.project_id,
                                   None, None, "", DELIVERING)
        else:
            assert isinstance(doc, IssuanceRequest)
            chain = self._request(sender, doc)
            registry = doc.registry
            stored = StoredMessage(kind.value, sender.id, "", registry, digest, doc.verification_digest,
                                   doc.project_id, None, None, "", DELIVERING)
        receiver = self.router.by_id(kind, registry, receiver_hint)
        return MrvPlan(MRV_FORMAT, Medium.JSON, receiver, body, Medium.JSON, [], [], target_format=MRV_FORMAT,
                       document=doc, stored=stored, chain=chain)

    # -- the checks of each kind ------------------------------------------------------------------

    def _report(self, sender: Participant, report: MonitoringReport) -> str:
        if report.mrv_system != sender.id:
            raise MrvRoleRefused(f"the report names MRV system {report.mrv_system!r}, but {sender.id!r} sends it")
        for i, evidence in enumerate(report.evidence):
            attested = [e for e in self.store.evidence(evidence.sha256) if e.uploaded_by == sender.id]
            if not attested:
                raise EvidenceMissing(f"/evidence/{i}: evidence file {evidence.name!r} ({evidence.sha256}) was never "
                                      f"uploaded to this gateway by {sender.id!r} (PUT /v1/mrv/evidence/{{sha256}})")
            if attested[0].size != evidence.size:
                raise EvidenceMissing(f"/evidence/{i}: evidence file {evidence.name!r} is {attested[0].size} bytes as "
                                      f"uploaded, not {evidence.size} as the report says")
        if report.registry is None:
            raise ReceiverUnknown("the report names no registry (the registry that lists the project)")
        return report.registry

    def _verification(self, sender: Participant, statement: VerificationStatement) -> StoredMessage:
        if statement.verifier.participant != sender.id:
            raise MrvRoleRefused(f"the statement names verifier {statement.verifier.participant!r}, but "
                                 f"{sender.id!r} sends it")
        report_message = _relayed(self.store, MessageKind.MONITORING_REPORTS, statement.report_digest)
        if report_message is None:
            raise ReportUnknown(f"no monitoring report with digest {statement.report_digest} was relayed (and "
                                "accepted by its registry) through this gateway")
        report = read_document(MessageKind.MONITORING_REPORTS, report_message.body)
        assert isinstance(report, MonitoringReport)
        accredited = frozenset(s for g in sender.roles if g.role is Role.VERIFIER for s in g.sectors)
        findings = check_verifier(report, statement, accredited_sectors=accredited,
                                  mrv_operators=self._operators(sender, report, report_message))
        findings += check_verification(report, statement, report_digest=report_message.digest)
        _refuse_on(findings)
        return report_message

    def _operators(self, verifier: Participant, report: MonitoringReport, message: StoredMessage) -> set[str]:
        """Who operates the MRV system that reported: its sender, and the verifier too when the directory names
        the verifier and an operator alike (one organisation under two entries)."""
        operators = {message.sender, report.mrv_system, *([report.operator] if report.operator else [])}
        directory = self.router.directory.current()
        names = {p.name.strip().casefold() for p in (directory.get(i) for i in operators) if p and p.name.strip()}
        if verifier.name.strip() and verifier.name.strip().casefold() in names:
            operators.add(verifier.id)
        return operators

    def _request(self, sender: Participant, request: IssuanceRequest) -> dict[str, StoredMessage]:
        verification_message = _relayed(self.store, MessageKind.VERIFICATIONS, request.verification_digest)
        if verification_message is None:
            raise VerificationUnknown(f"no verification statement with digest {request.verification_digest} was "
                                      "relayed (and accepted by its registry) through this gateway")
        statement = read_document(MessageKind.VERIFICATIONS, verification_message.body)
        assert isinstance(statement, VerificationStatement)
        report_message = _relayed(self.store, MessageKind.MONITORING_REPORTS, statement.report_digest)
        if report_message is None:  # pragma: no cover - a verification is only relayed on a relayed report
            raise ReportUnknown(f"the verification cites report {statement.report_digest}, not on record")
        report = read_document(MessageKind.MONITORING_REPORTS, report_message.body)
        assert isinstance(report, MonitoringReport)
        if report_message.sender != sender.id:
            raise MrvRoleRefused(f"only the MRV system that reported ({report_message.sender!r}) asks for issuance "
                                 f"on it, not {sender.id!r}")
        if request.registry != report_message.receiver:
            raise ChainMismatch(f"the request asks {request.registry!r} to issue; the project's report went to "
                                f"{report_message.receiver!r}")
        _refuse_on(check_issuance(report, statement, request, statement_digest=verification_message.digest))
        earlier = [m for m in self.store.citing(MessageKind.ISSUANCE_REQUESTS.value, request.verification_digest)
                   if m.status in (DELIVERING, ACCEPTED)]
        if earlier:
            raise AlreadyRequested(f"issuance on verification {request.verification_digest} was already requested "
                                   f"(message {earlier[0].message_id!r} from {earlier[0].sender!r})")
        return {"report": report_message, "verification": verification_message}

"""Checks across the documents of a chain, and across the reports of one project.

* :func:`check_verification`: the statement cites the report's exact digest, same project and
  period, verified <= reported, verified after the report.
* :func:`check_verifier`: the verifier is accredited for the report's sector (the facts come from the
  directory's roles) and is neither the MRV system nor its operator.
* :func:`check_issuance`: the request cites the statement's digest, the opinion is not adverse,
  quantity <= verified - buffer, the vintage is a year of the period, requested after verified.
* :func:`check_notice`: the notice cites the request's digest and issues exactly its quantity.
* :func:`check_chain`: all of these, in order. They compare documents with one another only: what a
  document must satisfy on its own (a block that runs forwards, known units...) is
  :func:`standards.mrv.check_document`'s, which :func:`standards.mrv.read_document` runs.
* :func:`check_period_overlaps`: monitoring periods of one project do not overlap, over any list
  of reports or :class:`PeriodClaim` (from one registry or many).

Every function is pure: it returns coded findings and raises nothing on bad data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from standards.findings import Finding
from standards.mrv.digest import document_digest
from standards.mrv.model import (
    IssuanceNotice,
    IssuanceRequest,
    MonitoringReport,
    Opinion,
    VerificationStatement,
)
from standards.mrv.rules import finding

#: Most overlap findings :func:`check_period_overlaps` lists.
MAX_OVERLAP_FINDINGS = 1000


def _project(expected: str, got: str, what: str) -> list[Finding]:
    if expected == got:
        return []
    return [finding("MRV.PROJECT_MISMATCH", ("project_id",), f"the {what} is for project {got!r}, not {expected!r}",
                    cause={"expected": expected, "got": got})]


def _after(later: date, earlier: date, path: str, message: str) -> list[Finding]:
    return [] if later >= earlier else [finding("MRV.DATE_ORDER", (path,), message)]


def check_verification(report: MonitoringReport, statement: VerificationStatement, *,
                       report_digest: str | None = None) -> list[Finding]:
    """The statement verifies this report (``report_digest``: the report's digest if already computed)."""
    digest = report_digest or document_digest(report)
    out = []
    if statement.report_digest != digest:
        out.append(finding("MRV.REPORT_DIGEST", ("report_digest",),
                           f"the statement cites report {statement.report_digest}, the report's digest is {digest}",
                           cause={"cited": statement.report_digest, "actual": digest}))
    out += _project(report.project_id, statement.project_id, "verification statement")
    if statement.period is not None and statement.period != report.period:
        out.append(finding("MRV.PERIOD_MISMATCH", ("period",),
                           f"the statement covers {statement.period.start}..{statement.period.end}, the report "
                           f"{report.period.start}..{report.period.end}"))
    if statement.verified_quantity > report.reported_quantity:
        out.append(finding("MRV.VERIFIED_EXCEEDS_REPORTED", ("verified_quantity",),
                           f"verified {statement.verified_quantity} tCO2e exceeds the reported "
                           f"{report.reported_quantity} tCO2e",
                           cause={"verified": str(statement.verified_quantity),
                                  "reported": str(report.reported_quantity)}))
    out += _after(statement.verified_on, report.prepared_on, "verified_on",
                  f"verified on {statement.verified_on}, before the report's date {report.prepared_on}")
    return out


def check_verifier(report: MonitoringReport, statement: VerificationStatement, *,
                   accredited_sectors: Iterable[str] | None, mrv_operators: Iterable[str] = ()) -> list[Finding]:
    """The verifier may verify this report.

    ``accredited_sectors``: the sectors of the verifier role the directory gives the statement's
    ``verifier.participant`` (None when it holds no verifier role); ``mrv_operators``: further
    participant ids that operate the report's MRV system (``report.mrv_system`` and
    ``report.operator`` always count).
    """
    out = []
    verifier = statement.verifier.participant
    operators = {report.mrv_system, *mrv_operators} | ({report.operator} if report.operator else set())
    if verifier in operators:
        out.append(finding("MRV.VERIFIER_NOT_INDEPENDENT", ("verifier", "participant"),
                           f"verifier {verifier!r} operates the MRV system that wrote the report",
                           cause={"verifier": verifier, "operators": sorted(operators)}))
    if accredited_sectors is None:
        out.append(finding("MRV.VERIFIER_NOT_ACCREDITED", ("verifier", "participant"),
                           f"{verifier!r} holds no verifier role in the directory"))
    elif report.sector not in set(accredited_sectors):
        out.append(finding("MRV.VERIFIER_NOT_ACCREDITED", ("verifier", "participant"),
                           f"{verifier!r} is not accredited for the sector {report.sector!r} in the directory",
                           cause={"sector": report.sector, "accredited": sorted(accredited_sectors)}))
    if report.sector not in statement.verifier.sectors:
        out.append(finding("MRV.VERIFIER_NOT_ACCREDITED", ("verifier", "sectors"),
                           f"the statement's accreditation does not cover the sector {report.sector!r}"))
    return out


def check_issuance(report: MonitoringReport, statement: VerificationStatement, request: IssuanceRequest, *,
                   statement_digest: str | None = None) -> list[Finding]:
    """The request may be granted on this verification of this report."""
    digest = statement_digest or document_digest(statement)
    out = []
    if request.verification_digest != digest:
        out.append(finding("MRV.VERIFICATION_DIGEST", ("verification_digest",),
                           f"the request cites verification {request.verification_digest}, the statement's digest "
                           f"is {digest}", cause={"cited": request.verification_digest, "actual": digest}))
    out += _project(statement.project_id, request.project_id, "issuance request")
    if statement.opinion is Opinion.ADVERSE:
        out.append(finding("MRV.OPINION_ADVERSE", ("verification_digest",),
                           "the verification's opinion is adverse: nothing can be issued on it"))
    issuable = statement.verified_quantity - report.buffer
    if request.quantity > issuable:
        out.append(finding("MRV.ISSUANCE_EXCEEDS_VERIFIED", ("quantity",),
                           f"requested {request.quantity} exceeds verified {statement.verified_quantity} minus "
                           f"buffer {report.buffer} = {issuable} tCO2e",
                           cause={"requested": request.quantity, "issuable": str(issuable)}))
    if not report.period.start.year <= request.vintage <= report.period.end.year:
        out.append(finding("MRV.VINTAGE_OUTSIDE_PERIOD", ("vintage",),
                           f"vintage {request.vintage} is not a year of the period {report.period.start}.."
                           f"{report.period.end}"))
    out += _after(request.requested_on, statement.verified_on, "requested_on",
                  f"requested on {request.requested_on}, before the verification {statement.verified_on}")
    return out


def check_notice(request: IssuanceRequest, notice: IssuanceNotice, *,
                 request_digest: str | None = None) -> list[Finding]:
    """The notice answers this request and its block holds exactly the requested quantity."""
    digest = request_digest or document_digest(request)
    out = []
    if notice.request_digest != digest:
        out.append(finding("MRV.REQUEST_DIGEST", ("request_digest",),
                           f"the notice cites request {notice.request_digest}, the request's digest is {digest}",
                           cause={"cited": notice.request_digest, "actual": digest}))
    out += _project(request.project_id, notice.project_id, "issuance notice")
    if notice.quantity != request.quantity or notice.block.size != request.quantity:
        out.append(finding("MRV.BLOCK_QUANTITY", ("block",),
                           f"issued {notice.block.size} units (notice quantity {notice.quantity}), requested "
                           f"{request.quantity}", cause={"block": notice.block.size, "requested": request.quantity}))
    for field in ("registry", "vintage"):
        if getattr(notice, field) != getattr(request, field):
            out.append(finding("MRV.NOTICE_MISMATCH", (field,),
                               f"the notice's {field} {getattr(notice, field)!r} is not the request's "
                               f"{getattr(request, field)!r}"))
    out += _after(notice.issued_on, request.requested_on, "issued_on",
                  f"issued on {notice.issued_on}, before the request {request.requested_on}")
    return out


@dataclass(frozen=True, slots=True)
class VerifierFacts:
    """What the directory says about a chain's participants (see :func:`check_verifier`)."""

    accredited_sectors: frozenset[str] | None
    mrv_operators: frozenset[str] = frozenset()


def check_chain(report: MonitoringReport, statement: VerificationStatement, request: IssuanceRequest | None = None,
                notice: IssuanceNotice | None = None, *, verifier: VerifierFacts | None = None) -> list[Finding]:
    """Every cross-document check of a chain, as far as it goes (``verifier`` None: the verifier's
    accreditation and independence are not checked)."""
    out = check_verification(report, statement)
    if verifier is not None:
        out += check_verifier(report, statement, accredited_sectors=verifier.accredited_sectors,
                              mrv_operators=verifier.mrv_operators)
    if request is not None:
        out += check_issuance(report, statement, request)
        if notice is not None:
            out += check_notice(request, notice)
    return out


@dataclass(frozen=True, slots=True)
class PeriodClaim:
    """One monitoring period a project claims: from a report here or a record at another registry."""

    project_id: str
    start: date
    end: date
    ref: str
    registry: str | None = None


def period_claim(report: MonitoringReport, *, ref: str | None = None) -> PeriodClaim:
    """The claim a report makes (``ref``: how findings name it; default the report's digest)."""
    return PeriodClaim(report.project_id, report.period.start, report.period.end, ref or document_digest(report),
                       report.registry)


def check_period_overlaps(items: Iterable[MonitoringReport | PeriodClaim]) -> list[Finding]:
    """A finding for each pair of claims of one project whose periods share a day.

    A claim whose ``ref`` was met before (the same report listed twice) is left out. The pointer is the
    index in ``items`` of the claim that starts later; ``cause`` names both claims and their registries.
    """
    by_project: dict[str, list[tuple[int, PeriodClaim]]] = {}
    seen: set[str] = set()
    for index, item in enumerate(items):
        claim = item if isinstance(item, PeriodClaim) else period_claim(item)
        if claim.ref not in seen:
            seen.add(claim.ref)
            by_project.setdefault(claim.project_id, []).append((index, claim))
    out: list[Finding] = []
    for group in by_project.values():
        group.sort(key=lambda ic: (ic[1].start, ic[1].end, ic[0]))
        open_claims: list[tuple[int, PeriodClaim]] = []
        for index, claim in group:
            open_claims = [oc for oc in open_claims if oc[1].end >= claim.start]
            for _, other in open_claims:
                out.append(_overlap(index, claim, other))
                if len(out) >= MAX_OVERLAP_FINDINGS:
                    return out
            open_claims.append((index, claim))
    return out


def _overlap(index: int, claim: PeriodClaim, other: PeriodClaim) -> Finding:
    where = f" at {other.registry}" if other.registry else ""
    return finding("MRV.PERIOD_OVERLAP", (index, "period"),
                   f"project {claim.project_id!r}: period {claim.start}..{claim.end} overlaps "
                   f"{other.start}..{other.end} ({other.ref}{where})",
                   cause={"claim": claim.ref, "registry": claim.registry, "overlaps": other.ref,
                          "overlaps_registry": other.registry})


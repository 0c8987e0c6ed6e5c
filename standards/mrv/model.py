"""The canonical MRV model: the four documents that take monitoring data to issued units.

An MRV system writes a :class:`MonitoringReport` (a project's measurements over one monitoring
period and the emission reductions/removals calculated from them); a verifier answers with a
:class:`VerificationStatement` that cites the report by digest; the project's registry is sent an
:class:`IssuanceRequest` that cites the verification by digest, and answers with an
:class:`IssuanceNotice` naming the serial block it issued. Each document is self-contained JSON:
quantities are decimals (written as strings), dates ISO 8601, digests lowercase SHA-256 hex, and
a document's own digest is the SHA-256 of its JCS bytes (:func:`standards.mrv.document_digest`).

Bounds are part of the model (:data:`MAX_PARAMETERS`, :data:`MAX_EVIDENCE_FILES`, string and
decimal sizes), so a hostile document fails validation with a coded finding instead of being read.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

#: Version of the MRV document shapes; part of every document (``"mrv_version": "1"``).
MRV_VERSION: Literal["1"] = "1"
#: Most measured parameters one monitoring report may carry.
MAX_PARAMETERS = 1000
#: Most evidence files one monitoring report may cite.
MAX_EVIDENCE_FILES = 500
#: Most findings one verification statement may carry.
MAX_VERIFIER_FINDINGS = 500
#: Longest unit string accepted (the unit parser never sees a longer one).
MAX_UNIT_LENGTH = 64
#: Largest evidence file a report may cite (bytes; the evidence store may set a lower bound).
MAX_EVIDENCE_SIZE = 2**40


def decimal_text(value: Decimal) -> str:
    """A decimal in its one canonical spelling: plain notation, no trailing zeros (``100.50`` -> ``100.5``)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


_DecimalText = PlainSerializer(decimal_text, return_type=str, when_used="json")


Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="lowercase hexadecimal SHA-256 digest")]
Identifier = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
Text = Annotated[str, Field(max_length=4000)]
#: A quantity in tonnes of CO2 equivalent: non-negative, at most 18 integer digits and 6 decimals.
Tonnes = Annotated[Decimal, Field(ge=0, max_digits=24, decimal_places=6, allow_inf_nan=False), _DecimalText]
#: A measured value: finite, at most 30 significant digits and 12 decimals.
Measured = Annotated[Decimal, Field(max_digits=30, decimal_places=12, allow_inf_nan=False), _DecimalText]
Year = Annotated[int, Field(ge=1990, le=2100)]


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Period(_Document):
    """A monitoring period: both days included."""

    start: date
    end: date


class Methodology(_Document):
    """The methodology the reductions are calculated with (e.g. ``AMS-I.D`` version ``18.0``)."""

    id: Identifier
    version: Identifier


class MeasuredParameter(_Document):
    """One monitored parameter: its value in the unit the MRV system measured it in."""

    name: Identifier
    value: Measured
    unit: Annotated[str, Field(min_length=1, max_length=MAX_UNIT_LENGTH,
                               description="a unit expression pint reads, e.g. 'MWh', 'm**3', 't', 'percent'")]
    description: Text | None = None


class EvidenceFile(_Document):
    """A file the report rests on, by content: its name, size in bytes and SHA-256."""

    name: Identifier
    sha256: Sha256
    size: Annotated[int, Field(ge=0, le=MAX_EVIDENCE_SIZE)]
    media_type: Annotated[str, Field(max_length=200)] | None = None


class MonitoringReport(_Document):
    """What an MRV system reports for one project and one monitoring period."""

    kind: Literal["monitoring-report"] = "monitoring-report"
    mrv_version: Literal["1"] = "1"
    report_id: Identifier
    project_id: Identifier
    registry: Identifier | None = Field(None, description="the registry that lists the project (participant id)")
    mrv_system: Identifier = Field(description="participant id of the MRV system that produced the report")
    operator: Identifier | None = Field(None, description="participant id of the organisation operating the MRV "
                                        "system, when it is not the MRV system itself")
    sector: Identifier = Field(description="Common Nomenclature sector, e.g. 'Energy generation'")
    methodology: Methodology
    period: Period
    prepared_on: date
    parameters: Annotated[list[MeasuredParameter], Field(max_length=MAX_PARAMETERS)]
    emission_reductions: Tonnes = Field(description="calculated emission reductions, tCO2e")
    removals: Tonnes = Field(Decimal(0), description="calculated removals, tCO2e")
    buffer: Tonnes = Field(Decimal(0), description="tCO2e set aside to a buffer pool (not issuable)")
    evidence: Annotated[list[EvidenceFile], Field(max_length=MAX_EVIDENCE_FILES)] = []

    @property
    def reported_quantity(self) -> Decimal:
        """Reductions plus removals, tCO2e."""
        return self.emission_reductions + self.removals


class Opinion(StrEnum):
    POSITIVE = "positive"
    QUALIFIED = "qualified"
    ADVERSE = "adverse"


class VerifierFinding(_Document):
    """A finding the verifier raised (a corrective action request, clarification, forward action...)."""

    id: Identifier
    type: Identifier = Field(description="e.g. 'CAR', 'CL', 'FAR'")
    text: Text
    resolved: bool = False


class Verifier(_Document):
    """Who verified: the participant, its accreditation and the sectors it is accredited for."""

    participant: Identifier
    accreditation_id: Identifier
    accreditation_body: Identifier | None = None
    sectors: Annotated[list[Identifier], Field(min_length=1, max_length=50)]


class VerificationStatement(_Document):
    """A verifier's opinion on one monitoring report, which it cites by digest."""

    kind: Literal["verification-statement"] = "verification-statement"
    mrv_version: Literal["1"] = "1"
    statement_id: Identifier
    project_id: Identifier
    report_digest: Sha256
    period: Period | None = Field(None, description="the monitoring period verified (as in the report)")
    verified_quantity: Tonnes = Field(description="verified reductions plus removals, tCO2e")
    opinion: Opinion
    findings: Annotated[list[VerifierFinding], Field(max_length=MAX_VERIFIER_FINDINGS)] = []
    verifier: Verifier
    verified_on: date


class IssuanceRequest(_Document):
    """A request to the project's registry to issue units on one verification."""

    kind: Literal["issuance-request"] = "issuance-request"
    mrv_version: Literal["1"] = "1"
    request_id: Identifier
    project_id: Identifier
    registry: Identifier = Field(description="participant id of the registry asked to issue")
    verification_digest: Sha256
    quantity: Annotated[int, Field(ge=1, le=10**15, description="whole units (tCO2e) to issue")]
    vintage: Year
    requested_on: date


class SerialBlock(_Document):
    """The unit range issued: ``first``..``last`` inclusive, and the registry's serial string if it has one."""

    first: Annotated[int, Field(ge=0, le=2**53 - 1)]
    last: Annotated[int, Field(ge=0, le=2**53 - 1)]
    serial: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    @property
    def size(self) -> int:
        return self.last - self.first + 1


class IssuanceNotice(_Document):
    """The registry's answer to an issuance request: the block it issued."""

    kind: Literal["issuance-notice"] = "issuance-notice"
    mrv_version: Literal["1"] = "1"
    notice_id: Identifier
    project_id: Identifier
    registry: Identifier
    request_digest: Sha256
    block: SerialBlock
    quantity: Annotated[int, Field(ge=1, le=10**15)]
    vintage: Year
    issued_on: date


MrvDocument = MonitoringReport | VerificationStatement | IssuanceRequest | IssuanceNotice

#: Document kind -> model class.
DOCUMENT_KINDS: dict[str, type[MonitoringReport | VerificationStatement | IssuanceRequest | IssuanceNotice]] = {
    "monitoring-report": MonitoringReport,
    "verification-statement": VerificationStatement,
    "issuance-request": IssuanceRequest,
    "issuance-notice": IssuanceNotice,
}

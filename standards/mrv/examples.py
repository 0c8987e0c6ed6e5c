"""A valid example chain (report -> verification -> request -> notice), for docs, demos, tests and benchmarks.

Built, not stored: each document cites the digest of the one before it, computed here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

from standards.digests import sha256_hex
from standards.mrv.digest import document_digest
from standards.mrv.model import (
    EvidenceFile,
    IssuanceNotice,
    IssuanceRequest,
    MeasuredParameter,
    Methodology,
    MonitoringReport,
    Opinion,
    Period,
    SerialBlock,
    VerificationStatement,
    Verifier,
)

_UNITS = ("MWh", "GJ", "m**3", "t", "percent", "kg", "h", "tCO2e/MWh", "kWh", "degC")


class ExampleChain(NamedTuple):
    report: MonitoringReport
    statement: VerificationStatement
    request: IssuanceRequest
    notice: IssuanceNotice


def example_report(*, project_id: str = "PRJ-1001", parameters: int = 3, year: int = 2024,
                   report_id: str | None = None) -> MonitoringReport:
    """A grid-connected solar project's monitoring report for one calendar ``year``."""
    params = [MeasuredParameter(name="EG_facility_y", value=Decimal("18250.5"), unit="MWh",
                                description="net electricity supplied to the grid"),
              MeasuredParameter(name="EF_grid_CM_y", value=Decimal("0.72"), unit="tCO2e/MWh")]
    params += [MeasuredParameter(name=f"P{i:03d}", value=Decimal(i) + Decimal("0.25"), unit=_UNITS[i % len(_UNITS)])
               for i in range(max(0, parameters - len(params)))]
    evidence = b"meter readings, 2024, exported from the SCADA historian\n"
    return MonitoringReport(
        report_id=report_id or f"MR-{project_id}-{year}", project_id=project_id, registry="sandbox-registry",
        mrv_system="mrv-solar-scada", sector="Energy generation",
        methodology=Methodology(id="AMS-I.D", version="18.0"),
        period=Period(start=date(year, 1, 1), end=date(year, 12, 31)), prepared_on=date(year + 1, 1, 20),
        parameters=params[:parameters], emission_reductions=Decimal("13140.36"), buffer=Decimal("140.36"),
        evidence=[EvidenceFile(name="meter-readings.csv", sha256=sha256_hex(evidence), size=len(evidence),
                               media_type="text/csv")])


def example_chain(*, project_id: str = "PRJ-1001", parameters: int = 3, year: int = 2024) -> ExampleChain:
    """A chain every check passes: 13,000 units issued on a positive verification."""
    report = example_report(project_id=project_id, parameters=parameters, year=year)
    statement = VerificationStatement(
        statement_id=f"VS-{project_id}-{year}", project_id=project_id, report_digest=document_digest(report),
        period=report.period, verified_quantity=Decimal("13140.36"), opinion=Opinion.POSITIVE,
        verifier=Verifier(participant="verifier-acme", accreditation_id="ISO14065-0042",
                          accreditation_body="national accreditation body", sectors=["Energy generation"]),
        verified_on=date(year + 1, 3, 1))
    request = IssuanceRequest(request_id=f"IR-{project_id}-{year}", project_id=project_id,
                              registry="sandbox-registry", verification_digest=document_digest(statement),
                              quantity=13000, vintage=year, requested_on=date(year + 1, 3, 5))
    notice = IssuanceNotice(notice_id=f"IN-{project_id}-{year}", project_id=project_id, registry="sandbox-registry",
                            request_digest=document_digest(request), block=SerialBlock(first=1, last=13000),
                            quantity=13000, vintage=year, issued_on=date(year + 1, 3, 6))
    return ExampleChain(report, statement, request, notice)

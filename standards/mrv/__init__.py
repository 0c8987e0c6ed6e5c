"""Digital MRV: monitoring report -> verification statement -> issuance request -> issuance notice.

The public API of the MRV standard side (``docs/mrv.md``): the four document models, their digests
and JSON Schemas, the coded checks (``MRV.*`` findings) and unit conversion through pint.
"""

from standards.mrv.digest import document_digest, document_json, jcs_bytes
from standards.mrv.model import (
    DOCUMENT_KINDS,
    MAX_EVIDENCE_FILES,
    MAX_PARAMETERS,
    MAX_UNIT_LENGTH,
    MAX_VERIFIER_FINDINGS,
    MRV_VERSION,
    EvidenceFile,
    IssuanceNotice,
    IssuanceRequest,
    MeasuredParameter,
    Methodology,
    MonitoringReport,
    MrvDocument,
    Opinion,
    Period,
    SerialBlock,
    VerificationStatement,
    Verifier,
    VerifierFinding,
)
from standards.mrv.schema import document_schema

__all__ = [
    "DOCUMENT_KINDS",
    "MAX_EVIDENCE_FILES",
    "MAX_PARAMETERS",
    "MAX_UNIT_LENGTH",
    "MAX_VERIFIER_FINDINGS",
    "MRV_VERSION",
    "EvidenceFile",
    "IssuanceNotice",
    "IssuanceRequest",
    "MeasuredParameter",
    "Methodology",
    "MonitoringReport",
    "MrvDocument",
    "Opinion",
    "Period",
    "SerialBlock",
    "VerificationStatement",
    "Verifier",
    "VerifierFinding",
    "document_digest",
    "document_json",
    "document_schema",
    "jcs_bytes",
]

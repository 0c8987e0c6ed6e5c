"""Errors of the gateway's MRV side (docs/mrv.md, gateway section). The HTTP statuses are those of the status
table (:mod:`gateway._status_table`)::

    CarbonlinkError
     └── MrvError                       500  any other MRV failure (MRV_GATEWAY.ERROR)
          ├── MrvConfigError            500  an unusable store URL (MRV_GATEWAY.CONFIG)
          ├── MrvStoreUnavailable       503  the MRV store or the evidence store cannot be reached
          ├── MrvContentType            415  an MRV message that is not JSON
          ├── MrvRoleRefused            403  the sender lacks the role the document kind needs
          ├── MrvRefused                422  a gateway check failed (unknown report or verification, ...)
          │    ├── ReportUnknown            the verification cites no report relayed through this gateway
          │    ├── VerificationUnknown      the request cites no verification relayed through this gateway
          │    ├── QuantityRefused          verified > reported, or requested > verified - buffer
          │    ├── ChainMismatch            project, registry or period differ along the chain
          │    └── EvidenceMissing          the report cites evidence never uploaded (or not by the sender)
          ├── VerifierNotAccredited     403  the verifier is not accredited for the project's sector
          ├── VerifierNotIndependent    403  the verifier operates the MRV system that reported
          ├── PeriodOverlap             409  the project's monitoring period overlaps one already reported
          ├── AlreadyRequested          409  the verification has an issuance request already
          ├── BlockQuantity             502  the registry's notice issued another quantity than requested
          ├── EvidenceDigestMismatch    422  the uploaded bytes do not hash to the digest named
          ├── EvidenceTooLarge          413  the upload is over the evidence size bound
          └── EvidenceNotFound          404  no evidence file with that digest
"""

from __future__ import annotations

from gateway.transfers.errors import UpstreamError
from standards.errors import CarbonlinkError


class MrvError(CarbonlinkError):
    code = "MRV_GATEWAY.ERROR"


class MrvConfigError(MrvError):
    code = "MRV_GATEWAY.CONFIG"


class MrvStoreUnavailable(MrvError):
    code = "MRV_GATEWAY.STORE_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message, retry_after=retry_after)


class MrvContentType(MrvError):
    code = "MRV_GATEWAY.CONTENT_TYPE"


class MrvRoleRefused(MrvError):
    code = "MRV_GATEWAY.ROLE"


class MrvRefused(MrvError):
    code = "MRV_GATEWAY.REFUSED"


class ReportUnknown(MrvRefused):
    code = "MRV_GATEWAY.REPORT_UNKNOWN"


class VerificationUnknown(MrvRefused):
    code = "MRV_GATEWAY.VERIFICATION_UNKNOWN"


class QuantityRefused(MrvRefused):
    code = "MRV_GATEWAY.QUANTITY"


class ChainMismatch(MrvRefused):
    code = "MRV_GATEWAY.CHAIN_MISMATCH"


class EvidenceMissing(MrvRefused):
    code = "MRV_GATEWAY.EVIDENCE_MISSING"


class VerifierNotAccredited(MrvError):
    code = "MRV_GATEWAY.VERIFIER_NOT_ACCREDITED"


class VerifierNotIndependent(MrvError):
    code = "MRV_GATEWAY.VERIFIER_NOT_INDEPENDENT"


class PeriodOverlap(MrvError):
    code = "MRV_GATEWAY.PERIOD_OVERLAP"


class AlreadyRequested(MrvError):
    code = "MRV_GATEWAY.ALREADY_REQUESTED"


class BlockQuantity(UpstreamError):
    """The registry answered the issuance request with a notice whose block is not the requested quantity (or
    is no valid notice of that request): nothing is put on record as issued."""

    code = "MRV_GATEWAY.BLOCK_QUANTITY"


class EvidenceDigestMismatch(MrvError):
    code = "MRV_GATEWAY.EVIDENCE_DIGEST"


class EvidenceTooLarge(MrvError):
    code = "MRV_GATEWAY.EVIDENCE_TOO_LARGE"


class EvidenceNotFound(MrvError):
    code = "MRV_GATEWAY.EVIDENCE_NOT_FOUND"

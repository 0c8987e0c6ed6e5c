"""Errors of the evidence log (codes ``EVIDENCE.*``); all subclass the carbonlink error tree."""

from __future__ import annotations

from standards.errors import CarbonlinkError, InputError


class EvidenceError(CarbonlinkError):
    """Base of evidence-log errors."""

    code = "EVIDENCE.ERROR"


class NotJcs(EvidenceError):
    """A value cannot be written as JCS bytes (RFC 8785) (a float, a huge integer, a lone surrogate...)."""

    code = "EVIDENCE.NOT_CANONICAL"


class InvalidEntry(EvidenceError):
    """An entry to append is missing a field or has a field of the wrong shape."""

    code = "EVIDENCE.INVALID_ENTRY"


class EvidenceConfigError(EvidenceError):
    """The log URL, table name or keys are unusable."""

    code = "EVIDENCE.CONFIGURATION"


#: Seconds a client is told to wait (Retry-After) when a store behind the gateway fails.
STORE_RETRY_AFTER = 5


class EvidenceStoreUnavailable(EvidenceError):
    """The database behind the log cannot be reached or refused the operation (a retry may succeed:
    it carries Retry-After)."""

    code = "EVIDENCE.STORE_UNAVAILABLE"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int = STORE_RETRY_AFTER) -> None:
        super().__init__(message, code=code, retry_after=retry_after)


class ExportUnreadable(InputError):
    """An export file is not a carbonlink evidence export."""

    code = "EVIDENCE.EXPORT_UNREADABLE"

"""Errors raised by carbonlink's domain code.

Every package raises from one tree rooted here, so the HTTP layer and the CLI can turn
any of them into a coded answer without a traceback::

    CarbonlinkError
     ├── InputError                 unreadable input (exit 2 / HTTP 400)
     │    ├── InputTooLarge
     │    ├── MalformedInput
     │    ├── UnsupportedEncoding
     │    └── UnsafeInput           DTDs, entities, zip bombs, macros, external links
     ├── UnknownFormat              a format or medium nobody provides
     ├── ValidationFailed           carries the coded findings (exit 1 / HTTP 422)
     └── TranslationError
          └── LossyTranslation      the target cannot hold some fields (carries a loss report)

Adapters, the gateway and the conformance suite subclass these; they never raise HTTP errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from standards.findings import Finding


class CarbonlinkError(Exception):
    """Base of every domain error. ``code`` is stable and machine-readable.

    ``findings`` are the coded findings behind the error (None when the error has none to give);
    ``retry_after`` is the number of seconds after which a retry may succeed (None: retrying the
    same request will not help). Domain errors carry no HTTP status: the HTTP layer maps classes
    onto statuses in one table (:mod:`gateway.errors`).
    """

    code: str = "CARBONLINK.ERROR"

    def __init__(self, message: str, *, code: str | None = None, findings: Sequence[Finding] | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.findings: list[Finding] | None = None if findings is None else list(findings)
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InputError(CarbonlinkError):
    """The input could not be read at all; nothing was produced from it."""

    code = "INPUT.UNREADABLE"

    def __init__(self, message: str, *, code: str | None = None, source: str | None = None) -> None:
        super().__init__(message, code=code)
        self.source = source


class InputTooLarge(InputError):
    code = "INPUT.TOO_LARGE"


class MalformedInput(InputError):
    code = "INPUT.MALFORMED"


class UnsupportedEncoding(InputError):
    code = "INPUT.ENCODING"


class UnsafeInput(InputError):
    code = "INPUT.UNSAFE"


class UnknownFormat(CarbonlinkError):
    code = "FORMAT.UNKNOWN"


class ValidationFailed(CarbonlinkError):
    """Validation produced findings of severity error."""

    code = "VALIDATION.FAILED"

    findings: list[Finding]

    def __init__(self, message: str, *, findings: Sequence[Finding], code: str | None = None) -> None:
        super().__init__(message, code=code, findings=findings)


class TranslationError(CarbonlinkError):
    code = "TRANSLATION.FAILED"


class LossyTranslation(TranslationError):
    """The target format cannot hold some of the source's data."""

    code = "TRANSLATION.LOSSY"

    def __init__(self, message: str, *, losses: Sequence[object]) -> None:
        super().__init__(message)
        self.losses = list(losses)


class InvalidValue(InputError, ValueError):
    """One value the domain rules refuse: a Party code, an ITMO identifier or block, a DES value.

    It is also a :class:`ValueError`, so pydantic validators turn it into a validation error and
    value readers that catch ``ValueError`` keep working. Its text is the message alone (no code
    prefix), because it is embedded in findings, validation errors and other errors' messages.
    """

    code = "VALUE.INVALID"

    def __str__(self) -> str:
        return self.message

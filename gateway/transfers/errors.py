"""Errors of the transfer path. Each carries ``http_status`` (and ``retry_after`` for faults a
retry may cure); :mod:`gateway.errors` renders them as RFC 9457 problems::

    CarbonlinkError
     └── TransferError
          ├── KindNotAllowed        403  the sender may not send this message kind
          ├── KindMismatch          422  the message carries actions its kind does not
          ├── SenderMismatch        403  the message names another transferring registry
          ├── ReceiverUnknown       422  no active registry in the directory takes this message
          ├── MessageIdInvalid      400
          ├── OutputInvalid         422  the translation failed the receiver's format
          ├── NoticeError                notices about an earlier message (gateway/transfers/notices.py)
          │    ├── NoticeContentType     415  not notice JSON
          │    ├── NoticeUnknownMessage  422  no such message relayed to or from the notice's sender
          │    ├── NoticeNotAParty       403  the notice's sender is the wrong party of that exchange
          │    └── NoticeState           422  the message's relayed outcome does not allow this notice
          └── UpstreamError         502  (with Retry-After)
               ├── RegistryUnavailable   502  connection refused / reset / cut
               ├── RegistryFailed        502  the registry answered 5xx
               ├── RegistryAnswerInvalid 502  garbage, unsigned or badly signed answer
               └── RegistryTimeout       504
"""

from __future__ import annotations

from collections.abc import Sequence

from standards.errors import CarbonlinkError
from standards.findings import Finding


class TransferError(CarbonlinkError):
    code = "TRANSFER.ERROR"
    http_status = 400
    retry_after: int | None = None


class KindNotAllowed(TransferError):
    code = "TRANSFER.KIND_NOT_ALLOWED"
    http_status = 403


class KindMismatch(TransferError):
    code = "TRANSFER.KIND_MISMATCH"
    http_status = 422


class SenderMismatch(TransferError):
    code = "TRANSFER.SENDER_MISMATCH"
    http_status = 403


class ReceiverUnknown(TransferError):
    code = "TRANSFER.RECEIVER_UNKNOWN"
    http_status = 422


class MessageIdInvalid(TransferError):
    code = "TRANSFER.MESSAGE_ID_INVALID"
    http_status = 400


class OutputInvalid(TransferError):
    """The message, translated to the receiver's format, fails that format's validation."""

    code = "TRANSFER.OUTPUT_INVALID"
    http_status = 422

    def __init__(self, message: str, *, findings: Sequence[Finding]) -> None:
        super().__init__(message)
        self.findings = list(findings)


class NoticeError(TransferError):
    """A notice (acceptance, rejection, completion, termination) the gateway cannot relay."""

    code = "NOTICE.ERROR"
    http_status = 422


class NoticeContentType(NoticeError):
    code = "NOTICE.CONTENT_TYPE"
    http_status = 415


class NoticeUnknownMessage(NoticeError):
    """The message the notice answers is not on record as relayed between the notice's parties."""

    code = "NOTICE.UNKNOWN_MESSAGE"
    http_status = 422


class NoticeNotAParty(NoticeError):
    """The notice comes from the wrong side of the exchange (e.g. a sender accepting its own message)."""

    code = "NOTICE.NOT_A_PARTY"
    http_status = 403


class NoticeState(NoticeError):
    """The message was not delivered, or its relayed outcome rules this notice out."""

    code = "NOTICE.STATE"
    http_status = 422


class UpstreamError(TransferError):
    """The receiving registry did not acknowledge the message: no receipt is issued."""

    code = "UPSTREAM.ERROR"
    http_status = 502

    def __init__(self, message: str, *, code: str | None = None, retry_after: int = 5) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class RegistryUnavailable(UpstreamError):
    code = "UPSTREAM.UNAVAILABLE"


class RegistryFailed(UpstreamError):
    code = "UPSTREAM.SERVER_ERROR"


class RegistryAnswerInvalid(UpstreamError):
    code = "UPSTREAM.ANSWER_INVALID"


class RegistryTimeout(UpstreamError):
    code = "UPSTREAM.TIMEOUT"
    http_status = 504

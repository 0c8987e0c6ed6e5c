"""Errors of the transfer path (``retry_after`` set on faults a retry may cure). The HTTP statuses
below are those of the status table in :mod:`gateway.errors`, which renders them as RFC 9457
problems::

    CarbonlinkError
     └── TransferError
          ├── KindNotAllowed        403  the sender may not send this message kind
          ├── KindMismatch          422  the message carries actions its kind does not
          ├── SenderMismatch        403  the message names another transferring registry
          ├── ReceiverUnknown       422  no active registry in the directory takes this message
          ├── MessageIdInvalid      400
          ├── OutputInvalid         422  the translation failed the receiver's format
          ├── ContentTypeRefused    415  a media type the message kind and the sender's format do not take
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


class KindNotAllowed(TransferError):
    code = "TRANSFER.KIND_NOT_ALLOWED"


class KindMismatch(TransferError):
    code = "TRANSFER.KIND_MISMATCH"


class SenderMismatch(TransferError):
    code = "TRANSFER.SENDER_MISMATCH"


class ReceiverUnknown(TransferError):
    code = "TRANSFER.RECEIVER_UNKNOWN"


class MessageIdInvalid(TransferError):
    code = "TRANSFER.MESSAGE_ID_INVALID"


class OutputInvalid(TransferError):
    """The message, translated to the receiver's format, fails that format's validation."""

    code = "TRANSFER.OUTPUT_INVALID"

    findings: list[Finding]

    def __init__(self, message: str, *, findings: Sequence[Finding]) -> None:
        super().__init__(message, findings=findings)


class ContentTypeRefused(TransferError):
    """The body's Content-Type is missing or not one the message kind and the sender's format take
    (:func:`gateway.transfers._translator.accepted_media_types`); the body is not read."""

    code = "HTTP.CONTENT_TYPE"


class NoticeError(TransferError):
    """A notice (acceptance, rejection, completion, termination) the gateway cannot relay."""

    code = "NOTICE.ERROR"


class NoticeContentType(NoticeError):
    code = "NOTICE.CONTENT_TYPE"


class NoticeUnknownMessage(NoticeError):
    """The message the notice answers is not on record as relayed between the notice's parties."""

    code = "NOTICE.UNKNOWN_MESSAGE"


class NoticeNotAParty(NoticeError):
    """The notice comes from the wrong side of the exchange (e.g. a sender accepting its own message)."""

    code = "NOTICE.NOT_A_PARTY"


class NoticeState(NoticeError):
    """The message was not delivered, or its relayed outcome rules this notice out."""

    code = "NOTICE.STATE"


class UpstreamError(TransferError):
    """The receiving registry did not acknowledge the message: no receipt is issued."""

    code = "UPSTREAM.ERROR"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int = 5) -> None:
        super().__init__(message, code=code, retry_after=retry_after)


class RegistryUnavailable(UpstreamError):
    code = "UPSTREAM.UNAVAILABLE"


class RegistryFailed(UpstreamError):
    code = "UPSTREAM.SERVER_ERROR"


class RegistryAnswerInvalid(UpstreamError):
    code = "UPSTREAM.ANSWER_INVALID"


class RegistryTimeout(UpstreamError):
    code = "UPSTREAM.TIMEOUT"

"""Reading MRV message bodies into the canonical MRV model (:func:`standards.mrv.read_document`: bounded, shape
and document checks): every problem is a coded ``MRV.*`` finding (``MRV.INVALID``, 422), never a traceback."""

from __future__ import annotations

from typing import Any

from gateway.protocol import MessageKind
from standards.mrv import IssuanceNotice, IssuanceRequest, MonitoringReport, VerificationStatement, document_digest
from standards.mrv import read_document as read_mrv

Document = MonitoringReport | VerificationStatement | IssuanceRequest | IssuanceNotice

#: The MRV document kind each MRV message kind carries.
KIND_DOCUMENTS: dict[MessageKind, str] = {
    MessageKind.MONITORING_REPORTS: "monitoring-report",
    MessageKind.VERIFICATIONS: "verification-statement",
    MessageKind.ISSUANCE_REQUESTS: "issuance-request",
    MessageKind.ISSUANCE_NOTICES: "issuance-notice",
}
#: The ``format`` a receipt names for an MRV message's inbound and outbound body.
MRV_FORMAT = "mrv"


def read_document(kind: MessageKind, body: bytes | str) -> Document:
    """The MRV document of a ``kind`` message; ``MrvInvalid`` (422) with the coded findings otherwise."""
    return read_mrv(body, kind=KIND_DOCUMENTS[kind]).require()


def read_value(model: type[Document], value: Any) -> Document:
    """A document given as parsed JSON (the ``notice`` member of a registry's answer)."""
    if not isinstance(value, dict):
        value = {"kind": None}
    return read_mrv(value, kind=str(model.model_fields["kind"].default)).require()


def digest_of(doc: Document) -> str:
    """The document's digest (SHA-256 of its JCS bytes), what the next document of the chain cites."""
    return document_digest(doc)

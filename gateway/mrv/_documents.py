"""Reading MRV message bodies into the canonical MRV model (:mod:`standards.mrv`): every problem is a coded
finding (``ValidationFailed``, 422), never a traceback."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from gateway.protocol import MessageKind
from standards.errors import MalformedInput, ValidationFailed
from standards.findings import Finding, Layer, Location, RuleCatalogue, Severity, json_pointer
from standards.mrv import IssuanceNotice, IssuanceRequest, MonitoringReport, VerificationStatement, document_digest
from standards.safeio import decode_text

Document = MonitoringReport | VerificationStatement | IssuanceRequest | IssuanceNotice

#: The MRV document each MRV message kind carries.
KIND_MODELS: dict[MessageKind, type[Document]] = {
    MessageKind.MONITORING_REPORTS: MonitoringReport,
    MessageKind.VERIFICATIONS: VerificationStatement,
    MessageKind.ISSUANCE_REQUESTS: IssuanceRequest,
    MessageKind.ISSUANCE_NOTICES: IssuanceNotice,
}
#: The ``format`` a receipt names for an MRV message's inbound and outbound body.
MRV_FORMAT = "mrv"

CATALOGUE = RuleCatalogue("mrv-gateway")
SCHEMA = CATALOGUE.add("MRV.GATEWAY.SCHEMA", severity=Severity.ERROR, layer=Layer.STRUCTURE,
                       title="The MRV message does not match the canonical MRV model of its kind",
                       reference="carbonlink canonical MRV model (docs/mrv.md), JSON Schemas in standards/mrv/schema")


def _findings(exc: ValidationError, what: str) -> list[Finding]:
    findings = []
    for err in exc.errors(include_url=False)[:100]:
        if err["type"] == "json_invalid":
            raise MalformedInput(f"the {what} is not valid JSON: {err['msg']}", code="INPUT.JSON")
        pointer = json_pointer([p for p in err["loc"]])
        findings.append(SCHEMA.finding(f"{pointer or '/'}: {err['msg']}", Location(pointer=pointer), cause=err["type"]))
    return findings


def read_document(kind: MessageKind, body: bytes | str) -> Document:
    """The MRV document of a ``kind`` message; ValidationFailed (422) with coded findings otherwise."""
    model = KIND_MODELS[kind]
    text = body if isinstance(body, str) else decode_text(body, what=f"{kind.value} JSON")
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise ValidationFailed(f"the message is not a valid {model.__name__}",
                               findings=_findings(exc, model.__name__)) from exc


def read_value(model: type[Document], value: Any) -> Document:
    """A document given as parsed JSON (the ``notice`` member of a registry's answer)."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise ValidationFailed(f"not a valid {model.__name__}", findings=_findings(exc, model.__name__)) from exc


def digest_of(doc: Document) -> str:
    """The document's digest (SHA-256 of its JCS bytes), what the next document of the chain cites."""
    return document_digest(doc)

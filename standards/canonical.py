"""The ``canonical`` format: carbonlink's canonical model as JSON (exact decimals)."""

from __future__ import annotations

from pydantic import ValidationError

from standards.codec import FormatCodec, Medium, ParseResult, RecordKind, SerializeResult
from standards.errors import MalformedInput
from standards.findings import Layer, Location, RuleCatalogue, Severity, json_pointer
from standards.model import CanonicalDocument
from standards.safeio import decode_text

CATALOGUE = RuleCatalogue("canonical")
SCHEMA = CATALOGUE.add("CANONICAL.SCHEMA", severity=Severity.ERROR, layer=Layer.STRUCTURE,
                       title="The document does not match the canonical model",
                       reference="carbonlink canonical model (standards/model.py, schema/canonical.schema.json)")


class CanonicalCodec(FormatCodec):
    name = "canonical"
    version = "1.0.0"
    description = "carbonlink canonical model (JSON)"
    reads = frozenset(RecordKind)
    writes = frozenset(RecordKind)
    media = (Medium.JSON,)
    rules = CATALOGUE

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        self.check_medium(medium)
        text = decode_text(data, what="canonical JSON")
        try:
            document = CanonicalDocument.model_validate_json(text)
        except ValidationError as exc:
            findings = []
            for err in exc.errors(include_url=False):
                if err["type"] == "json_invalid":
                    raise MalformedInput(f"canonical JSON is not valid JSON: {err['msg']}",
                                         code="INPUT.JSON") from exc
                pointer = json_pointer([p for p in err["loc"]])
                findings.append(SCHEMA.finding(f"{pointer or '/'}: {err['msg']}", Location(pointer=pointer),
                                               cause=err["type"]))
            return ParseResult(CanonicalDocument(), findings)
        return ParseResult(document, [])

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        self.check_medium(medium)
        data = document.model_dump_json(indent=1, exclude_defaults=True).encode("utf-8") + b"\n"
        return SerializeResult(data=data, medium=medium)


CANONICAL = CanonicalCodec()

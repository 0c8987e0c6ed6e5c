"""The CAD Trust v1 and v2 codecs: JSON documents keyed by CADT resource name <-> canonical.

``CadtV1Codec`` (``cadt-v1``) reads and writes ``{"projects": [...], "units": [...]}``;
``CadtV2Codec`` (``cadt-v2``) reads and writes ``{"project": [...], "unit": [...], ...,
"aef-t1-submission": [...], ...}``. Parsing validates in layers (:mod:`standards.cadt.validate`)
and maps the records that passed; serializing lists every field the target cannot hold as a
:class:`~standards.codec.Loss`. Picklists and the output profile, unless given, are the configured
ones (:attr:`standards.Options.cadt_picklists` and :attr:`~standards.Options.cadt_profile`).
"""

from __future__ import annotations

from typing import Any

import orjson

from standards.cadt import mapping_v1, mapping_v2
from standards.cadt._dropping import drop_flagged
from standards.cadt._dropping_v2 import drop_flagged_v2
from standards.cadt.common import LossLog
from standards.cadt.operator import OperatorProfile
from standards.cadt.picklists import Picklists, configured_picklists
from standards.cadt.profiles import Profile, default_profile
from standards.cadt.rules import CATALOGUES
from standards.cadt.spec import Version
from standards.cadt.validate import CadtValidator, Locator, Validation, default_locator
from standards.codec import FormatCodec, Loss, Medium, ParseResult, RecordKind, SerializeResult
from standards.findings import Finding, RuleCatalogue
from standards.model import CanonicalDocument
from standards.safeio import load_json, read_bytes

_PROJECT_KINDS = frozenset({RecordKind.PROJECTS, RecordKind.UNIT_BLOCKS, RecordKind.ISSUANCES})
_AEF_KINDS = frozenset({RecordKind.SUBMISSIONS, RecordKind.AUTHORIZATIONS, RecordKind.ACTIONS,
                        RecordKind.HOLDINGS, RecordKind.AUTHORIZED_ENTITIES})


class _CadtCodec(FormatCodec):
    cadt_version: Version = "v1"
    media = (Medium.JSON,)
    rules: RuleCatalogue

    def __init__(self, *, picklists: Picklists | None = None, profile: Profile | None = None,
                 request: bool = False, operator: OperatorProfile | None = None,
                 accept_losses: bool = False) -> None:
        self._picklists = picklists
        self._profile = profile
        self.request = request
        self.operator = operator
        self.accept_losses = accept_losses

    @property
    def picklists(self) -> Picklists:
        """The picklists given, else the configured ones (:func:`configured_picklists`)."""
        return self._picklists if self._picklists is not None else configured_picklists(self.cadt_version)

    @property
    def profile(self) -> Profile:
        """The profile given, else the configured one (:func:`default_profile`)."""
        return self._profile if self._profile is not None else default_profile(self.cadt_version)

    def check(self, raw: Any, locate: Locator = default_locator) -> Validation:
        """Validate an already-decoded document; the records come back normalised."""
        validator = CadtValidator(self.cadt_version, self.picklists, self.profile, request=self.request)
        return validator.run(raw, locate)

    def parse_object(self, raw: Any, locate: Locator = default_locator) -> ParseResult:
        """Validate and map an already-decoded document (adapters decode paged answers and XLSX)."""
        validation = self.check(raw, locate)
        document, extra_findings = self._to_document(validation, locate)
        return ParseResult(document, validation.findings + extra_findings)

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        self.check_medium(medium)
        raw = load_json(read_bytes(data), what=f"{self.name} document")
        return self.parse_object(raw)

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        self.check_medium(medium)
        losses = LossLog()
        findings: list[Finding] = []
        native = self.to_native(document, losses, findings)
        if self.accept_losses and self.cadt_version == "v1":
            findings = drop_flagged(native, findings + self._unflagged_errors(native, findings), losses)
        elif self.accept_losses:
            findings = drop_flagged_v2(native, findings + self._errors(native), losses, self._errors)
        data = orjson.dumps(native, option=orjson.OPT_INDENT_2) + b"\n"
        return SerializeResult(data=data, medium=medium, findings=findings, losses=[
            Loss(name, tuple(ids), losses.reasons[name]) for name, ids in sorted(losses.fields.items())])

    def _errors(self, native: dict[str, Any]) -> list[Finding]:
        """The error findings of the validator on a document about to be written (checked on a copy)."""
        return [f for f in self.check(orjson.loads(orjson.dumps(native))).findings if f.is_error]

    def _unflagged_errors(self, native: dict[str, Any], findings: list[Finding]) -> list[Finding]:
        """The validator's errors on records no error finding of the linker points at yet (a unit without a
        serial block, say), so that accepting losses leaves those records out too."""
        flagged = {"/".join(f.location.pointer.split("/")[:3]) for f in findings if f.is_error and f.location.pointer}
        return [f for f in self._errors(native) if "/".join((f.location.pointer or "").split("/")[:3]) not in flagged]

    def to_native(self, document: CanonicalDocument, losses: LossLog,
                  findings: list[Finding] | None = None) -> dict[str, Any]:
        """The native document; what the target cannot hold goes to ``losses``, what could not be
        supplied (v1 linking) to ``findings``."""
        raise NotImplementedError

    def _to_document(self, validation: Validation, locate: Locator) -> tuple[CanonicalDocument, list[Finding]]:
        raise NotImplementedError


class CadtV1Codec(_CadtCodec):
    """CAD Trust v1 (CADT 1.7.x): projects with nested children, units with issuance and labels."""

    name = "cadt-v1"
    version = "1.7.24"
    description = "CAD Trust data model v1 (CADT 1.7.x API JSON: projects and units)"
    cadt_version: Version = "v1"
    reads = _PROJECT_KINDS
    writes = _PROJECT_KINDS
    rules = CATALOGUES["v1"]

    def to_native(self, document: CanonicalDocument, losses: LossLog,
                  findings: list[Finding] | None = None) -> dict[str, Any]:
        return mapping_v1.from_document(document, self.picklists, losses, self.operator, findings)

    def _to_document(self, validation: Validation, locate: Locator) -> tuple[CanonicalDocument, list[Finding]]:
        return mapping_v1.to_document(validation, self.picklists, locate)


class CadtV2Codec(_CadtCodec):
    """CAD Trust v2 (Data Dictionary v2.0.2): project data plus the Article 6 AEF tables T1-T5."""

    name = "cadt-v2"
    version = "2.0.2"
    description = "CAD Trust data model v2 (Data Dictionary v2.0.2, with AEF tables T1-T5)"
    cadt_version: Version = "v2"
    reads = _PROJECT_KINDS | _AEF_KINDS
    writes = _PROJECT_KINDS | _AEF_KINDS
    rules = CATALOGUES["v2"]

    def to_native(self, document: CanonicalDocument, losses: LossLog,
                  findings: list[Finding] | None = None) -> dict[str, Any]:
        return mapping_v2.from_document(document, self.picklists, self.profile, losses, self.operator, findings)

    def _to_document(self, validation: Validation, locate: Locator) -> tuple[CanonicalDocument, list[Finding]]:
        return mapping_v2.to_document(validation, self.picklists, self.profile, locate)

"""Reading an MRV document: bounded, structure-checked, then the document's own checks.

:func:`read_document` is the one entry point (the gateway's message handlers, the adapters and
the benchmark call it): it takes JSON bytes/text or already-parsed data, refuses what is larger
than :data:`MAX_DOCUMENT_BYTES`, validates the shape of the document's kind with pydantic-core
(NaN and Infinity, too many items, nesting beyond the JSON parser's limit and unknown members are
coded findings, never exceptions), then runs :func:`standards.mrv.checks.check_document`.
:func:`validate_report` is the same for a monitoring report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import jiter
from pydantic import Field, TypeAdapter, ValidationError

from standards.errors import ValidationFailed
from standards.findings import Finding
from standards.mrv.checks import check_document
from standards.mrv.digest import document_digest
from standards.mrv.model import DOCUMENT_KINDS, IssuanceNotice, IssuanceRequest, MonitoringReport, MrvDocument
from standards.mrv.model import VerificationStatement as _Statement
from standards.mrv.rules import finding

#: Largest MRV document read (bytes of JSON).
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
#: Most findings one document gets; past it one ``MRV.TOO_MANY_FINDINGS`` says how many more.
MAX_FINDINGS = 100

_ANY_KIND: TypeAdapter[MrvDocument] = TypeAdapter(
    Annotated[MonitoringReport | _Statement | IssuanceRequest | IssuanceNotice, Field(discriminator="kind")])
_ERROR_RULES = {"finite_number": "MRV.NOT_FINITE", "too_long": "MRV.TOO_MANY_ITEMS", "json_invalid": "MRV.NOT_JSON",
                "json_type": "MRV.NOT_JSON", "model_type": "MRV.NOT_JSON", "model_attributes_type": "MRV.NOT_JSON"}


class MrvInvalid(ValidationFailed):
    """An MRV document (or chain) with error findings."""

    code = "MRV.INVALID"


@dataclass(frozen=True, slots=True)
class MrvValidation:
    """What reading one document gave: the document (None when its shape is wrong) and the findings."""

    kind: str | None
    document: MrvDocument | None
    findings: tuple[Finding, ...]

    @property
    def valid(self) -> bool:
        return self.document is not None and not any(f.is_error for f in self.findings)

    @property
    def digest(self) -> str | None:
        """The document's digest (None when there is no document)."""
        return None if self.document is None else document_digest(self.document)

    def require(self) -> MrvDocument:
        """The document, or :class:`MrvInvalid` carrying the findings."""
        if self.document is None or not self.valid:
            errors = [f for f in self.findings if f.is_error]
            raise MrvInvalid(f"{self.kind or 'MRV document'}: {len(errors)} error finding(s)", findings=self.findings)
        return self.document


def _structure_findings(exc: ValidationError, *, tagged: bool) -> list[Finding]:
    out = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = list(error["loc"])
        if tagged and loc and error["type"] not in ("union_tag_invalid", "union_tag_not_found"):
            loc = loc[1:]  # the discriminated union puts the kind first
        rule = _ERROR_RULES.get(error["type"], "MRV.STRUCTURE")
        if rule == "MRV.NOT_JSON" and loc:
            rule = "MRV.STRUCTURE"  # a member of the wrong JSON type, not a document that is no object
        out.append(finding(rule, loc, str(error["msg"])[:300], cause=error["type"]))
    return out


def _bounded(findings: list[Finding]) -> tuple[Finding, ...]:
    if len(findings) <= MAX_FINDINGS:
        return tuple(findings)
    extra = len(findings) - MAX_FINDINGS
    return (*findings[:MAX_FINDINGS], finding("MRV.TOO_MANY_FINDINGS", (), f"{extra} more finding(s) not listed"))


def read_document(data: bytes | str | Mapping[str, Any], *, kind: str | None = None,
                  checks: bool = True) -> MrvValidation:
    """Read one MRV document of ``kind`` (None: the document's own ``kind`` member decides).

    ``checks`` False: the structure only (the document-local checks are skipped). Never raises on
    bad input; see :meth:`MrvValidation.require`.
    """
    if kind is not None and kind not in DOCUMENT_KINDS:
        known = ", ".join(DOCUMENT_KINDS)
        return MrvValidation(kind, None, (finding("MRV.STRUCTURE", ("kind",), f"unknown MRV document kind {kind!r} "
                                                  f"(known: {known})"),))
    if isinstance(data, str | bytes) and len(data) > MAX_DOCUMENT_BYTES:  # str length is a lower bound of bytes
        return MrvValidation(kind, None, (finding("MRV.TOO_LARGE", (), f"the document is {len(data)} bytes, more "
                                                  f"than {MAX_DOCUMENT_BYTES}"),))
    if isinstance(data, str) and len(data.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        return MrvValidation(kind, None, (finding("MRV.TOO_LARGE", (), f"the document is more than "
                                                  f"{MAX_DOCUMENT_BYTES} bytes"),))
    if isinstance(data, str | bytes):
        try:  # decimals stay exact: a JSON number never goes through a binary float
            data = jiter.from_json(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data,
                                   float_mode="decimal")
        except ValueError as exc:
            return MrvValidation(kind, None, (finding("MRV.NOT_JSON", (), f"not JSON: {str(exc)[:200]}"),))
    try:
        doc = _validate(data, kind)
    except ValidationError as exc:
        return MrvValidation(kind, None, _bounded(_structure_findings(exc, tagged=kind is None)))
    except RecursionError:
        return MrvValidation(kind, None, (finding("MRV.NOT_JSON", (), "the document nests too deeply"),))
    return MrvValidation(doc.kind, doc, _bounded(check_document(doc)) if checks else ())


def _validate(data: Any, kind: str | None) -> MrvDocument:
    if kind is None:
        return _ANY_KIND.validate_python(data)
    return DOCUMENT_KINDS[kind].model_validate(data)


def validate_report(data: bytes | str | Mapping[str, Any]) -> MrvValidation:
    """:func:`read_document` for a monitoring report: its shape, then units, sector, period, buffer, evidence."""
    return read_document(data, kind="monitoring-report")

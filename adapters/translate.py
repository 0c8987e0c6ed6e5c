"""Hub-and-spoke translation: source adapter -> canonical document -> target adapter.

The source is validated while it is parsed; a source with errors is not translated. The
output is validated against the target format before it is returned, so a translation never
hands back something its own target would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters._catalog import AdapterCatalog, default_catalog
from standards import CanonicalDocument, Finding, Loss, Medium, SerializeResult, TranslationError, ValidationFailed


@dataclass(slots=True)
class Translation:
    output: SerializeResult
    document: CanonicalDocument
    source_findings: list[Finding] = field(default_factory=list)
    target_findings: list[Finding] = field(default_factory=list)

    @property
    def losses(self) -> list[Loss]:
        return self.output.losses


def translate(data: bytes, *, source: str, target: str, source_medium: Medium, target_medium: Medium,
              catalog: AdapterCatalog | None = None) -> Translation:
    """Translate ``data`` from one format to another, validating both ends.

    Raises :class:`ValidationFailed` when the source has errors, and
    :class:`TranslationError` (with the findings) when the output fails the target's validation.
    """
    adapters = catalog or default_catalog()
    src = adapters.get(source)
    dst = adapters.get(target)
    parsed = src.parse(data, medium=source_medium)
    if not parsed.valid:
        raise ValidationFailed(f"the {source} input has errors; nothing was translated",
                               findings=parsed.findings)
    out = dst.serialize(parsed.document, medium=target_medium)
    check = dst.validate(out.data, medium=target_medium) if not out.files else None
    target_findings = list(out.findings) + (check.findings if check is not None else [])
    if any(f.is_error for f in target_findings):
        raise TranslationError(f"the {target} output failed its own validation; nothing was written",
                               findings=target_findings)
    return Translation(output=out, document=parsed.document, source_findings=parsed.findings,
                       target_findings=target_findings)

"""The ``undp-ncr-mrv`` adapter: UNDP National Carbon Registry v2 monitoring reports -> canonical MRV.

Reads the monitoring report documents of the UNDP National Carbon Registry v2
(github.com/undp/undp-national-carbon-registry; ``docs/adapters/undp-ncr-mrv.md`` has the field table)
into :class:`standards.mrv.MonitoringReport`: one document, a list, or ``{"data": [...]}``; the
document as the web client posts it (``data``) or as stored (``content``). What the registry's form
does not hold (the MRV system's and registry's participant ids, a sector for scopes with no Common
Nomenclature counterpart) comes from an :class:`UndpMrvProfile`. Verification reports are not read:
their opinion is free text, with no positive/qualified/adverse to map.
"""

from __future__ import annotations

from dataclasses import replace

from adapters.mrv import MAX_INPUT_BYTES, MrvAdapterBase, MrvRead, load_exact_json
from adapters.undp_ncr_mrv._read import UndpMrvProfile, _Reader, content_of, documents
from adapters.undp_ncr_mrv._rules import FORMAT, RULES, SECTORS, finding
from standards import InputTooLarge, Medium, UnknownFormat
from standards.findings import Finding, Location, json_pointer
from standards.mrv import read_document

_MONITORING = {"MONITORING", "monitoringReport", "MONITORING_REPORT"}


def _at(f: Finding, where: tuple[str | int, ...]) -> Finding:
    """A canonical report's finding, pointed at the native document it was read from."""
    return replace(f, location=Location(pointer=json_pointer(where) + "#" + (f.location.pointer or "/")))


class UndpNcrMrvAdapter(MrvAdapterBase):
    """UNDP National Carbon Registry v2 monitoring reports, read into canonical MRV documents."""

    name = FORMAT
    description = ("UNDP National Carbon Registry v2 monitoring reports (documentType MONITORING) into carbonlink MRV "
                   "monitoring reports; read only")
    rules = RULES

    def __init__(self, profile: UndpMrvProfile | None = None) -> None:
        self.profile = profile or UndpMrvProfile()

    def read_mrv(self, data: bytes, *, medium: Medium) -> MrvRead:
        if medium is not Medium.JSON:
            raise UnknownFormat(f"{FORMAT} is JSON, not {medium.value}")
        if len(data) > MAX_INPUT_BYTES:
            raise InputTooLarge(f"a {FORMAT} input is at most {MAX_INPUT_BYTES} bytes, not {len(data)}")
        read = MrvRead()
        for where, doc in documents(load_exact_json(data, what=f"{FORMAT} input")):
            kind = str(doc.get("documentType") or doc.get("type") or "")
            if kind not in _MONITORING:
                rule = "UNDP-MRV.NOT_READ" if kind else "UNDP-MRV.SHAPE"
                read.findings.append(finding(rule, where, f"documentType {kind!r} is not a monitoring report"))
                continue
            member, content = content_of(doc)
            project = doc.get("projectRefId") or doc.get("programmeId")
            if content is None or not isinstance(project, str | int) or not str(project):
                read.findings.append(finding("UNDP-MRV.SHAPE", (*where, member),
                                             "a monitoring report needs projectRefId and its form content"))
                continue
            reader = _Reader(content, (*where, member), self.profile)
            native = reader.report(str(project), str(doc.get("id") or project))
            read.findings.extend(reader.findings)
            if native is None:
                continue
            result = read_document(native, kind="monitoring-report")
            read.findings.extend(_at(f, where) for f in result.findings)
            if result.document is not None:
                read.documents.append(result.document)
        return read


adapter = UndpNcrMrvAdapter()

__all__ = ["FORMAT", "RULES", "SECTORS", "UndpMrvProfile", "UndpNcrMrvAdapter", "adapter"]

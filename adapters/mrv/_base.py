"""MRV formats in the adapter catalogue: the :class:`MrvSource` capability and a base for its adapters.

An MRV format reads monitoring reports (and, when the format has them, verification statements)
into the canonical MRV model (:mod:`standards.mrv`). Its adapter is a catalogued
:class:`~adapters.protocol.RegistryAdapter` like any other: ``parse`` gives the canonical registry
model's view (one ``projects`` record per report, the MRV document kept whole in its
``extra["mrv"]``), ``validate`` gives the findings, and ``serialize`` refuses (MRV formats are read,
not written). :meth:`MrvSource.read_mrv` is the MRV view itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from standards import (
    CanonicalDocument,
    Finding,
    Medium,
    ParseResult,
    Project,
    RecordKind,
    Report,
    SerializeResult,
    TranslationError,
)
from standards.mrv import MonitoringReport, MrvDocument, document_json


@dataclass(slots=True)
class MrvRead:
    """What an MRV format's input held: the canonical MRV documents and the findings about the input."""

    documents: list[MrvDocument] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(f.is_error for f in self.findings)


@runtime_checkable
class MrvSource(Protocol):
    """Optional adapter capability: reading MRV documents into :mod:`standards.mrv`'s model."""

    def read_mrv(self, data: bytes, *, medium: Medium) -> MrvRead: ...


class MrvReadOnly(TranslationError):
    """An MRV format is read, never written."""

    code = "MRV.WRITE_UNSUPPORTED"


def project_of(report: MonitoringReport) -> Project:
    """The canonical registry model's record of the project a report is about (the report kept whole)."""
    return Project(registry=report.registry, project_id=report.project_id, sector=report.sector,
                   methodology=f"{report.methodology.id} {report.methodology.version}",
                   extra={"mrv": document_json(report)})


class MrvAdapterBase:
    """``parse``/``validate``/``serialize`` of an MRV format, from its :meth:`read_mrv`."""

    name: str
    version = "1.0.0"
    description: str
    reads = frozenset({RecordKind.PROJECTS})
    writes: frozenset[RecordKind] = frozenset()
    media: tuple[Medium, ...] = (Medium.JSON,)

    def read_mrv(self, data: bytes, *, medium: Medium) -> MrvRead:
        raise NotImplementedError

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        read = self.read_mrv(data, medium=medium)
        projects = [project_of(d) for d in read.documents if isinstance(d, MonitoringReport)]
        return ParseResult(CanonicalDocument(projects=projects), list(read.findings))

    def validate(self, data: bytes, *, medium: Medium) -> Report:
        read = self.read_mrv(data, medium=medium)
        return Report(self.name, list(read.findings), records=len(read.documents))

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        raise MrvReadOnly(f"{self.name} is read, not written: translate MRV documents to it is not supported")

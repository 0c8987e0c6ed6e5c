"""The shapes every format codec returns: parsed records with findings, serialized bytes with losses.

Standards (AEF, CAD Trust, canonical JSON) and registry adapters share them, so translation is
one pipeline: ``parse`` a source into a :class:`~standards.model.CanonicalDocument`, then
``serialize`` it to the target, which reports what it could not hold as :class:`Loss` items.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath
from typing import Any

from standards.errors import UnknownFormat
from standards.findings import Finding, Report
from standards.model import CanonicalDocument


class RecordKind(StrEnum):
    """The kinds of data records a format reads or writes: an adapter's ``reads`` and ``writes``.

    Not to be confused with the gateway's message kinds (:class:`gateway.protocol.MessageKind`:
    what one relayed message is), which the gateway derives from these (``gateway.protocol.CARRIED_AS``).
    """

    SUBMISSIONS = "submissions"
    AUTHORIZATIONS = "authorizations"
    ACTIONS = "actions"
    HOLDINGS = "holdings"
    AUTHORIZED_ENTITIES = "authorized-entities"
    PROJECTS = "projects"
    ISSUANCES = "issuances"
    UNIT_BLOCKS = "unit-blocks"
    #: Records of units transferred, retired or cancelled (actions of those types, or unit blocks in that
    #: state), as a registry's transfer, retirement or cancellation reports list them.
    TRANSFERS = "transfers"
    RETIREMENTS = "retirements"
    CANCELLATIONS = "cancellations"


class Medium(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    XML = "xml"

    @classmethod
    def from_name(cls, filename: str | PurePath, default: Medium | None = None) -> Medium:
        """The medium a file name implies (``report.xlsx`` -> XLSX); a directory means CSV."""
        suffix = PurePath(filename).suffix.lower().lstrip(".")
        aliases = {"xlsm": "xlsx", "txt": "csv", "tsv": "csv", "jsonl": "json"}
        suffix = aliases.get(suffix, suffix)
        try:
            return cls(suffix)
        except ValueError as exc:
            if default is not None:
                return default
            raise UnknownFormat(
                f"cannot tell the medium of {str(filename)!r} from its extension; use --medium"
            ) from exc


@dataclass(frozen=True, slots=True)
class Loss:
    """A field the target format cannot hold, and which records carried a value for it."""

    field: str
    records: tuple[str, ...]
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"field": self.field, "records": list(self.records), "reason": self.reason}


@dataclass(slots=True)
class ParseResult:
    document: CanonicalDocument
    findings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(f.is_error for f in self.findings)


@dataclass(slots=True)
class SerializeResult:
    """Serialized output. ``files`` holds extra named parts (one CSV per table); ``data`` the main one."""

    data: bytes
    medium: Medium
    losses: list[Loss] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)


RECORD_KINDS = ("authorizations", "actions", "holdings", "authorized_entities", "projects", "units")


def extra_losses(document: CanonicalDocument, target: str, *, kinds: tuple[str, ...] = RECORD_KINDS) -> list[Loss]:
    """A loss for every native field kept in a record's ``extra`` that ``target`` cannot carry.

    ``kinds`` limits this to the record kinds the target writes at all (a record kind it drops whole
    is reported once, by the caller)."""
    found: dict[str, list[str]] = {}
    for attr in kinds:
        for i, record in enumerate(getattr(document, attr)):
            for key in record.extra:
                found.setdefault(f"{attr}.extra.{key}", []).append(f"{attr}[{i}]")
            units = getattr(record, "units", None)
            if units is not None:
                for key in units.extra:
                    found.setdefault(f"{attr}.units.extra.{key}", []).append(f"{attr}[{i}]")
    if document.submission is not None:
        for key in document.submission.extra:
            found.setdefault(f"submission.extra.{key}", []).append("submission")
    return collect_losses(found, f"{target} has no field for this native value")


def collect_losses(records: dict[str, list[str]], reason: str) -> list[Loss]:
    """Group ``{field: [record ids]}`` into sorted :class:`Loss` items."""
    return [Loss(name, tuple(ids), reason) for name, ids in sorted(records.items()) if ids]


class FormatCodec:
    """Base for carbonlink's own formats; it satisfies the adapter contract structurally.

    Subclasses set the class attributes and implement :meth:`parse`, :meth:`serialize` and
    :meth:`validate`.
    """

    name: str = ""
    version: str = "0"
    description: str = ""
    reads: frozenset[RecordKind] = frozenset()
    writes: frozenset[RecordKind] = frozenset()
    media: tuple[Medium, ...] = ()

    def check_medium(self, medium: Medium) -> None:
        if medium not in self.media:
            supported = ", ".join(m.value for m in self.media)
            raise UnknownFormat(f"{self.name} does not support {medium.value} (supported: {supported})")

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult:
        raise NotImplementedError

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult:
        raise NotImplementedError

    def validate(self, data: bytes, *, medium: Medium) -> Report:
        """Validate native bytes: by default, the findings of :meth:`parse`."""
        result = self.parse(data, medium=medium)
        return Report(standard=self.name, findings=result.findings, records=result.document.record_count())


def __getattr__(name: str) -> Any:
    """``MessageKind``: the old name of :class:`RecordKind` (deprecated), for adapters written before
    record kinds and the gateway's message kinds were told apart."""
    if name == "MessageKind":
        warnings.warn("standards.codec.MessageKind is deprecated: an adapter's reads/writes are RecordKind; "
                      "message kinds are the gateway's (gateway.protocol.MessageKind)", DeprecationWarning,
                      stacklevel=2)
        return RecordKind
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

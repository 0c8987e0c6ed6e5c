"""The adapter contract: one registry format <-> the canonical model.

An adapter is any object with these attributes and methods (checked at load time). Third
parties ship one as a distribution that declares it under the ``carbonlink.adapters`` entry
point group; carbonlink's own formats are registered the same way (and also listed in code,
see :mod:`adapters._catalog`).

Two capabilities are optional, each a protocol checked with ``isinstance``:

* :class:`RuleSource`: the adapter publishes its rule catalogue (``rules``), listed by
  ``carbonlink rules`` and used for the references in its findings;
* :class:`StreamingAdapter`: the adapter streams records from large exports in bounded memory.
"""

from __future__ import annotations

import typing as _typing
from collections.abc import Iterable, Iterator
from typing import IO, Protocol, TypeAlias, runtime_checkable

from pydantic import BaseModel

from standards import (
    CanonicalDocument,
    Finding,
    Medium,
    ParseResult,
    RecordKind,
    Report,
    RuleCatalogue,
    SerializeResult,
)

__all__ = ["ByteStream", "RecordKind", "RegistryAdapter", "RuleSource", "StreamingAdapter"]

#: What a streaming read takes: a binary file object or an iterable of byte chunks.
ByteStream: TypeAlias = IO[bytes] | Iterable[bytes]


@runtime_checkable
class RegistryAdapter(Protocol):
    """A format carbonlink can read and write.

    ``parse`` turns native bytes into a canonical document plus findings about the input
    (coded, with locations); it raises :class:`~standards.errors.InputError` only when the input
    cannot be read at all. ``serialize`` writes a canonical document in the native format and
    lists in ``losses`` every field the format cannot hold. ``validate`` checks native bytes
    against the format's own rules without translating.
    """

    # read-only in the contract: an adapter may declare them as plain (narrower) class attributes

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def reads(self) -> frozenset[RecordKind]: ...

    @property
    def writes(self) -> frozenset[RecordKind]: ...

    @property
    def media(self) -> tuple[Medium, ...]: ...

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult: ...

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult: ...

    def validate(self, data: bytes, *, medium: Medium) -> Report: ...


@runtime_checkable
class RuleSource(Protocol):
    """Optional: an adapter that publishes the catalogue of rules its findings cite."""

    @property
    def rules(self) -> RuleCatalogue: ...


@runtime_checkable
class StreamingAdapter(Protocol):
    """Optional: adapters for large exports also stream records one by one in bounded memory.

    With a ``findings`` list, records with errors are left out and their findings appended to it;
    without one, the first error raises (a :class:`~standards.errors.CarbonlinkError`), so nothing
    is dropped silently. At most ``limit`` bytes are read (None: the adapter's own cap).
    """

    def iter_records(self, stream: ByteStream, *, medium: Medium, findings: list[Finding] | None = None,
                     limit: int | None = None) -> Iterator[BaseModel]: ...


def __getattr__(name: str) -> _typing.Any:
    """``MessageKind``, the deprecated old name of ``RecordKind`` (see :mod:`standards.codec`)."""
    if name == "MessageKind":
        from standards import codec as _codec

        return _codec.MessageKind
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

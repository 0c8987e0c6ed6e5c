"""The adapter contract: one registry format <-> the canonical model.

An adapter is any object with these attributes and methods (checked at load time). Third
parties ship one as a distribution that declares it under the ``carbonlink.adapters`` entry
point group; carbonlink's own formats are registered the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from standards.codec import Medium, MessageKind, ParseResult, SerializeResult
from standards.findings import Report
from standards.model import CanonicalDocument

__all__ = ["MessageKind", "RegistryAdapter", "StreamingAdapter"]


@runtime_checkable
class RegistryAdapter(Protocol):
    """A format carbonlink can read and write.

    ``parse`` turns native bytes into a canonical document plus findings about the input
    (coded, with locations); it raises :class:`~standards.errors.InputError` only when the input
    cannot be read at all. ``serialize`` writes a canonical document in the native format and
    lists in ``losses`` every field the format cannot hold. ``validate`` checks native bytes
    against the format's own rules without translating.
    """

    name: str
    version: str
    description: str
    reads: frozenset[MessageKind]
    writes: frozenset[MessageKind]
    media: tuple[Medium, ...]

    def parse(self, data: bytes, *, medium: Medium) -> ParseResult: ...

    def serialize(self, document: CanonicalDocument, *, medium: Medium) -> SerializeResult: ...

    def validate(self, data: bytes, *, medium: Medium) -> Report: ...


@runtime_checkable
class StreamingAdapter(Protocol):
    """Optional: adapters for large exports also stream records one by one in bounded memory."""

    def iter_records(self, stream: Iterator[bytes], *, medium: Medium) -> Iterator[object]: ...

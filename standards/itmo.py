"""ITMO unique identifiers and ITMO blocks (decision 6/CMA.4, annex I, para 5).

An identifier joins, in this order: the cooperative approach (``CA`` + 4 digits), the Party
registry that originated it (alpha-3 + 2 digits), the first transferring Party (alpha-3), a
serial number and the vintage: ``CA0001-CHE01-GHA-1000-2023``. AEF V2 reports blocks as the
integer serials ``FirstID``/``LastID`` beside the other elements; :class:`ItmoBlock` holds such a
block and does the arithmetic (length, overlap, split, merge).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from standards.errors import InvalidValue

COOPERATIVE_APPROACH_RE = re.compile(r"^CA\d{4}$")
PARTY_REGISTRY_RE = re.compile(r"^[A-Z]{3}\d{2}$")
PARTY_RE = re.compile(r"^[A-Z]{3}$")
#: Serial numbers may carry thousands separators in some validators (``1,000``).
ITMO_ID_RE = re.compile(
    r"^(?P<ca>CA\d{4})-(?P<registry>[A-Z]{3}\d{2})-(?P<party>[A-Z]{3})-"
    r"(?P<serial>[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*)-(?P<vintage>\d{4})$"
)

REFERENCE = "decision 6/CMA.4, annex I, para 5"


class InvalidItmoId(InvalidValue):
    """The text is not an ITMO unique identifier."""

    code = "ITMO.INVALID_ID"


@dataclass(frozen=True, slots=True, order=True)
class ItmoId:
    cooperative_approach: str
    registry: str
    first_transferring_party: str
    serial: int
    vintage: int

    @classmethod
    def parse(cls, text: str) -> ItmoId:
        match = ITMO_ID_RE.match(text.strip())
        if match is None:
            raise InvalidItmoId(
                f"{text!r} is not an ITMO identifier (CA####-AAA##-AAA-<serial>-YYYY, {REFERENCE})"
            )
        return cls(match["ca"], match["registry"], match["party"],
                   int(match["serial"].replace(",", "")), int(match["vintage"]))

    def __str__(self) -> str:
        return (f"{self.cooperative_approach}-{self.registry}-{self.first_transferring_party}-"
                f"{self.serial}-{self.vintage:04d}")


class BlockError(InvalidValue):
    """A block operation that cannot be done (bad range, blocks not adjacent, split outside)."""

    code = "ITMO.BLOCK"


@dataclass(frozen=True, slots=True, order=True)
class ItmoBlock:
    """A contiguous range of ITMO serials sharing the other identifier elements."""

    cooperative_approach: str
    registry: str
    first_transferring_party: str
    vintage: int
    first: int
    last: int

    def __post_init__(self) -> None:
        if self.first < 1 or self.last < self.first:
            raise BlockError(f"block {self.first}-{self.last} is not a valid range (FirstID <= LastID)")

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1

    @property
    def series(self) -> tuple[str, str, str, int]:
        """The identifier elements other than the serial: blocks only compare within a series."""
        return (self.cooperative_approach, self.registry, self.first_transferring_party, self.vintage)

    def first_id(self) -> ItmoId:
        return ItmoId(self.cooperative_approach, self.registry, self.first_transferring_party,
                      self.first, self.vintage)

    def last_id(self) -> ItmoId:
        return ItmoId(self.cooperative_approach, self.registry, self.first_transferring_party,
                      self.last, self.vintage)

    @classmethod
    def from_ids(cls, first: ItmoId | str, last: ItmoId | str) -> ItmoBlock:
        a = ItmoId.parse(first) if isinstance(first, str) else first
        b = ItmoId.parse(last) if isinstance(last, str) else last
        if (a.cooperative_approach, a.registry, a.first_transferring_party, a.vintage) != (
            b.cooperative_approach, b.registry, b.first_transferring_party, b.vintage
        ):
            raise BlockError(f"{a} and {b} are not in the same series")
        return cls(a.cooperative_approach, a.registry, a.first_transferring_party, a.vintage,
                   a.serial, b.serial)

    def overlaps(self, other: ItmoBlock) -> bool:
        return self.series == other.series and self.first <= other.last and other.first <= self.last

    def contains(self, other: ItmoBlock) -> bool:
        return self.series == other.series and self.first <= other.first and other.last <= self.last

    def split(self, quantity: int) -> tuple[ItmoBlock, ItmoBlock]:
        """Split into a first block of ``quantity`` serials and the rest."""
        if not 0 < quantity < self.quantity:
            raise BlockError(f"cannot split a block of {self.quantity} at {quantity}")
        cut = self.first + quantity
        return (self._with(self.first, cut - 1), self._with(cut, self.last))

    def merge(self, other: ItmoBlock) -> ItmoBlock:
        """Join two adjacent blocks of one series."""
        if self.series != other.series:
            raise BlockError("blocks of different series cannot be merged")
        lo, hi = sorted((self, other))
        if lo.last + 1 != hi.first:
            raise BlockError(f"blocks {lo.first}-{lo.last} and {hi.first}-{hi.last} are not adjacent")
        return self._with(lo.first, hi.last)

    def _with(self, first: int, last: int) -> ItmoBlock:
        return ItmoBlock(self.cooperative_approach, self.registry, self.first_transferring_party,
                         self.vintage, first, last)

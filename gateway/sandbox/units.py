"""Unit blocks as the sandbox holds them, and their arithmetic.

Three kinds of block, each a contiguous integer range within a *series* (everything that
identifies a unit except its number):

* ``itmo``: an Article 6 ITMO block (:class:`standards.itmo.ItmoBlock`: cooperative approach,
  Party registry, first transferring Party, vintage, FirstID-LastID);
* ``serial``: a crediting-programme serial number (:class:`standards.serials.Serial`, any scheme
  of the serial catalogue);
* ``range``: a registry + unit type + project + vintage with a bare ``first_id``-``last_id``
  range (formats such as DES that carry the numbers but no serial text).

Splitting and merging go through the standards' own block types, so the sandbox cuts blocks
exactly as the rest of carbonlink does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol, Self

from gateway.sandbox.errors import SeedError, UnitsUnidentified
from standards.errors import CarbonlinkError
from standards.itmo import BlockError, InvalidItmoId, ItmoBlock
from standards.model import Action
from standards.serials import Serial, default_catalogue

Kind = Literal["itmo", "serial", "range"]
HELD, PENDING = "held", "pending"
#: Unit numbers are SQLite integers (signed 64-bit); larger ones are refused as unidentifiable.
MAX_UNIT_NUMBER = 2**63 - 1


class _Splittable(Protocol):
    @property
    def first(self) -> int: ...

    @property
    def last(self) -> int: ...

    def split(self, quantity: int) -> tuple[Self, Self]: ...

    def merge(self, other: Self) -> Self: ...


@dataclass(frozen=True, slots=True)
class _PlainRange:
    """A bare integer range, for ``range`` blocks (same split/merge contract as the typed blocks)."""

    first: int
    last: int

    def split(self, quantity: int) -> tuple[_PlainRange, _PlainRange]:
        if not 0 < quantity < self.last - self.first + 1:
            raise BlockError(f"cannot split {self.first}-{self.last} at {quantity}")
        return _PlainRange(self.first, self.first + quantity - 1), _PlainRange(self.first + quantity, self.last)

    def merge(self, other: _PlainRange) -> _PlainRange:
        lo, hi = sorted((self, other), key=lambda r: r.first)
        if lo.last + 1 != hi.first:
            raise BlockError(f"blocks {lo.first}-{lo.last} and {hi.first}-{hi.last} are not adjacent")
        return _PlainRange(lo.first, hi.last)


@dataclass(frozen=True, slots=True)
class Units:
    """An identified range of units, before it is a holding (what an action names)."""

    kind: Kind
    series: str
    first: int
    last: int
    vintage: int | None
    template: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.first <= self.last <= MAX_UNIT_NUMBER:
            raise UnitsUnidentified(f"units {self.first}-{self.last} are not a range of unit numbers between 0 and "
                                    f"{MAX_UNIT_NUMBER} (first <= last)")

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1

    def label(self) -> str:
        return label(self.kind, self.series, self.first, self.last, self.template)


@dataclass(frozen=True, slots=True)
class Block:
    """A holding row: units of one series in one account, held or pending an outgoing debit."""

    kind: Kind
    series: str
    first: int
    last: int
    vintage: int | None
    account: str
    status: str = HELD
    ref: str | None = None
    template: str = ""

    @classmethod
    def of(cls, units: Units, account: str, *, status: str = HELD, ref: str | None = None) -> Block:
        return cls(units.kind, units.series, units.first, units.last, units.vintage, account, status, ref,
                   units.template)

    @property
    def quantity(self) -> int:
        return self.last - self.first + 1

    def overlaps(self, units: Units | Block) -> bool:
        return self.series == units.series and self.first <= units.last and units.first <= self.last

    def label(self) -> str:
        return label(self.kind, self.series, self.first, self.last, self.template)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "units": self.label(), "series": json.loads(self.series),
                               "first": self.first, "last": self.last, "quantity": self.quantity,
                               "vintage": self.vintage, "account": self.account, "status": self.status}
        if self.ref is not None:
            out["pending_message_id"] = self.ref
        return out

    def _typed(self) -> _Splittable:
        elements = json.loads(self.series)
        if self.kind == "itmo":
            return ItmoBlock(elements[1], elements[2], elements[3], int(elements[4]), self.first, self.last)
        if self.kind == "serial":
            return _serial_from_template(self.template).with_range(self.first, self.last)
        return _PlainRange(self.first, self.last)

    def _from_typed(self, typed: _Splittable) -> Block:
        return replace(self, first=typed.first, last=typed.last)

    def carve(self, first: int, last: int) -> tuple[list[Block], Block]:
        """Cut ``first..last`` (inside this block) out: the remainders and the cut piece."""
        if not self.first <= first <= last <= self.last:
            raise BlockError(f"{first}-{last} is not inside {self.first}-{self.last}")
        rest: list[Block] = []
        typed = self._typed()
        if first > typed.first:
            below, typed = typed.split(first - typed.first)
            rest.append(self._from_typed(below))
        if last < typed.last:
            typed, above = typed.split(last - first + 1)
            rest.append(self._from_typed(above))
        return rest, self._from_typed(typed)

    def joinable(self, other: Block) -> bool:
        return (self.series == other.series and self.account == other.account and self.status == other.status
                and self.ref == other.ref and (self.last + 1 == other.first or other.last + 1 == self.first))

    def merge(self, other: Block) -> Block:
        if not self.joinable(other):
            raise BlockError("blocks of different series, accounts or states cannot be merged")
        return self._from_typed(self._typed().merge(other._typed()))


def merge_all(blocks: list[Block]) -> list[Block]:
    """Merge adjacent blocks of one series, account and state (the order of the result is sorted)."""
    out: list[Block] = []
    for block in sorted(blocks, key=lambda b: (b.series, b.account, b.status, b.ref or "", b.first)):
        if out and out[-1].joinable(block) and out[-1].last + 1 == block.first:
            out[-1] = out[-1].merge(block)
        else:
            out.append(block)
    return out


def _serial_from_template(template: str) -> Serial:
    return default_catalogue().parse(template)


def quantity_checked(units: Units) -> bool:
    """False for serial schemes whose range is not the block size (UNDP v1 programme ranges)."""
    return units.kind != "serial" or _serial_from_template(units.template).layout.quantity_checked


def label(kind: str, series: str, first: int, last: int, template: str = "") -> str:
    """How a clerk reads a block: ITMO ids, the serial text, or registry/project/vintage and range."""
    elements = json.loads(series)
    if kind == "itmo":
        block = ItmoBlock(elements[1], elements[2], elements[3], int(elements[4]), first, last)
        return f"{block.first_id()}..{block.last_id()}"
    if kind == "serial":
        return _serial_from_template(template).with_range(first, last).format()
    _, registry, unit_type, project, vintage = elements
    parts = [p for p in (registry, unit_type, project and f"project {project}", vintage and str(vintage)) if p]
    return f"{' '.join(str(p) for p in parts)} {first}-{last}"


def itmo_units(block: ItmoBlock) -> Units:
    series = json.dumps(["itmo", block.cooperative_approach, block.registry, block.first_transferring_party,
                         block.vintage])
    return Units("itmo", series, block.first, block.last, block.vintage)


def serial_units(text: str) -> Units:
    serial = default_catalogue().parse(text.strip())
    series = json.dumps(["serial", *serial.series])
    return Units("serial", series, serial.first, serial.last, serial.vintage, serial.format())


def range_units(registry: str, first: int, last: int, *, unit_type: str | None = None,
                project_id: str | None = None, vintage: int | None = None) -> Units:
    series = json.dumps(["range", registry, unit_type, project_id, vintage])
    return Units("range", series, first, last, vintage)


def units_of(action: Action) -> Units:
    """The units an action names: its ITMO block, else its serial, else its registry serial range."""
    try:
        block = action.itmo_block()
    except BlockError as exc:
        raise UnitsUnidentified(f"the ITMO block is not valid: {exc}") from exc
    if block is not None:
        return itmo_units(block)
    units = action.units
    if units is not None and units.serial:
        try:
            return serial_units(units.serial)
        except CarbonlinkError as exc:
            raise UnitsUnidentified(f"the serial number cannot be read: {exc.message}") from exc
    if units is not None and units.registry and units.first_id is not None and units.last_id is not None:
        return range_units(units.registry, units.first_id, units.last_id, unit_type=units.unit_type,
                           project_id=units.project_id, vintage=units.vintage)
    raise UnitsUnidentified("the action names no ITMO block (cooperative approach, registry, first transferring "
                            "Party, vintage, FirstID, LastID), no serial number and no registry serial range")


def parse_hold_spec(spec: str) -> tuple[Units, str | None]:
    """``FIRST_ITMO_ID..LAST_ITMO_ID[@ACCOUNT]`` or ``SERIAL[@ACCOUNT]`` (the ``--hold`` option)."""
    text, _, account = spec.rpartition("@") if "@" in spec else (spec, "", "")
    try:
        if ".." in text:
            first, _, last = text.partition("..")
            return itmo_units(ItmoBlock.from_ids(first.strip(), last.strip())), account or None
        return serial_units(text), account or None
    except (InvalidItmoId, BlockError) as exc:
        raise SeedError(f"--hold {spec!r}: {exc}") from exc
    except CarbonlinkError as exc:
        raise SeedError(f"--hold {spec!r}: {exc.message}") from exc


def seed_units(entry: Any, where: str) -> tuple[Units, str | None]:
    """One entry of a seed file's ``blocks`` list (see docs/sandbox.md)."""
    if not isinstance(entry, dict):
        raise SeedError(f"{where}: a block is a JSON object")
    account = entry.get("account")
    if account is not None and (not isinstance(account, str) or not account):
        raise SeedError(f"{where}: account is a non-empty string")
    try:
        if "itmo" in entry:
            first, _, last = str(entry["itmo"]).partition("..")
            return itmo_units(ItmoBlock.from_ids(first.strip(), (last or first).strip())), account
        if "serial" in entry:
            return serial_units(str(entry["serial"])), account
        if "registry" in entry:
            first_n, last_n = entry.get("first"), entry.get("last")
            if not isinstance(first_n, int) or not isinstance(last_n, int) or isinstance(first_n, bool):
                raise SeedError(f"{where}: first and last are integers")
            vintage = entry.get("vintage")
            if vintage is not None and not isinstance(vintage, int):
                raise SeedError(f"{where}: vintage is an integer year")
            return range_units(str(entry["registry"]), first_n, last_n, unit_type=entry.get("unit_type"),
                               project_id=entry.get("project_id"), vintage=vintage), account
    except (InvalidItmoId, BlockError) as exc:
        raise SeedError(f"{where}: {exc}") from exc
    except UnitsUnidentified as exc:
        raise SeedError(f"{where}: {exc.message}") from exc
    except CarbonlinkError as exc:
        raise SeedError(f"{where}: {exc.message}") from exc
    raise SeedError(f"{where}: a block names 'itmo' (FIRST_ID..LAST_ID), 'serial', or 'registry' with first/last")

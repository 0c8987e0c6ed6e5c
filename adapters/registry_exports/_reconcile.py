"""Several exports of one registry read together: a later state of part of an issued block is a state change,
not a second block.

A registry's issuances export lists each block as it was issued (Gold Standard ``Credit Status`` ``Issued``,
``GS1-1-KE-GS11603-16-2025-30256-1-5485``); its retirements export lists the part of a block that was later
retired (``...-30256-110-5463``), with the serial of that part. Read together, the retired part is not a second
block over the same units: the issued block is split around it, so the document holds the retired part once (the
retirement row) and the parts still as issued (``...-1-109`` and ``...-5464-5485``), and the quantities add up
to the quantity issued. Only a block of another export wholly inside an issued block, in a state other than
issued, is read this way; blocks that overlap otherwise are still refused (``<PREFIX>.SERIAL_OVERLAP``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise

from standards import InvalidSerial, UnitBlock, parse_serial
from standards.model import UnitStatus
from standards.serials import Serial

#: States that are the issuance itself (a block in one of them is not a later state of an issued block).
_AS_ISSUED = frozenset({UnitStatus.ISSUED, None})


def split_issued_blocks(units: list[UnitBlock], origin: Sequence[int],
                        schemes: tuple[str, ...]) -> tuple[list[UnitBlock], int]:
    """``units`` with every issued block that wholly holds blocks of another export (``origin[i]``: the export
    unit ``i`` came from) in a later state replaced by its parts outside them; and how many blocks were split."""
    serials: list[Serial | None] = [_serial(unit, schemes) for unit in units]
    by_series: dict[tuple[object, ...], list[int]] = {}
    for i, serial in enumerate(serials):
        if serial is not None:
            by_series.setdefault(serial.series, []).append(i)
    replaced: dict[int, list[UnitBlock]] = {}
    for members in by_series.values():
        if len(members) < 2:
            continue
        for i in members:
            outer = serials[i]
            if outer is None or units[i].status not in _AS_ISSUED:
                continue
            inner: list[Serial] = []
            for j in members:
                block = serials[j]
                if block is not None and origin[j] != origin[i] and units[j].status not in _AS_ISSUED \
                        and outer.contains(block):
                    inner.append(block)
            inner.sort(key=lambda block: block.first)
            if inner and _disjoint(inner):
                replaced[i] = [_part(units[i], outer, first, last) for first, last in _outside(outer, inner)]
    if not replaced:
        return units, 0
    out: list[UnitBlock] = []
    for i, unit in enumerate(units):
        out.extend(replaced.get(i, [unit]))
    return out, len(replaced)


def _serial(unit: UnitBlock, schemes: tuple[str, ...]) -> Serial | None:
    if unit.serial is None:
        return None
    try:
        return parse_serial(unit.serial, schemes)
    except InvalidSerial:
        return None


def _disjoint(blocks: list[Serial]) -> bool:
    return all(a.last < b.first for a, b in pairwise(blocks))


def _outside(outer: Serial, inner: list[Serial]) -> list[tuple[int, int]]:
    """The ranges of ``outer`` no block of ``inner`` (sorted, disjoint, inside it) covers."""
    parts: list[tuple[int, int]] = []
    at = outer.first
    for block in inner:
        if block.first > at:
            parts.append((at, block.first - 1))
        at = block.last + 1
    if at <= outer.last:
        parts.append((at, outer.last))
    return parts


def _part(unit: UnitBlock, serial: Serial, first: int, last: int) -> UnitBlock:
    update: dict[str, object] = {"serial": serial.with_range(first, last).format(),
                                 "quantity": Decimal(last - first + 1)}
    if unit.first_id is not None and unit.last_id is not None:
        update |= {"first_id": first, "last_id": last}
    return unit.model_copy(update=update, deep=True)

"""Small value helpers of the CAD Trust linkers: picklist membership, countries, methodology codes."""

from __future__ import annotations

from typing import Any

from standards.cadt._issuance_rows import is_issuance_row
from standards.cadt.vocab import Vocabulary, registry_vocabulary
from standards.model import UnitBlock
from standards.parties import UnknownParty, to_alpha3


def is_listed(value: Any, listed: frozenset[str]) -> bool:
    """``value in listed`` for any value: one that cannot be hashed (a list, a dict) is in no picklist."""
    try:
        return value in listed
    except TypeError:
        return False


def alpha3_of(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return to_alpha3(value)[0]
    except UnknownParty:
        return None


def bare_methodology(methodology: str | None, vocab: Vocabulary) -> str | None:
    """A methodology without the picklist's programme prefix (``VCS - VM0015`` -> ``VM0015``)."""
    if methodology is None:
        return None
    for prefix in vocab.data.get("methodologyPrefixes") or ():
        if methodology.startswith(prefix):
            return methodology[len(prefix):]
    return methodology


def parts_of(value: str | None) -> list[str]:
    """The values of a cell listing several (``VM0007; VM0015``, as Verra writes several methodologies or
    sectoral scopes), or none when the cell names one."""
    if value is None or ";" not in value:
        return []
    return [part.strip() for part in value.split(";") if part.strip()]


def agreed(vocab: Vocabulary, table: str, value: str | None, methodology: bool = False) -> str | None:
    """``value`` through ``table``; a cell listing several values maps when every one of them maps, all to the
    same value (two methodologies that both credit technical reductions credit technical reductions)."""
    found = vocab.lookup(table, bare_methodology(value, vocab) if methodology else value)
    parts = parts_of(value) if found is None else []
    if not parts:
        return found
    mapped = {vocab.lookup(table, bare_methodology(part, vocab) if methodology else part) for part in parts}
    return mapped.pop() if len(mapped) == 1 and None not in mapped else None


def v2_unit_type(vocab: Vocabulary, methodology: str | None, project_type: str | None) -> str | None:
    """A unit's v2 unit type: the vocabulary's ``v2`` tables first (v2 has values v1 lacks: ``Not Determined``
    for a credit that may be a removal or a reduction), then the v1 tables; methodology before project type."""
    v2 = Vocabulary(vocab.name, {"methodologyPrefixes": vocab.data.get("methodologyPrefixes") or [],
                                 **vocab.table("v2")})
    return agreed(v2, "unitTypeByMethodology", methodology, methodology=True) \
        or agreed(v2, "unitTypeByProjectType", project_type) \
        or agreed(vocab, "unitTypeByMethodology", methodology, methodology=True) \
        or agreed(vocab, "unitTypeByProjectType", project_type)


def unit_block_key(serial: str | None, start: Any, end: Any) -> str | None:
    """The natural key of a unit block: its serial, else its first and last unit; None when the export gives
    neither (a record id derived from nothing would be the same for every such unit: a placeholder)."""
    if serial:
        return serial
    return None if start is None or end is None else f"{start}-{end}"


def no_block(unit: UnitBlock, start: Any, end: Any) -> str | None:
    """Why ``unit`` (written with block bounds ``start``/``end``) has no serial block CAD Trust can hold, or
    None when it has one or is an issuance-report row (written as its project's issuance, not as a unit)."""
    if (start is not None and end is not None) or is_issuance_row(unit):
        return None
    serial, quantity = unit.serial, unit.quantity
    if quantity is not None and not _whole(quantity):
        return (f"no serial block: its quantity {quantity} is not a whole number of units (the registry counts "
                "fractions of a unit, e.g. kilograms); a CAD Trust block counts whole units and carbonlink does not "
                "round")
    if not serial:
        return "no serial block: the export gives no serial numbers for it, and carbonlink does not invent them"
    vocab = registry_vocabulary(unit.registry)
    counts = vocab.fact("serialCounts") if vocab is not None else None
    if counts is not None:  # Isometric: a whole number of tonnes over a range of kilograms
        return (f"no serial block: its serial {serial!r} numbers {counts}, not whole units; carbonlink does not "
                "rescale a registry's serial numbers into a block of whole units")
    return f"no serial block: its serial {serial!r} gives no first and last unit"


def _whole(quantity: Any) -> bool:
    try:
        return bool(quantity == int(quantity))
    except (ValueError, OverflowError, ArithmeticError):
        return False


def listed_values(vocab: Vocabulary, table: str, value: str | None) -> list[str]:
    """``value`` through ``table`` as a v2 list: one value, or for a cell listing several (``Energy demand; Waste
    handling and disposal``) the distinct values of its parts when every part maps; else empty."""
    found = vocab.lookup(table, value)
    if found is not None:
        return [found]
    parts = [vocab.lookup(table, part) for part in parts_of(value)]
    if not parts or None in parts:
        return []
    return list(dict.fromkeys(part for part in parts if part is not None))

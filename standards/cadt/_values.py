"""Small value helpers of the CAD Trust linkers: picklist membership, countries, methodology codes."""

from __future__ import annotations

from typing import Any

from standards.cadt.vocab import Vocabulary
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

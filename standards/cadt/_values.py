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

"""Layered validation of CAD Trust documents: structure, code lists, field rules, cross-record.

:class:`CadtValidator` checks a parsed JSON document (``{resource: [records]}``) and returns the
records *normalised* (legacy keys renamed, known variant spellings replaced by the picklist's own
value, alpha-2 Party codes widened to alpha-3), each with the findings that explain every change.
A record that fails a layer skips the later layers.
"""

from standards.cadt.validate._base import (
    BLOCK_FIELDS,
    PARTY_FIELDS,
    PARTY_LIST_FIELDS,
    Locator,
    Path,
    Record,
    Validation,
    as_block_int,
    default_locator,
    parse_date,
)
from standards.cadt.validate._validator import CadtValidator

__all__ = [
    "BLOCK_FIELDS",
    "PARTY_FIELDS",
    "PARTY_LIST_FIELDS",
    "CadtValidator",
    "Locator",
    "Path",
    "Record",
    "Validation",
    "as_block_int",
    "default_locator",
    "parse_date",
]

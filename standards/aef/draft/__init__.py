"""The draft AEF (version 1) of decision 6/CMA.4, annex VII, read into AEF V2 tables.

The draft has a heading (Party, Reported year) and two wide tables, Actions (columns A-Z)
and Holdings (A-S), one row per ITMO block with the authorization repeated on every row.
:func:`read_draft` turns each row into a T2 authorization (identical ones de-duplicated by
Authorization ID) plus a T3 action or T4 holding, parsing the full ITMO unique identifiers
of columns C/D (``CA0001-CHE01-GHA-1000-2023``) into FirstID/LastID, the cooperative
approach, the Party ITMO registry, the first transferring Party and the vintage.

V1 columns with no V2 field (Article 6 database record ID, conversion factor, "First
transfer") are kept in T3 ``AdditionalExplanatoryInformation``; T4 has no such field, so
for holdings they are reported (``AEF.DRAFT.COLUMN_LOST``). V2 fields V1 lacks stay ``None``.
Headers may span rows (labels merged down from above, as in the UNDP National Carbon
Registry's templates); :func:`write_template` writes those templates' layout, and a
:class:`VocabularyMap` (a data file) maps a registry's own labels both ways.
"""

from __future__ import annotations

from standards.aef.draft._columns import (
    ACTIONS_COLUMNS,
    COLUMN_LOST,
    DRAFT_CATALOGUE,
    DRAFT_COLUMNS,
    HEADER_SEARCH_ROWS,
    HOLDINGS_COLUMNS,
    REFERENCE,
    DraftHeaderError,
)
from standards.aef.draft._reader import read_draft
from standards.aef.draft._template import template_fields, template_losses, write_template
from standards.aef.draft._vocabulary import VocabularyMap, VocabularyMapError

__all__ = [
    "ACTIONS_COLUMNS",
    "COLUMN_LOST",
    "DRAFT_CATALOGUE",
    "DRAFT_COLUMNS",
    "HEADER_SEARCH_ROWS",
    "HOLDINGS_COLUMNS",
    "REFERENCE",
    "DraftHeaderError",
    "VocabularyMap",
    "VocabularyMapError",
    "read_draft",
    "template_fields",
    "template_losses",
    "write_template",
]

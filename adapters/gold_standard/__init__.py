"""Gold Standard Impact Registry exports (CSV) and public API JSON <-> the canonical model.

CSV: ``issuances.csv``, ``retirements.csv`` and ``projects.csv`` with the registry's own headers.
JSON: the public API's credit objects (``number_of_credits``, ``serial_number``, ``status``,
nested ``project``) and project objects. Serials are the 9-token GS VER form or, for CERs held
in Gold Standard, a Kyoto unit-identifier range; the range must equal the quantity. Gold
Standard has no cancellations. Sources: the registry's exports (registry.goldstandard.org) as collected
by CarbonPlan's OffsetsDB (github.com/carbonplan/offsets-db-data, ``tests/data/gold-standard``) and its public API
(public-api.goldstandard.org). Mapping and losses:
``docs/adapters/gold-standard.md``.
"""

from __future__ import annotations

from adapters.gold_standard._adapter import GoldStandardAdapter, adapter
from adapters.gold_standard._layouts import ISSUANCES, PREFIX, PROJECT_URL, PROJECTS, REFERENCE, REGISTRY, RETIREMENTS

__all__ = [
    "ISSUANCES",
    "PREFIX",
    "PROJECTS",
    "PROJECT_URL",
    "REFERENCE",
    "REGISTRY",
    "RETIREMENTS",
    "GoldStandardAdapter",
    "adapter",
]

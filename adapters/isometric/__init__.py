"""Isometric registry exports <-> the canonical model.

Isometric publishes its registry as API objects; the exports are those objects flattened to CSV with
dotted column names (``supplier.organisation.name``, ``credit_batch_size_total.credits``). Four files:
``projects`` (``prj_…`` ids, ``short_code``, ``protocol_slug``, ISO alpha-3 ``country_code``),
``issuances`` (``iss_…``), ``credit batches`` (``ctb_…``, one serial-numbered batch per row such as
``ISO-1-VAULT-USA-01P4-2026-40170350-40182796``, whose range is kilograms, end exclusive) and
``retirements`` (``ret_…``). Credits are tonnes with up to three decimals; the ``…credit_kgs`` column
states the same amount in kilograms and is checked against it. Sources: the exports as collected by
CarbonPlan's OffsetsDB (github.com/carbonplan/offsets-db-data, ``tests/data/isometric``). Mapping, quirks
and losses: ``docs/adapters/isometric.md``.
"""

from __future__ import annotations

from adapters.isometric._adapter import IsometricAdapter, adapter
from adapters.isometric._layouts import (
    CREDIT_BATCHES,
    ISSUANCES,
    LAYOUTS,
    PREFIX,
    PROJECTS,
    REFERENCE,
    REGISTRY,
    RETIREMENTS,
)

__all__ = [
    "CREDIT_BATCHES",
    "ISSUANCES",
    "LAYOUTS",
    "PREFIX",
    "PROJECTS",
    "REFERENCE",
    "REGISTRY",
    "RETIREMENTS",
    "IsometricAdapter",
    "adapter",
]

"""Cercarbono registry exports (published on the EcoRegistry platform) <-> the canonical model.

Three files: ``projects`` (one row per project, list cells such as ``locations`` and ``sector`` as the
platform's list literals), ``issuances`` (one row per issuance serial such as ``CDC_1_1_1_321_14_1``;
``is_buffer`` marks the buffer's share; the crediting period is ``vintage_of_credits``,
``2010-01-01 / 2018-09-30``) and ``retirements`` (a unit range ``from``/``to`` inside an issuance
serial, its length equal to ``quantity``; dates with a time of day). A retired block is written
canonically as ``<issuance serial>:<from>-<to>``. Sources: the exports as collected by CarbonPlan's
OffsetsDB (github.com/carbonplan/offsets-db-data, ``tests/data/cercarbono``). Mapping, quirks and
losses: ``docs/adapters/cercarbono.md``.
"""

from __future__ import annotations

from adapters.cercarbono._adapter import CercarbonoAdapter, adapter, literal_list, serial_project
from adapters.cercarbono._layouts import ISSUANCES, LAYOUTS, PREFIX, PROJECTS, REFERENCE, REGISTRY, RETIREMENTS

__all__ = [
    "ISSUANCES",
    "LAYOUTS",
    "PREFIX",
    "PROJECTS",
    "REFERENCE",
    "REGISTRY",
    "RETIREMENTS",
    "CercarbonoAdapter",
    "adapter",
    "literal_list",
    "serial_project",
]

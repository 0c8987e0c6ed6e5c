"""The APX export family: American Carbon Registry, Climate Action Reserve and ART TREES.

The three registries ran on the same APX platform and publish the same kinds of CSV reports:
projects, issuances, retirements and cancellations, each with its own header (exact spellings,
including ``Status Effective  (GMT)`` and ``Program  Country`` with two spaces). Every layout is
declared below as its columns plus the *roles* some columns play (quantity, serial, dates,
account, reason...); the other columns ride in ``extra`` verbatim. Retirement and cancellation
rows carry serials ``PREFIX-country-project-vintage-batch-first to last`` whose range must equal the
quantity; issuance reports have no serials. Sources: the registries' APX report exports as collected
by CarbonPlan's OffsetsDB (github.com/carbonplan/offsets-db-data, ``tests/data``) and the Climate Action Reserve
serial-number guide (climateactionreserve.org/how/projects/serial-number-guide/).
Mapping, quirks and losses: ``docs/adapters/apx.md``.
"""

from __future__ import annotations

from adapters.apx._adapter import ApxAdapter, adapter
from adapters.apx._layouts import ACR, ART, CAR, LAYOUTS, PREFIX, REFERENCE, REGISTRIES, ApxLayout, registry_of

__all__ = [
    "ACR",
    "ART",
    "CAR",
    "LAYOUTS",
    "PREFIX",
    "REFERENCE",
    "REGISTRIES",
    "ApxAdapter",
    "ApxLayout",
    "adapter",
    "registry_of",
]

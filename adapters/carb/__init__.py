"""California Air Resources Board (CARB) compliance offset credits <-> the canonical model.

CARB publishes the ARB offset credits it issues as one table, one row per issuance (``CARB Issuance ID``
such as ``CAOD1007-A``), with what became of the credits as columns: the forest buffer contribution and
how much of it was retired, invalidated credits, and retirements per purpose (voluntary, each California
compliance period, Quebec). Each row becomes the unit blocks those columns account for: the credits
still held (issued less buffer, retired and invalidated), the buffer still held, and one retired or
cancelled block per non-zero column, so the blocks of a row always add up to the credits issued. The table
gives no serial numbers and no retirement dates. Sources: the table as collected by CarbonPlan's OffsetsDB
(github.com/carbonplan/offsets-db-data, ``tests/data/arb``). Mapping, quirks and losses:
``docs/adapters/carb.md``.
"""

from __future__ import annotations

from adapters.carb._adapter import CarbAdapter, adapter
from adapters.carb._layouts import DISPOSITIONS, ISSUANCE_TABLE, LAYOUTS, PREFIX, REFERENCE, REGISTRY

__all__ = ["DISPOSITIONS", "ISSUANCE_TABLE", "LAYOUTS", "PREFIX", "REFERENCE", "REGISTRY", "CarbAdapter", "adapter"]

"""Verra VCS registry exports (``transactions.csv`` and ``projects.csv``) <-> the canonical model.

Each transactions row is one VCU block: held (no retirement date) or retired/cancelled. Verra's
public export does not say which of retirement and cancellation happened, so such rows become
``UnitStatus.RETIRED`` and a ``VERRA.RETIREMENT_OR_CANCELLATION`` note says so once per file.
The serial (13-token form and its 12-token variants, see :mod:`standards.serials`) is kept
verbatim; its range must equal ``Quantity Issued``. Sources: the registry's public exports
(registry.verra.org) as collected by CarbonPlan's OffsetsDB (github.com/carbonplan/offsets-db-data,
``tests/data/verra``).
Column mapping, quirks and losses: ``docs/adapters/verra.md``.
"""

from __future__ import annotations

from adapters.verra._adapter import VerraAdapter, adapter
from adapters.verra._fast_path import _construct as _construct
from adapters.verra._fast_path import _unit_builder as _unit_builder
from adapters.verra._fast_path import _unit_reader as _unit_reader
from adapters.verra._layout import PROJECT_URL, PROJECTS, REFERENCE, REGISTRY, RULES, TRANSACTIONS

__all__ = ["PROJECTS", "PROJECT_URL", "REFERENCE", "REGISTRY", "RULES", "TRANSACTIONS", "VerraAdapter", "adapter"]

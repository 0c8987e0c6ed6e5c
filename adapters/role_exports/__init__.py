"""Registry exports described by column *roles*: the shared reading and writing of the adapters whose
files are flat tables of one kind of record each (Cercarbono, Isometric, CARB).

A :class:`RoleLayout` names one export file by its exact columns and says which column plays which
part (``project_id``, ``quantity``, ``vintage``, ``serial``, ``issued``, ``status_date``, ``account``,
``beneficiary``, ``reason``, ``name``, ``country``, ``link``; for project files also ``developer``,
``project_type``, ``methodology``, ``status``, ``description``); every other filled cell rides in
``extra`` verbatim. :class:`RoleExportAdapter` adds the per-row helpers and a writer that puts a
canonical record back into the layout of its kind, listing what has no column as a loss.
"""

from __future__ import annotations

from adapters.role_exports._adapter import RoleExportAdapter, RoleLayout, read_year

__all__ = ["RoleExportAdapter", "RoleLayout", "read_year"]

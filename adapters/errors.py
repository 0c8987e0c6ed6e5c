"""Adapter errors. They extend the tree drawn in :mod:`standards.errors`::

    CarbonlinkError
     └── AdapterError
          ├── AdapterLoadError      a plugin failed to import, has the wrong shape or a duplicate name
          └── NoSuchAdapter         (also an UnknownFormat)
"""

from __future__ import annotations

from standards import CarbonlinkError, UnknownFormat


class AdapterError(CarbonlinkError):
    code = "ADAPTER.ERROR"


class AdapterLoadError(AdapterError):
    code = "ADAPTER.LOAD"

    def __init__(self, entry_point: str, message: str) -> None:
        super().__init__(f"adapter {entry_point!r}: {message}")
        self.entry_point = entry_point


class NoSuchAdapter(AdapterError, UnknownFormat):
    code = "FORMAT.UNKNOWN"

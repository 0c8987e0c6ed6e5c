"""CAD Trust errors, in the tree of :mod:`standards.errors`::

    InputError
     └── PicklistError          a picklist override (file or node answer) cannot be used
    CarbonlinkError
     └── CadtNodeUnavailable    a CADT node did not answer (network, HTTP status)
"""

from __future__ import annotations

from standards.errors import CarbonlinkError, InputError


class PicklistError(InputError):
    code = "CADT.PICKLISTS"


class CadtNodeUnavailable(CarbonlinkError):
    code = "CADT.NODE_UNAVAILABLE"

"""The ``cadt`` adapter: what a CAD Trust node serves, read and written through standards.cadt.

Reads (JSON) the node's v1 and v2 API answers, per resource: paged answers
``{page, pageCount, data: [...]}``, plain lists, by-id objects, several pages of one resource
in a list, or an object keyed by resource name holding any of those (``{"projects": {...},
"units": [...]}``). The version and, for a bare answer, the resource are recognised from the
record keys. Reads (XLSX) the node's export: one sheet per table; in the v1 project export
each child sheet carries the parent's ``warehouseProjectId`` in a column named ``projectId``
(not the registry project id), the unit sheet an ``issuanceId`` column and ``label_units`` the
unit-label links. v2 workbooks: one sheet per resource named like the API (``project``,
``unit``, ``aef-t3-actions``...), cells holding the API fields; list fields as JSON arrays.

Writes the codec document (JSON), or the same workbook layout (XLSX). The written version is
``CARBONLINK_CADT_VERSION`` (``v1`` or ``v2``, default ``v2``).
"""

from __future__ import annotations

from adapters.cadt._adapter import CadtAdapter, adapter
from adapters.cadt._rules import (
    BACK_REFERENCES,
    BACKREF,
    PARTIAL,
    REF,
    RULES,
    SHAPE,
    SHEET,
    V1_PROJECT_CHILDREN,
    VERSION_ENV,
)

__all__ = [
    "BACKREF",
    "BACK_REFERENCES",
    "PARTIAL",
    "REF",
    "RULES",
    "SHAPE",
    "SHEET",
    "V1_PROJECT_CHILDREN",
    "VERSION_ENV",
    "CadtAdapter",
    "adapter",
]

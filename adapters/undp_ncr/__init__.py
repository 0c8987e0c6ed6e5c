"""The ``undp-ncr`` adapter: the UNDP National Carbon Registry v2 (Article 6 edition) <-> canonical.

Two native shapes are read and written (``docs/adapters/undp-ncr.md`` has the field tables):

* **JSON**, the registry's entities with their own field names: ``creditBlocks``
  (CreditBlocksEntity), ``transactions`` (CreditTransactionsEntity) and ``projects``
  (ProjectEntity), in one object; a bare list of such records, or ``{"data": [...]}``, is also
  read (record kinds are told apart by their identifying fields).
* **CSV**, the registry's AEF actions export (``downloadAefReport``), one row per credit-block
  event with the AEF column labels of the registry's i18n file.

Serials are UNDP v2 ITMO-style block serials (``CA0004-VU-CH-356-3001-5000-2024``) parsed with
:mod:`standards.serials`; their alpha-2 Parties become alpha-3 with :mod:`standards.parties`.
Every native record is also kept whole in ``extra["undp"]``, so a round trip writes back the
native spelling; what the registry cannot hold is found by writing each record, reading it back
and comparing, and is reported as a loss.
"""

from __future__ import annotations

from adapters.undp_ncr._adapter import UndpNcrAdapter, adapter
from adapters.undp_ncr._aef_table import AEF_ACTION_TYPES, AEF_COLUMNS, AEF_REQUIRED
from adapters.undp_ncr._profile import UndpProfile
from adapters.undp_ncr._rules import (
    AUTHORIZATION_VERSION_ENV,
    FORMAT,
    MITIGATION_TYPE_ENV,
    REGISTRY_SUFFIX_ENV,
    RULES,
    SCHEME,
    STANDARD,
    UNCONFIGURED_PARTY,
)
from adapters.undp_ncr._values import SerialInfo

__all__ = [
    "AEF_ACTION_TYPES",
    "AEF_COLUMNS",
    "AEF_REQUIRED",
    "AUTHORIZATION_VERSION_ENV",
    "FORMAT",
    "MITIGATION_TYPE_ENV",
    "REGISTRY_SUFFIX_ENV",
    "RULES",
    "SCHEME",
    "STANDARD",
    "UNCONFIGURED_PARTY",
    "SerialInfo",
    "UndpNcrAdapter",
    "UndpProfile",
    "adapter",
]

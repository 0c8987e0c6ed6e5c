"""CAD Trust (Climate Action Data Trust) data model v1 (CADT 1.7.x) and v2 (Data Dictionary v2.0.2).

Public API:

* :class:`CadtV1Codec` (``cadt-v1``) and :class:`CadtV2Codec` (``cadt-v2``): JSON documents keyed
  by CADT resource name <-> :class:`~standards.model.CanonicalDocument`, with layered, coded
  validation (:data:`RULES_V1`, :data:`RULES_V2`) and losses on output;
* :func:`resolve_picklists` (bundled snapshot, ``CARBONLINK_CADT_PICKLISTS`` file or node URL),
  :func:`fetch_live` (a node's ``/v{1,2}/governance/meta/pickList``);
* :func:`load_profile` / :func:`default_profile`: target spellings (``cadt-v2.0.2`` by default).

See docs/cadtrust.md.
"""

from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.picklists import Picklists, fetch_live
from standards.cadt.picklists import resolve as resolve_picklists
from standards.cadt.profiles import Profile, default_profile, load_profile
from standards.cadt.rules import RULES_V1, RULES_V2

__all__ = [
    "RULES_V1",
    "RULES_V2",
    "CadtV1Codec",
    "CadtV2Codec",
    "Picklists",
    "Profile",
    "default_profile",
    "fetch_live",
    "load_profile",
    "resolve_picklists",
]

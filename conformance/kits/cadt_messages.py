"""``cadt-v1-messages`` and ``cadt-v2-messages``: exactly what a CAD Trust node accepts.

The checks are the ``cadt-v1``/``cadt-v2`` adapters (node-mirroring validation,
:mod:`standards.cadt.validate`, and the mapping it feeds). Version 1's linking rules (writing v1
from a registry export: vocabularies, operator profile, derived values) check carbonlink's own
translation, not a vendor's document; they are in the cases, and omitted from the run tree.
"""

from __future__ import annotations

from typing import Any

from conformance._messages import Checked, message_suite
from conformance._model import Clause
from conformance.cases import CASES_ROOT
from conformance.kits._message_kit import MessageKit
from standards.cadt.codec import CadtV1Codec, CadtV2Codec
from standards.cadt.operator import operator_profile_from
from standards.cadt.picklists import bundled
from standards.cadt.profiles import default_profile
from standards.cadt.rules import CATALOGUES
from standards.cadt.spec import Version
from standards.codec import Medium
from standards.model import CanonicalDocument

#: v1 rules that check writing CAD Trust from a registry export (carbonlink's translation).
V1_LINKING = ("CADT.V1.VOCAB", "CADT.V1.PROFILE_MISSING", "CADT.V1.SOURCE_MISSING", "CADT.V1.PROFILE_VALUE",
              "CADT.V1.DERIVED")
KIT_VERSION = "2026.1"
#: the CAD Trust data model versions the node-mirroring checks follow
VERSIONS = {"v1": "1.7.24", "v2": "2.0.2"}


def _codec(version: Version, *, request: bool = False) -> CadtV1Codec | CadtV2Codec:
    codec_class = CadtV1Codec if version == "v1" else CadtV2Codec
    return codec_class(picklists=bundled(version), profile=default_profile(version), request=request)


def _checker(version: Version) -> Any:
    def check(data: bytes, medium: Medium) -> Checked:
        codec = _codec(version)
        return Checked(codec.parse(data, medium=medium).findings)
    return check


def _firer(version: Version) -> Any:
    def fire(document: Any, mode: str) -> set[str]:
        if mode == "serialize":
            return _serialize_rules(version, document)
        result = _codec(version, request=mode == "request").parse_object(document)
        return {finding.rule for finding in result.findings}
    return fire


def _serialize_rules(version: Version, built: Any) -> set[str]:
    """Rules fired when a canonical document is written as CAD Trust with an operator profile: the
    writer's findings and the validation of what it wrote."""
    picklists = bundled(version)
    codec = (CadtV1Codec if version == "v1" else CadtV2Codec)(
        picklists=picklists, profile=default_profile(version),
        operator=operator_profile_from(built["operator"], "case profile", picklists))
    result = codec.serialize(CanonicalDocument.model_validate(built["document"]), medium=Medium.JSON)
    return {f.rule for f in result.findings + codec.validate(result.data, medium=Medium.JSON).findings}


def _kit(version: Version) -> MessageKit:
    name = f"cadt-{version}-messages"
    reading = Clause(f"CAD Trust data model {version} ({VERSIONS[version]}): the node's JSON API document",
                     f"cadt-{version}")
    return MessageKit(
        name=name, version=KIT_VERSION,
        description=f"CAD Trust {version} documents (JSON): exactly what a CAD Trust node accepts",
        suite=message_suite(name, f"CAD Trust {version} messages", [CATALOGUES[version]], reading,
                            not_applicable=V1_LINKING if version == "v1" else ()),
        check=_checker(version), suffixes=frozenset({"json"}), cases_dir=CASES_ROOT / name,
        fire=_firer(version), catalogue_rules=frozenset(rule.id for rule in CATALOGUES[version]))


def v1_kit() -> MessageKit:
    return _kit("v1")


def v2_kit() -> MessageKit:
    return _kit("v2")

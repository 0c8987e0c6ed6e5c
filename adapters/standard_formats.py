"""carbonlink's own standard formats, registered as adapters like any plugin."""

from __future__ import annotations

from standards.aef.codec import AEF, AEF_DRAFT
from standards.canonical import CANONICAL


def _cadt(version: str) -> object:
    from standards.cadt import codec

    return codec.CadtV1Codec() if version == "v1" else codec.CadtV2Codec()


canonical = CANONICAL
aef = AEF
aef_draft = AEF_DRAFT


def __getattr__(name: str) -> object:
    """CAD Trust codecs load lazily, so a problem there is reported for them alone."""
    if name == "cadt_v1":
        return _cadt("v1")
    if name == "cadt_v2":
        return _cadt("v2")
    raise AttributeError(name)

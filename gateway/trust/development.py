"""The shipped development trust material (see ``gateway/devdata/README.md``)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import orjson
from joserfc.jwk import Key

from gateway.trust.keys import import_jwk

_DATA = resources.files("gateway") / "devdata"


def _load(name: str) -> Any:
    return orjson.loads((_DATA / name).read_bytes())


@lru_cache(maxsize=1)
def anchor() -> Key:
    """The development anchor (private: it signs the embedded directory)."""
    return import_jwk(_load("development-anchor.private.json"), private=True, what="development anchor")


def anchor_thumbprints() -> list[str]:
    """Thumbprints production refuses."""
    return [anchor().thumbprint()]


def keyring_document() -> Any:
    return _load("development-gateway-keyring.private.json")


def participants() -> dict[str, Any]:
    doc = _load("development-participants.json")
    assert isinstance(doc, dict)
    return doc


def client_keys() -> dict[str, Key]:
    """Private keys of the development registries, by participant id."""
    return {
        pid: import_jwk(jwk, private=True, what=f"development client {pid}")
        for pid, jwk in _load("development-clients.private.json").items()
    }

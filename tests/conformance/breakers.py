"""Ways to break one check of a real peer, for the broken variants that test the endpoint kits.

Each helper turns off exactly one check of carbonlink's own code (the gateway's trust layer or the
sandbox registry), the way a careless implementation would lack it; the tests then assert that the
kit fails exactly the test for that check.
"""

from __future__ import annotations

import base64
from collections.abc import Collection
from typing import Any

import orjson

from gateway.trust import jose


class ForgivingJose:
    """Stands in for :mod:`gateway.trust.jose` in one module (``monkeypatch.setattr(module, "jose", ...)``):
    ``verify`` accepts a JWS of one of ``typs`` that the real check refuses for one of ``reasons``
    (``SIGNATURE``: any signature; ``ALG``: ``alg`` ``none``), with its claims read unverified.
    Everything else is the real module."""

    def __init__(self, reasons: Collection[str], typs: Collection[str]) -> None:
        self.reasons = set(reasons)
        self.typs = {t.lower() for t in typs}

    def __getattr__(self, name: str) -> Any:
        return getattr(jose, name)

    def verify(self, token: str, *, typ: Collection[str], key_for: Any, **options: Any) -> jose.VerifiedJws:
        try:
            return jose.verify(token, typ=typ, key_for=key_for, **options)
        except jose.JwsRejected as exc:
            if exc.reason not in self.reasons or not self.typs & {t.lower() for t in typ}:
                raise
            payload = token.split(".")[1]
            claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return jose.VerifiedJws(header=jose.peek_header(token), claims=claims)


class AnyIssuer(str):
    """An expected issuer that every issuer matches: ``claims["iss"] != AnyIssuer(...)`` is always false
    (Python tries the subclass's reflected comparison first)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = str.__hash__

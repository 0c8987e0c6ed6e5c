"""The gateway's detached signatures over what it relays: outbound messages and receipts.

The JWS is the one :func:`gateway.trust.jose.sign_detached` makes (RFC 7797: ``b64`` false, ``crit``
b64, the body unencoded): the same protected header, member for member and byte for byte. What is
made once instead of per signature: the key's algorithm and signing function (per key: a rotated
keyring's new current key gets its own), and the header's base64url text (per ``typ`` and second of
``iat``: the only members that change).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import orjson
from joserfc.jwk import Key

from gateway.evidence.signing import signature_maker
from gateway.trust import jose
from gateway.trust.keys import SigningKeyRing

#: ``typ`` of the gateway's signature over a relayed message (``Carbonlink-Signature``).
MESSAGE_TYP = "carbonlink-message+jws"
#: ``typ`` of the gateway's signature over a receipt.
RECEIPT_TYP = "carbonlink-receipt+jws"


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class DetachedSigner:
    """Signs bodies with the keyring's current key, as ``issuer`` (RFC 7797 detached, unencoded payload)."""

    def __init__(self, keyring: SigningKeyRing, issuer: str) -> None:
        self.keyring = keyring
        self.issuer = issuer
        #: ``(key, alg, signing function)`` of the last key signed with (a tuple, replaced whole).
        self._key: tuple[Key, str, Callable[[bytes], bytes]] | None = None
        #: ``(typ, iat, alg, kid) -> header text``, this second's: a dict never changed once published
        #: (a new header makes a new dict), so threads may read it while another replaces it.
        self._heads: dict[tuple[str, int, str, str | None], str] = {}

    def _signing(self) -> tuple[Key, str, Callable[[bytes], bytes]]:
        key = self.keyring.current
        known = self._key
        if known is None or known[0] is not key:
            alg = jose.algorithm_for(key)
            known = (key, alg, signature_maker(key, alg))
            self._key = known
        return known

    def header(self, typ: str, iat: int, key: Key, alg: str) -> dict[str, Any]:
        """The protected header of a signature made at ``iat`` (as :func:`jose.sign_detached` builds it)."""
        protected: dict[str, Any] = {"typ": typ, "b64": False, "crit": ["b64"], "iss": self.issuer, "iat": iat,
                                     "alg": alg}
        if key.kid:
            protected["kid"] = key.kid
        return protected

    def sign(self, body: bytes, *, typ: str = MESSAGE_TYP) -> str:
        key, alg, make = self._signing()
        iat = int(time.time())
        heads = self._heads
        which = (typ, iat, alg, key.kid)
        head = heads.get(which)
        if head is None:
            head = _b64encode(orjson.dumps(self.header(typ, iat, key, alg)))
            # a new second: the old headers are not used again
            self._heads = {**{k: v for k, v in heads.items() if k[1] == iat}, which: head}
        # RFC 7797 §3: the signing input is ASCII(BASE64URL(header)) || '.' || the body as it is
        return f"{head}..{_b64encode(make(head.encode('ascii') + b'.' + body))}"

"""The gateway's detached signatures over what it relays: outbound messages and receipts."""

from __future__ import annotations

import time

from gateway.trust import jose
from gateway.trust.keys import SigningKeyRing

#: ``typ`` of the gateway's signature over a relayed message (``Carbonlink-Signature``).
MESSAGE_TYP = "carbonlink-message+jws"
#: ``typ`` of the gateway's signature over a receipt.
RECEIPT_TYP = "carbonlink-receipt+jws"


class DetachedSigner:
    """Signs bodies with the keyring's current key, as ``issuer`` (RFC 7797 detached, unencoded payload)."""

    def __init__(self, keyring: SigningKeyRing, issuer: str) -> None:
        self.keyring = keyring
        self.issuer = issuer

    def sign(self, body: bytes, *, typ: str = MESSAGE_TYP) -> str:
        header = {"typ": typ, "b64": False, "crit": ["b64"], "iss": self.issuer, "iat": int(time.time())}
        return jose.sign_detached(header, body, self.keyring.current)

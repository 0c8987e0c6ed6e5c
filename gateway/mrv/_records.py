"""The gateway's signed records of the MRV chain: one per relayed MRV message, one per issuance notice, one per
evidence upload (an attestation). Each is a compact JWS signed with the gateway's signing key, so anyone holding
the gateway's JWKS checks it offline (``carbonlink mrv trail``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from joserfc.jwk import Key

from gateway.trust import jose
from gateway.trust.keys import SigningKeyRing

#: ``typ`` of the gateway's record of a relayed MRV message.
MESSAGE_RECORD_TYP = "carbonlink-mrv-record+jwt"
#: ``typ`` of the gateway's record of an issuance notice.
NOTICE_RECORD_TYP = "carbonlink-mrv-notice+jwt"
#: ``typ`` of the gateway's attestation of an uploaded evidence file.
EVIDENCE_TYP = "carbonlink-mrv-evidence+jwt"
_REGISTRY = jose.make_registry(max_payload=256 * 1024)


def sign_record(keyring: SigningKeyRing, typ: str, claims: dict[str, Any]) -> str:
    return jose.sign({"typ": typ}, claims, keyring.current, registry=_REGISTRY)


def verify_record(token: str, typ: str, key_for: Callable[[dict[str, Any]], Key]) -> dict[str, Any]:
    """The claims of a record the gateway signed (``jose.JwsRejected`` otherwise)."""
    return jose.verify(token, typ=[typ], key_for=key_for, registry=_REGISTRY).claims

"""The gateway's detached signatures (outbound messages, receipts) and evidence signatures, made with the
key's signing function taken once: the same JWS as joserfc / ``jose.sign_detached`` make, for every
algorithm the gateway's keys may use, and they verify (and fail on another body) as before."""

from __future__ import annotations

import time

import pytest
from joserfc import jws
from joserfc.jwk import Key

from gateway.evidence.signing import JwkSigner, KeySetVerifier, SignatureProblem
from gateway.transfers._signer import MESSAGE_TYP, RECEIPT_TYP, DetachedSigner
from gateway.trust import jose
from gateway.trust.errors import JwsRejected
from gateway.trust.keys import SigningKeyRing, generate_key

ALGORITHMS = ("ES256", "Ed25519", "PS256")
#: Not UTF-8 (a binary body such as a workbook): RFC 7797 signs the bytes as they are.
BODY = b'{"verdict":"accepted"}\x00\xff\xfe'


def _reference(signer: DetachedSigner, body: bytes, typ: str, iat: int) -> str:
    return jose.sign_detached({"typ": typ, "b64": False, "crit": ["b64"], "iss": signer.issuer, "iat": iat},
                              body, signer.keyring.current)


def _verify(token: str, key: Key, body: bytes, typ: str) -> dict[str, object]:
    return jose.verify(token, typ=[typ], key_for=lambda header: key, payload=body).header


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_detached_signature_is_the_jose_one_and_verifies(alg: str) -> None:
    keyring = SigningKeyRing.generate(alg, kid=f"gw-{alg}")
    signer = DetachedSigner(keyring, "https://gw.test")
    for typ in (MESSAGE_TYP, RECEIPT_TYP):
        before = int(time.time())
        token = signer.sign(BODY, typ=typ)
        head, empty, _ = token.split(".")
        assert empty == ""  # detached: no payload segment
        assert head in {_reference(signer, BODY, typ, iat).split(".")[0] for iat in (before, before + 1)}
        header = _verify(token, keyring.current, BODY, typ)
        assert header["alg"] == alg and header["kid"] == f"gw-{alg}" and header["iss"] == "https://gw.test"
        with pytest.raises(JwsRejected) as refused:
            _verify(token, keyring.current, BODY + b" ", typ)
        assert refused.value.reason == "SIGNATURE"


def test_detached_signer_follows_the_keyrings_current_key() -> None:
    keyring = SigningKeyRing.generate("ES256", kid="old")
    signer = DetachedSigner(keyring, "https://gw.test")
    old_key = keyring.current
    first = signer.sign(BODY)
    keyring.current = generate_key("Ed25519", "new")  # a rotation: the next signature is the new key's
    second = signer.sign(BODY)
    assert _verify(first, old_key, BODY, MESSAGE_TYP)["kid"] == "old"
    header = _verify(second, keyring.current, BODY, MESSAGE_TYP)
    assert (header["kid"], header["alg"]) == ("new", "Ed25519")
    with pytest.raises(JwsRejected):
        _verify(second, old_key, BODY, MESSAGE_TYP)


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_evidence_signature_is_joserfcs_and_verifies(alg: str) -> None:
    signer = JwkSigner(generate_key(alg, f"ev-{alg}"))
    verifier = KeySetVerifier.from_jwks({"keys": [signer.public_jwk()]})
    payload = b"a" * 64
    token = signer.sign(payload)
    reference = jws.serialize_compact({"alg": alg, "kid": f"ev-{alg}", "typ": "evidence+jws"}, payload,
                                      generate_key(alg, f"ev-{alg}"), algorithms=[alg])
    assert token.split(".")[:2] == reference.split(".")[:2]  # header and payload segments: the same bytes
    assert verifier.verify(token, payload) == f"ev-{alg}"
    with pytest.raises(SignatureProblem) as mismatch:
        verifier.verify(token, b"b" * 64)
    assert mismatch.value.rule == "EVIDENCE.SIGNATURE_MISMATCH"
    forged = token[:-8] + ("AAAAAAAA" if not token.endswith("AAAAAAAA") else "BBBBBBBB")
    with pytest.raises(SignatureProblem) as invalid:
        verifier.verify(forged, payload)
    assert invalid.value.rule == "EVIDENCE.SIGNATURE_INVALID"

"""A client's DPoP prover (the proofs :class:`GatewayClient` sends): the same proofs as ``dpop_proof``, with the
header serialized once. For every key type a client may prove with, the header segment is ``dpop_proof``'s, the
claims are the same but for the fresh ``jti``, the gateway's DPoP verifier accepts the proof once and refuses its
replay, another URL, another access token and a changed signature; the client makes a new prover when its key
changes."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from joserfc.jwk import OctKey, RSAKey

from gateway.client import GatewayClient
from gateway.trust import jose
from gateway.trust.dpop import DPoPVerifier, access_token_hash
from gateway.trust.errors import ClaimsUnwritable, InvalidDPoPProof, JwsRejected
from gateway.trust.keys import generate_key
from gateway.trust.proofs import DpopProver, dpop_proof
from gateway.trust.replay import MemoryReplayStore

URL = "https://gw.test/v1/transfers"
TOKEN = "eyJ.access-token.sig"


def _decoded(segment: str) -> dict[str, object]:
    value = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    assert isinstance(value, dict)
    return value


def _verifier() -> DPoPVerifier:
    return DPoPVerifier(MemoryReplayStore(), require_nonce=False)


@pytest.mark.parametrize("alg", ["ES256", "Ed25519"])
@pytest.mark.parametrize("kid", [None, "client-dpop"])
def test_prover_makes_dpop_proofs(alg: str, kid: str | None) -> None:
    key = generate_key(alg, kid or "x")
    if kid is None:
        key = type(key).import_key({k: v for k, v in key.as_dict(private=True).items() if k != "kid"})
    prover = DpopProver(key)
    for _ in range(2):  # the second proof's header comes from the signer's memory
        made = prover.proof(method="POST", url=URL, nonce="n-1", access_token=TOKEN, now=1_800_000_000)
        reference = dpop_proof(key, method="POST", url=URL, nonce="n-1", access_token=TOKEN, now=1_800_000_000)
        head, payload, _ = made.split(".")
        assert head == reference.split(".")[0]
        header = _decoded(head)
        assert header["typ"] == "dpop+jwt" and header["alg"] == alg and "kid" not in header
        assert "kid" not in header["jwk"] and "d" not in header["jwk"]  # type: ignore[operator]
        claims, expected = _decoded(payload), _decoded(reference.split(".")[1])
        assert claims.pop("jti") != expected.pop("jti")
        assert claims == expected == {"htm": "POST", "htu": URL, "iat": 1_800_000_000, "nonce": "n-1",
                                      "ath": access_token_hash(TOKEN)}


@pytest.mark.parametrize("alg", ["ES256", "Ed25519"])
def test_the_gateway_accepts_a_proof_once_and_for_its_request_only(alg: str) -> None:
    key = generate_key(alg, "client-dpop")
    prover, verifier = DpopProver(key), _verifier()
    proof = prover.proof(method="POST", url=URL, access_token=TOKEN)
    assert verifier.verify([proof], method="POST", url=URL, access_token=TOKEN) == key.thumbprint()
    with pytest.raises(InvalidDPoPProof) as replayed:
        verifier.verify([proof], method="POST", url=URL, access_token=TOKEN)
    assert replayed.value.code == "DPOP.REPLAY"
    # (code, method, url, access token) the proof is checked against
    for code, method, url, token in (("DPOP.HTU", "POST", URL + "x", TOKEN), ("DPOP.HTM", "GET", URL, TOKEN),
                                     ("DPOP.ATH", "POST", URL, TOKEN + "x")):
        with pytest.raises(InvalidDPoPProof) as refused:
            _verifier().verify([prover.proof(method="POST", url=URL, access_token=TOKEN)], method=method, url=url,
                               access_token=token)
        assert refused.value.code == code
    head, payload, signature = prover.proof(method="POST", url=URL, access_token=TOKEN).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(InvalidDPoPProof) as forged:
        _verifier().verify([f"{head}.{payload}.{flipped}"], method="POST", url=URL, access_token=TOKEN)
    assert forged.value.code == "DPOP.SIGNATURE"


def test_the_client_proves_with_its_current_key() -> None:
    client = GatewayClient("https://gw.test", "reg-a", generate_key("ES256", "reg-a-1"))
    client.nonce = "n-2"
    first = _decoded(client.proof("POST", "/v1/transfers", access_token=TOKEN).split(".")[0])
    client.dpop_key = generate_key("Ed25519", "reg-a-dpop-2")
    second = client.proof("POST", "/v1/transfers", access_token=TOKEN)
    assert first["jwk"] != _decoded(second.split(".")[0])["jwk"]
    assert _verifier().verify([second], method="POST", url=URL, access_token=TOKEN) == client.dpop_key.thumbprint()
    assert _decoded(second.split(".")[1])["nonce"] == "n-2"



def test_a_symmetric_key_is_refused_as_dpop_proof_refuses_it() -> None:
    key = OctKey.generate_key(256)
    with pytest.raises(JwsRejected) as made:
        DpopProver(key)
    with pytest.raises(JwsRejected) as one_off:
        dpop_proof(key, method="GET", url=URL)
    assert made.value.code == one_off.value.code == "JWS.KEY"


def test_an_rsa_key_proves_with_ps256() -> None:
    key = RSAKey.generate_key(2048, private=True)
    proof = DpopProver(key).proof(method="GET", url=URL)
    assert _decoded(proof.split(".")[0])["alg"] == "PS256"
    assert _verifier().verify([proof], method="GET", url=URL) == key.thumbprint()


@pytest.mark.parametrize("claims", [{"now": 10**30}, {"nonce": "\ud800"}, {"extra": {"k": 2**64}},
                                    {"extra": {1: "key not a string"}}, {"access_token": "tökén"}],
                         ids=["huge-iat", "lone-surrogate", "huge-int", "int-key", "non-ascii-token"])
def test_claims_json_cannot_hold_are_a_coded_refusal_in_every_signer(claims: dict[str, Any]) -> None:
    key = generate_key("ES256", "client-dpop")
    makers = (lambda: DpopProver(key).proof(method="GET", url=URL, **claims),
              lambda: dpop_proof(key, method="GET", url=URL, **claims))
    for make in makers:
        with pytest.raises(ClaimsUnwritable) as refused:
            make()
        assert refused.value.code == "JWS.CLAIMS"
    for raw in ({"big": 2**64}, {"s": "\ud800"}):
        with pytest.raises(ClaimsUnwritable) as refused:
            jose.sign({"typ": "at+jwt"}, raw, key)
        assert refused.value.code == "JWS.CLAIMS"
        with pytest.raises(ClaimsUnwritable) as refused:
            jose.CompactSigner(key).sign({"typ": "at+jwt"}, raw)
        assert refused.value.code == "JWS.CLAIMS"


def test_non_ascii_claims_are_proved_and_read_back() -> None:
    key = generate_key("Ed25519", "client-dpop")
    proof = DpopProver(key).proof(method="POST", url="https://gw.test/v1/trånsfers", nonce="nönce-ü")
    claims = _decoded(proof.split(".")[1])
    assert (claims["htu"], claims["nonce"]) == ("https://gw.test/v1/trånsfers", "nönce-ü")

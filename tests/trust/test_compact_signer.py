"""The keyring's compact JWS (the gateway's access tokens, delivery tokens, governance records) made with the
header serialized once and the key's signing function taken once: the same header and payload segments as
``jose.sign`` (joserfc) makes, for every algorithm the gateway's keys may use; the tokens verify, fail with
another payload or signature, and follow a key rotation."""

from __future__ import annotations

import pytest
from joserfc.errors import JoseError

from gateway.trust import jose
from gateway.trust.errors import JwsRejected
from gateway.trust.keys import SigningKeyRing, generate_key

ALGORITHMS = ("ES256", "Ed25519", "PS256")
CLAIMS = {"iss": "https://gw.test", "sub": "gw", "aud": "reg-b", "iat": 1_700_000_000, "exp": 1_700_000_060,
          "jti": "abcdefgh12345678", "scope": "messages:deliver", "nested": {"b": [1, "x"], "a": None}}


def _segments(token: str) -> tuple[str, str]:
    head, payload, _ = token.split(".")
    return head, payload


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_keyring_tokens_are_the_jose_ones_and_verify(alg: str) -> None:
    keyring = SigningKeyRing.generate(alg, kid=f"gw-{alg}")
    for header in ({"typ": "at+jwt"}, {"typ": "probe+jwt"}, {"typ": "at+jwt", "cty": "JWT"}):
        for _ in range(2):  # the second time the header comes from the signer's memory
            token = keyring.sign(header, CLAIMS)
            assert _segments(token) == _segments(jose.sign(header, CLAIMS, keyring.current))
            verified = jose.verify(token, typ=[header["typ"]], key_for=lambda h: keyring.current)
            assert verified.claims == CLAIMS
            assert (verified.header["alg"], verified.header["kid"]) == (alg, f"gw-{alg}")
    raw = b"\x00not json\xff"
    assert _segments(keyring.sign({"typ": "at+jwt"}, raw)) == _segments(jose.sign({"typ": "at+jwt"}, raw,
                                                                                    keyring.current))


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_changed_payload_or_signature_is_refused(alg: str) -> None:
    keyring = SigningKeyRing.generate(alg, kid="gw")
    head, _, signature = keyring.sign({"typ": "at+jwt"}, CLAIMS).split(".")
    other = jose.sign({"typ": "at+jwt"}, {**CLAIMS, "scope": "admin"}, keyring.current).split(".")[1]
    with pytest.raises(JwsRejected) as refused:
        jose.verify(f"{head}.{other}.{signature}", typ=["at+jwt"], key_for=lambda h: keyring.current)
    assert refused.value.reason == "SIGNATURE"
    forged = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(JwsRejected):
        jose.verify(f"{head}.{_segments(keyring.sign({'typ': 'at+jwt'}, CLAIMS))[1]}.{forged}", typ=["at+jwt"],
                    key_for=lambda h: keyring.current)


def test_the_keyring_signs_with_its_new_current_key_at_once() -> None:
    keyring = SigningKeyRing.generate("ES256", kid="old")
    old = keyring.current
    first = keyring.sign({"typ": "at+jwt"}, CLAIMS)
    keyring.current = generate_key("Ed25519", "new")
    second = keyring.sign({"typ": "at+jwt"}, CLAIMS)
    assert jose.verify(first, typ=["at+jwt"], key_for=lambda h: old).header["kid"] == "old"
    header = jose.verify(second, typ=["at+jwt"], key_for=lambda h: keyring.current).header
    assert (header["kid"], header["alg"]) == ("new", "Ed25519")
    with pytest.raises(JwsRejected):
        jose.verify(second, typ=["at+jwt"], key_for=lambda h: old)


def test_a_header_joserfc_refuses_is_refused_every_time() -> None:
    keyring = SigningKeyRing.generate("ES256", kid="gw")
    for _ in range(2):  # a refused header is not remembered
        with pytest.raises(JoseError):
            keyring.sign({"typ": "at+jwt", "crit": ["exp"]}, CLAIMS)  # a critical parameter joserfc does not know
        with pytest.raises(JoseError):
            jose.sign({"typ": "at+jwt", "crit": ["exp"]}, CLAIMS, keyring.current)


def test_the_signer_remembers_a_bounded_number_of_headers() -> None:
    signer = jose.CompactSigner(generate_key("ES256", "gw"))
    for n in range(jose.CompactSigner.MAX_HEADERS * 2 + 3):
        token = signer.sign({"typ": "at+jwt", "iss": f"gw-{n}"}, CLAIMS)  # iss: a header parameter jose knows
        assert jose.peek_header(token)["iss"] == f"gw-{n}"
        assert len(signer._heads) <= jose.CompactSigner.MAX_HEADERS

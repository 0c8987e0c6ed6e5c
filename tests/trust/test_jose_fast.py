"""The fast ES256/Ed25519 verification (``gateway.trust.jose_fast``) against joserfc's ``deserialize_compact``
(``jose._verify_joserfc``, the path every signature took before): for valid tokens and hostile ones (bad or
non-canonical base64url, padding, wrong signature lengths, another key's signature, swapped ``alg``, ``typ``,
``crit`` and ``b64`` variants, oversized segments, header parameters of the wrong type, non-object payloads,
trailing data, odd keys) both paths must accept the same tokens with the same header and claims, and refuse
the others with the same reason and message. A deliberately broken fast path must fail the comparison."""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc.jwk import ECKey, Key, OKPKey
from joserfc.util import urlsafe_b64decode

from gateway.trust import jose, jose_fast
from gateway.trust.dpop import DPoPVerifier
from gateway.trust.errors import InvalidDPoPProof, JwsRejected
from gateway.trust.keys import generate_key
from gateway.trust.replay import MemoryReplayStore

TYP = "at+jwt"
RESPONSE = "carbonlink-response+jws"
CLAIMS = {"iss": "https://gw.test", "sub": "reg-a", "iat": 1_700_000_000, "jti": "abcdefgh12345678",
          "cnf": {"jkt": "x" * 43}}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forge(header: dict[str, Any], payload: bytes, key: Key, *, b64_payload: bool = True, detached: bool = False,
          alg: str | None = None) -> str:
    """A compact JWS with exactly ``header`` (plus ``alg`` when missing) signed by ``key``; the payload segment
    base64url-encoded or (RFC 7797) the raw bytes, or empty when ``detached``."""
    alg = alg or jose.algorithm_for(key)
    head = b64(json.dumps({"alg": alg, **header}, separators=(",", ":")).encode())
    segment = payload if not b64_payload else b64(payload).encode()
    signature = jose.signature_maker(key, jose.algorithm_for(key))(head.encode() + b"." + segment)
    return f"{head}.{'' if detached else segment.decode('latin-1')}.{b64(signature)}"


def outcome(verify: Callable[..., jose.VerifiedJws], token: str, **kw: Any) -> tuple[Any, ...]:
    try:
        verified = verify(token, **kw)
    except JwsRejected as exc:
        return ("refused", exc.reason, exc.message)
    except Exception as exc:  # joserfc crashes on a few inputs (see same_outcome)
        return ("crash", type(exc).__name__)
    return ("accepted", verified.header, verified.claims)


def same_outcome(token: str, **kw: Any) -> str | None:
    """None when both paths agree on ``token``; else what differs. Where joserfc crashes (a non-JoseError:
    ``"crit": null``, a lone surrogate) the fast path must refuse the token as malformed."""
    reference = outcome(jose._verify_joserfc, token, **kw)
    fast = outcome(jose.verify, token, **kw)
    if reference[0] == "crash":
        return None if fast[:2] == ("refused", "MALFORMED") else f"{token!r}: joserfc {reference}, fast {fast}"
    return None if fast == reference else f"{token!r}: joserfc {reference}, fast {fast}"


def _variant(key: Key, **changes: Any) -> Key:
    """``key``'s public half with other JWK members (``use``, ``alg``, ``key_ops``)."""
    data = {**key.as_dict(private=False), **changes}
    return ECKey.import_key(data) if data["kty"] == "EC" else OKPKey.import_key(data)


KEYS = {alg: generate_key(alg, f"k-{alg}") for alg in ("ES256", "Ed25519")}
OTHERS = {alg: generate_key(alg, f"o-{alg}") for alg in ("ES256", "Ed25519")}


def _token_cases(alg: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(token, verify keywords) pairs for one algorithm: valid ones and hostile ones."""
    key, other = KEYS[alg], OTHERS[alg]
    swapped = "Ed25519" if alg == "ES256" else "ES256"
    public = _variant(key)
    plain = {"typ": TYP, "kid": key.kid}
    body = json.dumps(CLAIMS).encode()
    kw: dict[str, Any] = {"typ": [TYP], "key_for": lambda h: public}
    good = forge(plain, body, key)
    head, segment, signature = good.split(".")
    yield good, kw
    yield good, {**kw, "key_for": lambda h: key}  # the private key object verifies too
    # keys: another key, a swapped or unknown algorithm, JWK members joserfc checks
    yield forge(plain, body, other), kw
    yield forge(plain, body, key, alg=swapped), kw
    for bad_alg in ("none", "HS256", "PS256", "ES384", "EdDSA"):
        yield forge(plain, body, key, alg=bad_alg), kw
    short = b64(base64.urlsafe_b64decode(signature + "==")[:-1])
    for changes in ({"use": "enc"}, {"use": "sig"}, {"alg": swapped}, {"alg": alg}, {"key_ops": ["sign"]},
                    {"key_ops": ["verify"]}, {"use": "enc", "key_ops": ["encrypt"]}):
        variant = _variant(key, **changes)
        yield good, {**kw, "key_for": lambda h, v=variant: v}
        # a signature one byte short (well-formed base64url): joserfc reports its length before the key_ops
        yield f"{head}.{segment}.{short}", {**kw, "key_for": lambda h, v=variant: v}
    # typ and crit in gateway's check, then joserfc's header registry: types, unknown parameters, crit, b64
    headers: list[dict[str, Any]] = [
        {"typ": "JWT"}, {"typ": TYP.upper()}, {}, {"typ": TYP, "crit": ["exp"], "exp": 1}, {"typ": TYP, "crit": []},
        {"typ": TYP, "crit": None}, {"typ": TYP, "crit": ["b64"]}, {"typ": TYP, "crit": ["b64"], "b64": True},
        {"typ": TYP, "b64": True}, {"typ": TYP, "b64": False}, {"typ": TYP, "b64": "false", "crit": ["b64"]},
        {"typ": TYP, "b64": 0, "crit": ["b64"]}, {"typ": TYP, "b64": None, "crit": ["b64"]},
        {"typ": TYP, "iat": "1700000000"}, {"typ": TYP, "iat": True}, {"typ": TYP, "iat": 1.5},
        {"typ": TYP, "iat": 2**70}, {"typ": TYP, "iat": -(2**70)}, {"typ": TYP, "iss": 5}, {"typ": TYP, "req": []},
        {"typ": TYP, "kid": 7}, {"typ": TYP, "cty": {"a": 1}}, {"typ": TYP, "jku": "ftp://x"},
        {"typ": TYP, "jku": "https://x"}, {"typ": TYP, "x5u": 1}, {"typ": TYP, "x5c": "cert"},
        {"typ": TYP, "x5c": ["a", 1]}, {"typ": TYP, "x5c": ["a"]}, {"typ": TYP, "x5t": None},
        {"typ": TYP, "x5t#S256": "t"}, {"typ": TYP, "jwk": "k"}, {"typ": TYP, "jwk": {}},
        {"typ": TYP, "unknown": 1}, {"typ": TYP, "unknown": 1, "iat": "x"}, {"typ": TYP, "zip": "DEF"},
        {"typ": TYP, "enc": "A128GCM"}, {"typ": TYP, "nested": {"n": 2**70}}, {"typ": TYP, "kid": "x" * 3100},
    ]
    for header in headers:
        yield forge(header, body, key), kw
    # RFC 7797: b64 false with the raw payload attached (claims JSON) or detached
    raw = {"typ": TYP, "b64": False, "crit": ["b64"]}
    yield forge(raw, body, key, b64_payload=False), kw
    yield forge(raw, b"[1,2]", key, b64_payload=False), kw
    yield forge(raw, b'"text"', key, b64_payload=False), kw
    yield forge(raw, b"", key, b64_payload=False), kw
    # payloads that are no JSON object
    for payload in (b"[1]", b'"s"', b"null", b"1", b"{", b"\xff\xfe", b"", b'{"a":1} x', b'{"a":NaN}'):
        yield forge(plain, payload, key), kw
    # base64url: padding, the standard alphabet, non-canonical last characters, stray characters, trailing data
    for bad in (f"{head}=.{segment}.{signature}", f"{head}.{segment}=.{signature}", f"{head}.{segment}.{signature}=",
                f"{head}.{segment}.{signature}==", f"{head}.{segment}.{signature[:-1]}",
                f"{head}.{segment[:-1]}.{signature}", f"{head}.{segment}x.{signature}",
                f"{head}.{segment.replace('-', '+').replace('_', '/')}.{signature}",
                f"{head}.{segment}.{signature.replace('-', '+').replace('_', '/')}",
                f"{head}.{segment}.{signature} ", f" {head}.{segment}.{signature}", f"{head}.{segment}.{signature}.",
                f"{head}.{segment}.{signature}.x", f"{head}.{segment}", f"{head}..{signature}", f"{head}.{segment}.",
                f"{head}.{segment[:10]}*{segment[11:]}.{signature}", f"{head}.{segment}é.{signature}",
                f"{head}.{segment}.{signature}\ud800",
                f"{head}.{segment}.{signature[:-2]}{signature[-1]}{signature[-2]}"):
        yield bad, kw
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for change in (1, 2, 3):  # the last character's unused low bits set (non-canonical base64url)
        for what in ("head", "segment", "signature"):
            parts = {"head": head, "segment": segment, "signature": signature}
            text = parts[what]
            parts[what] = text[:-1] + alphabet[(alphabet.index(text[-1]) + change) % 64]
            yield f"{parts['head']}.{parts['segment']}.{parts['signature']}", kw
    # signatures: the wrong length, the other key's, ES256 in DER, r and s swapped, zeros
    raw_signature = base64.urlsafe_b64decode(signature + "==")
    for bad_signature in (raw_signature[:-1], raw_signature + b"\x00", raw_signature[32:] + raw_signature[:32],
                          bytes(64), bytes(0), bytes(700), raw_signature[::-1],
                          # r and s zero-padded to 33 bytes: the same numbers, the wrong length (RFC 7518 §3.4)
                          b"\x00" + raw_signature[:32] + b"\x00" + raw_signature[32:]):
        yield f"{head}.{segment}.{b64(bad_signature)}", kw
    if alg == "ES256":
        private = key.private_key
        assert isinstance(private, ec.EllipticCurvePrivateKey)
        der = private.sign(f"{head}.{segment}".encode(), jose._ES256)
        yield f"{head}.{segment}.{b64(der)}", kw
    # sizes: the registry's limits (header 4096, signature 1024, the payload's as given)
    big = forge({**plain, "cty": "x" * 3200}, body, key)
    yield big, kw
    yield forge(plain, json.dumps({**CLAIMS, "pad": "y" * 300}).encode(), key), {**kw, "max_payload": 400}
    yield forge(plain, json.dumps({**CLAIMS, "pad": "y" * 300}).encode(), key), {**kw, "max_payload": 600}
    yield forge(plain, json.dumps({**CLAIMS, "pad": "y" * 300}).encode(), key), {**kw, "registry": jose.make_registry(
        max_payload=400)}
    yield f"{head}.{segment}.{'A' * 1100}", kw
    long_segment = forge(plain, json.dumps({**CLAIMS, "pad": "y" * 700}).encode(), key)
    yield long_segment, {**kw, "max_payload": 100}


def _detached_cases(alg: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Detached signatures over a body (registries' responses, RFC 7797)."""
    key, other = KEYS[alg], OTHERS[alg]
    body = b'{"outcome":"accepted","receipt":"\x00\xff binary"}'
    header = {"typ": RESPONSE, "b64": False, "crit": ["b64"], "iss": "reg-b", "iat": 1_700_000_000, "req": "r",
              "kid": key.kid}
    kw: dict[str, Any] = {"typ": [RESPONSE], "key_for": lambda h: key, "payload": body, "max_payload": 1024}
    good = forge(header, body, key, b64_payload=False, detached=True)
    head, _, signature = good.split(".")
    yield good, kw
    yield good, {**kw, "payload": body + b"x"}
    yield good, {**kw, "payload": b""}
    yield good, {**kw, "max_payload": 10}
    yield good, {**kw, "registry": jose.make_registry(max_payload=10), "max_payload": None}
    yield forge(header, body, other, b64_payload=False, detached=True), kw
    yield forge(header, body, key, b64_payload=False), kw  # attached: the payload given is ignored
    yield forge({**header, "b64": True}, body, key, detached=True), kw  # b64 true, detached content encoded
    yield forge({k: v for k, v in header.items() if k != "crit"}, body, key, b64_payload=False, detached=True), kw
    yield forge({**header, "iat": "1700000000"}, body, key, b64_payload=False, detached=True), kw
    yield forge({**header, "iat": 2**64}, body, key, b64_payload=False, detached=True), kw
    yield forge({**header, "req": None}, body, key, b64_payload=False, detached=True), kw
    yield forge({**header, "other": 1}, body, key, b64_payload=False, detached=True), kw
    yield forge(header, b"", key, b64_payload=False, detached=True), {**kw, "payload": b""}
    yield f"{head}..{signature}=", kw
    yield f"{head}=..{signature}", kw


@pytest.mark.parametrize("alg", ["ES256", "Ed25519"])
def test_both_paths_agree_on_valid_and_hostile_tokens(alg: str) -> None:
    cases = [*_token_cases(alg), *_detached_cases(alg)]
    assert len(cases) > 120
    outcomes = {outcome(jose.verify, token, **kw)[0] for token, kw in cases}
    assert outcomes >= {"accepted", "refused"}
    assert [m for m in (same_outcome(token, **kw) for token, kw in cases) if m] == []


@pytest.mark.parametrize("alg", ["ES256", "Ed25519"])
def test_both_paths_agree_on_randomly_mutated_tokens(alg: str) -> None:
    """Characters replaced, deleted and inserted at random places of valid tokens (fixed seed)."""
    rng = random.Random(20)
    key = KEYS[alg]
    kw: dict[str, Any] = {"typ": [TYP], "key_for": lambda h: key}
    good = forge({"typ": TYP, "kid": key.kid}, json.dumps(CLAIMS).encode(), key)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/. "
    mismatches, refused = [], 0
    for _ in range(600):
        chars = list(good)
        for _ in range(rng.choice((1, 1, 2, 3))):
            where, how = rng.randrange(len(chars)), rng.random()
            if how < 0.6:
                chars[where] = rng.choice(alphabet)
            elif how < 0.8:
                del chars[where]
            else:
                chars.insert(where, rng.choice(alphabet))
        token = "".join(chars)
        refused += outcome(jose.verify, token, **kw)[0] == "refused"
        if (different := same_outcome(token, **kw)) is not None:
            mismatches.append(different)
    assert mismatches == []
    assert refused > 500


def test_a_deliberately_broken_fast_path_fails_the_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison is real: a fast path with a lenient base64url decoder, or without the header registry's
    checks, or with any ES256 signature length, disagrees with joserfc on some of the cases above."""
    cases = [*_token_cases("ES256"), *_detached_cases("ES256")]

    def disagreements() -> int:
        jose_fast._heads.clear()  # headers read under the broken path are not kept
        return sum(same_outcome(token, **kw) is not None for token, kw in cases)

    assert disagreements() == 0
    with monkeypatch.context() as patch:
        patch.setattr(jose_fast, "urlsafe_b64decode", lambda s: base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4)))
        assert disagreements() > 0
    with monkeypatch.context() as patch:
        patch.setattr(jose_fast, "_registry_checks", lambda registry, header, alg: None)
        assert disagreements() > 0
    with monkeypatch.context() as patch:
        patch.setattr(jose_fast, "strict_header", lambda segment, peeked: peeked)
        assert disagreements() > 0
    with monkeypatch.context() as patch:  # ES256 r || s of any even length
        patch.setattr(jose_fast, "_check_signature", _any_length_es256)
        assert disagreements() > 0
    check_signature = jose_fast._check_signature
    with monkeypatch.context() as patch:  # the key's key_ops ignored
        patch.setattr(jose_fast, "_check_signature", lambda check, segment, signing_input: check_signature(
            jose_fast.KeyCheck(check.key, check.alg, check.refused, None, check.public), segment, signing_input))
        assert disagreements() > 0
    assert disagreements() == 0


def _any_length_es256(check: jose_fast.KeyCheck, segment: bytes, signing_input: bytes) -> None:
    """A broken ES256 signature check: ``r || s`` split in the middle, whatever the length."""
    signature = urlsafe_b64decode(segment)
    half = len(signature) // 2
    r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    assert isinstance(check.public, ec.EllipticCurvePublicKey)
    try:
        check.public.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError) as exc:
        raise JwsRejected("SIGNATURE", "the signature does not verify") from exc


def test_remembered_headers_give_what_a_fresh_read_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """A header segment read before is not decoded again: the same answers, a caller's changes to the header it
    was given do not reach the next caller, and the table is bounded."""
    key = KEYS["ES256"]
    token = forge({"typ": TYP, "kid": key.kid}, json.dumps(CLAIMS).encode(), key)
    jose_fast._heads.clear()
    first = jose.verify(token, typ=[TYP], key_for=lambda h: key)
    assert token.split(".")[0] in jose_fast._heads
    peeked = jose.peek_header(token)
    peeked["typ"] = "changed"
    first.header["kid"] = "changed"
    assert jose.peek_header(token) == {"alg": "ES256", "typ": TYP, "kid": key.kid}
    assert jose.verify(token, typ=[TYP], key_for=lambda h: key) == jose._verify_joserfc(
        token, typ=[TYP], key_for=lambda h: key)
    monkeypatch.setattr(jose_fast, "MAX_HEADS", 2)
    for n in range(4):
        jose.peek_header(forge({"typ": TYP, "kid": f"k{n}"}, b"{}", key))
        assert len(jose_fast._heads) <= 2
    long_header = forge({"typ": TYP, "kid": "k" * 2000}, b"{}", key)
    jose.peek_header(long_header)
    assert long_header.split(".")[0] not in jose_fast._heads


def test_key_checks_are_remembered_per_key_object_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    key = KEYS["ES256"]
    first = jose_fast.key_check(key, "ES256")
    assert first is not None and first is jose_fast.key_check(key, "ES256")
    twin = _variant(key)  # the same JWK, another object: checked on its own
    assert jose_fast.key_check(twin, "ES256") is not first
    refused = jose_fast.key_check(_variant(key, use="enc"), "ES256")
    assert refused is not None and refused.refused == "unsupported_key_use"
    assert jose_fast.key_check(generate_key("PS256", "rsa"), "PS256") is None  # joserfc verifies PS256
    monkeypatch.setattr(jose_fast, "MAX_KEYS", 3)
    for n in range(5):
        jose_fast.key_check(generate_key("Ed25519", f"e{n}"), "Ed25519")
        assert len(jose_fast._checks) <= 3


def test_ps256_still_verifies_through_joserfc() -> None:
    key = generate_key("PS256", "rsa")
    token = jose.sign({"typ": TYP}, CLAIMS, key)
    assert jose.verify(token, typ=[TYP], key_for=lambda h: key).claims == CLAIMS
    head, segment, signature = token.split(".")
    assert same_outcome(f"{head}.{segment}.{signature}=", typ=[TYP], key_for=lambda h: key) is None
    assert outcome(jose.verify, token, typ=[TYP], key_for=lambda h: key, max_payload=10)[:2] == ("refused",
                                                                                                  "MALFORMED")


def test_a_signed_proof_with_crit_null_is_a_coded_refusal() -> None:
    """joserfc failed on ``"crit": null`` with a TypeError (a 500 at the relay); now a coded DPoP refusal."""
    key = generate_key("ES256", "d")
    public = {k: v for k, v in key.as_dict(private=False).items() if k != "kid"}
    claims = {"jti": "j" * 16, "htm": "POST", "htu": "https://gw.example/v1/transfers", "iat": int(time.time())}
    proof = forge({"typ": "dpop+jwt", "jwk": public, "crit": None}, json.dumps(claims).encode(), key)
    verifier = DPoPVerifier(MemoryReplayStore(), require_nonce=False)
    with pytest.raises(InvalidDPoPProof) as refused:
        verifier.verify([proof], method="POST", url="https://gw.example/v1/transfers")
    assert refused.value.code == "DPOP.MALFORMED"
    fine = forge({"typ": "dpop+jwt", "jwk": public}, json.dumps(claims).encode(), key)
    assert verifier.verify([fine], method="POST", url="https://gw.example/v1/transfers") == key.thumbprint()

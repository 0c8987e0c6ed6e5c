"""Property tests: whatever bytes or claims arrive, the trust layer answers with a coded
refusal, never another exception (which would surface as a 500)."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.api.routes.oauth import parse_form
from gateway.settings import Settings
from gateway.trust import jose
from gateway.trust.errors import InvalidClient, InvalidDPoPProof, InvalidToken, UseDPoPNonce
from gateway.trust.keys import generate_key
from gateway.trust.proofs import assertion_form, client_assertion
from gateway.trust.setup import Trust, build_trust
from standards.errors import CarbonlinkError
from tests.trust.support import TrustWorld, b64

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_CLAIM_NAMES = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "htm",
    "htu",
    "ath",
    "nonce",
    "cnf",
    "client_id",
    "scope",
]
_claims = st.dictionaries(st.sampled_from(_CLAIM_NAMES), _json, max_size=10)

_TRUST: dict[str, Any] = {}


def _trust(tmp: Path) -> tuple[Trust, TrustWorld]:
    if "t" not in _TRUST:
        world = TrustWorld(tmp)
        _TRUST["w"] = world
        _TRUST["t"] = build_trust(
            Settings(
                environment="test",
                issuer="https://gw.example",
                signing_keys=tmp / "keyring.json",
                anchors=tmp / "anchors.json",
                directory=str(world.directory_path),
            )
        )
    return _TRUST["t"], _TRUST["w"]


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b64(b) + "." + b64(b[::-1]) + "." + b64(b))
)
def test_any_string_as_a_jws_is_a_coded_rejection(token: str) -> None:
    key = generate_key("ES256", "k") if "k" not in _TRUST else _TRUST["k"]
    _TRUST["k"] = key
    with contextlib.suppress(jose.JwsRejected):
        jose.verify(token, typ=["at+jwt"], key_for=lambda h: key)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=10), _json, max_size=6), st.binary(max_size=64))
def test_any_header_object_is_a_coded_rejection(header: dict[str, Any], payload: bytes) -> None:
    key = _TRUST.setdefault("k", generate_key("ES256", "k"))
    token = f"{b64(json.dumps(header).encode())}.{b64(payload)}.{b64(payload)}"
    with contextlib.suppress(jose.JwsRejected):
        jose.verify(token, typ=["at+jwt", "dpop+jwt"], key_for=lambda h: key)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_token_request_body_is_a_coded_rejection(body: bytes) -> None:
    with contextlib.suppress(CarbonlinkError):
        parse_form(body, "application/x-www-form-urlencoded")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_claims)
def test_signed_assertions_with_any_claims_are_refused_with_a_code(
    tmp_path: Path, claims: dict[str, Any]
) -> None:
    trust, world = _trust(tmp_path)
    key = world.clients["che-registry"]
    claims = {**claims, "iss": "che-registry"}
    token = jose.sign({"typ": "JWT"}, claims, key)
    try:
        trust.clients.authenticate(assertion_form(token), None)
    except InvalidClient:
        return
    # only a fully valid assertion may pass
    assert claims.get("sub") == "che-registry" and claims.get("aud") == "https://gw.example"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_claims)
def test_signed_proofs_and_tokens_with_any_claims_are_refused_with_a_code(
    tmp_path: Path, claims: dict[str, Any]
) -> None:
    trust, _ = _trust(tmp_path)
    dpop_key = _TRUST.setdefault("d", generate_key("ES256", "d"))
    public = dict(dpop_key.as_dict(private=False))
    proof = jose.sign({"typ": "dpop+jwt", "jwk": public}, claims, dpop_key)
    with contextlib.suppress(InvalidDPoPProof, UseDPoPNonce):
        trust.dpop.verify([proof], method="GET", url="https://gw.example/v1/whoami", access_token="t")
    token = trust.keyring.sign({"typ": "at+jwt"}, claims)
    with contextlib.suppress(InvalidToken):
        trust.tokens.verify(token)


def test_a_valid_assertion_still_passes(tmp_path: Path) -> None:
    """The properties above would pass vacuously if everything were refused."""
    trust, world = _trust(tmp_path)
    token = client_assertion(
        world.clients["che-registry"],
        client_id="che-registry",
        audience="https://gw.example",
        now=time.time(),
    )
    assert trust.clients.authenticate(assertion_form(token), None).participant.id == "che-registry"

"""Trust-layer throughput: token issuance and protected-request verification.

Measured in one process on the real components (no HTTP), each against a baseline taken in the
same run:

* ``issue``: the token endpoint's work per request: verify a DPoP proof, authenticate a
  private_key_jwt assertion (signature, claims, replay cache), sign an RFC 9068 token;
* ``verify``: a protected request's work: verify the access token (strict header, signature,
  claims) and its DPoP proof (signature, htm/htu/iat, nonce, ath, replay cache), check the
  registry is active;
* ``baseline``: bare ``joserfc.jwt.decode`` of the same access token with the same key.

Run: ``python bench/bench_auth.py [--seconds 2] [--alg ES256] [--redis redis://127.0.0.1:6379/15]``
Prints one JSON object: operations per second, µs per operation, ratios, and the verification
overhead per request over the bare joserfc baseline.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from typing import Any

from joserfc import jwt

from gateway.trust.client_auth import ClientAuthenticator, ClientAuthPolicy
from gateway.trust.directory import DirectoryStore, sign_directory
from gateway.trust.dpop import DPoPVerifier
from gateway.trust.keys import SigningKeyRing, generate_key, public_jwk
from gateway.trust.proofs import assertion_form, client_assertion, dpop_proof
from gateway.trust.replay import make_store
from gateway.trust.tokens import TokenService

ISSUER = "https://gateway.bench.example"


def _rate(
    fn: Callable[[Any], object], prepare: Callable[[], Any], seconds: float, batch: int = 100
) -> dict[str, float]:
    """Time ``fn(input)`` only; inputs (client-side signatures) are made by ``prepare`` untimed."""
    for _ in range(10):
        fn(prepare())
    n, timed = 0, 0.0
    while timed < seconds:
        inputs = [prepare() for _ in range(batch)]
        start = time.perf_counter()
        for item in inputs:
            fn(item)
        timed += time.perf_counter() - start
        n += batch
    return {"ops_per_s": round(n / timed, 1), "us_per_op": round(timed / n * 1e6, 1), "n": n}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument(
        "--alg",
        default="ES256",
        choices=["ES256", "Ed25519", "PS256"],
        help="gateway signing key algorithm (registry keys use ES256)",
    )
    ap.add_argument("--redis", default=None, help="replay store URL (default: in-process)")
    args = ap.parse_args()

    anchor = generate_key("ES256", "anchor")
    client_key = generate_key("ES256", "reg-1")
    dpop_key = generate_key("ES256", "dpop")
    directory = DirectoryStore(
        None,
        {"anchor": anchor},
        environment="test",
        token=sign_directory(
            {
                "iss": "bench",
                "environment": "test",
                "sequence": 1,
                "participants": [
                    {
                        "id": "reg",
                        "party": "CHE",
                        "party_registry_id": "CHE01",
                        "status": "active",
                        "format": "aef",
                        "jwks": {"keys": [public_jwk(client_key)]},
                        "scopes": ["peers:read"],
                    }
                ],
            },
            anchor,
        ),
    )
    replay = make_store(args.redis or "memory")
    keyring = SigningKeyRing.generate(args.alg, kid="gw-bench")
    tokens = TokenService(keyring, issuer=ISSUER, audience=ISSUER + "/v1")
    dpop = DPoPVerifier(replay, require_nonce=True)
    clients = ClientAuthenticator(directory, replay, ClientAuthPolicy(issuer=ISSUER))
    nonce = dpop.nonces.issue()
    participant = directory.participant("reg")

    # Inputs are prepared outside the timed regions (registries sign them, not the gateway).
    def token_request() -> tuple[str, str]:
        return (
            client_assertion(client_key, client_id="reg", audience=ISSUER),
            dpop_proof(dpop_key, method="POST", url=ISSUER + "/oauth/token", nonce=nonce),
        )

    def issue(item: tuple[str, str]) -> str:
        assertion, proof = item
        jkt = dpop.verify([proof], method="POST", url=ISSUER + "/oauth/token")
        client = clients.authenticate(assertion_form(assertion), None)
        return tokens.issue(client.participant, ["peers:read"], jkt=jkt)

    access = tokens.issue(participant, ["peers:read"], jkt=dpop_key.thumbprint())
    url = ISSUER + "/v1/whoami"

    def request_proof() -> str:
        return dpop_proof(dpop_key, method="GET", url=url, nonce=nonce, access_token=access)

    def verify(proof: str) -> None:
        claims = tokens.verify(access)
        jkt = dpop.verify([proof], method="GET", url=url, access_token=access)
        assert jkt == claims.jkt
        directory.participant(claims.client_id)

    public = keyring.current

    def baseline(_: None) -> None:
        jwt.decode(access, public, algorithms=[args.alg])

    def token_only(_: None) -> None:
        tokens.verify(access)

    def nothing() -> None:
        return None

    results: dict[str, Any] = {
        "issue": _rate(issue, token_request, args.seconds),
        "verify": _rate(verify, request_proof, args.seconds),
        "token_only": _rate(token_only, nothing, args.seconds),
        "baseline_joserfc_decode": _rate(baseline, nothing, args.seconds),
    }
    base_us = results["baseline_joserfc_decode"]["us_per_op"]
    results["ratios_to_baseline"] = {
        "issue_ops": round(
            results["issue"]["ops_per_s"] / results["baseline_joserfc_decode"]["ops_per_s"], 3
        ),
        "verify_ops": round(
            results["verify"]["ops_per_s"] / results["baseline_joserfc_decode"]["ops_per_s"], 3
        ),
        "token_only_ops": round(
            results["token_only"]["ops_per_s"] / results["baseline_joserfc_decode"]["ops_per_s"], 3
        ),
    }
    results["verification_overhead_us_per_request"] = round(results["verify"]["us_per_op"] - base_us, 1)
    results["config"] = {
        "gateway_alg": args.alg,
        "client_alg": "ES256",
        "replay_store": args.redis or "memory",
        "seconds": args.seconds,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

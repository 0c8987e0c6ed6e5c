"""OAuth end to end through the gateway app in-process (TestClient, lifespan running), registries as
httpx clients.

Covers the happy path (private_key_jwt + DPoP with nonce, /v1/whoami, /v1/peers) and the attack
matrix for client assertions, access tokens, DPoP proofs and request bodies: every refusal is a
coded 4xx with an OAuth or RFC 9457 body."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.trust.keys import generate_key, public_jwk
from gateway.trust.proofs import assertion_form, client_assertion, dpop_proof
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.trust.support import RegistryClient, TrustWorld, assert_refused, hs256_with_public_key, unsigned_jws


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> TrustWorld:
    return TrustWorld(tmp_path_factory.mktemp("trust"))


@pytest.fixture(scope="module")
def gateway(world: TrustWorld) -> Iterator[InProcessGateway]:
    app = InProcessGateway(world.env(free_port()), world.root)
    yield app
    app.stop()


@pytest.fixture
def che(world: TrustWorld, gateway: InProcessGateway) -> Iterator[RegistryClient]:
    client = RegistryClient(gateway.base, "che-registry", world.clients["che-registry"], http=gateway.client())
    yield client
    client.http.close()


def _primed(client: RegistryClient) -> RegistryClient:
    """Fetch a server nonce first (the gateway requires one)."""
    client.token_request(assertion_form("x"), proof=client.proof("POST", "/oauth/token", nonce=None))
    assert client.nonce
    return client


# --- happy path -------------------------------------------------------------------------------------------


def test_metadata_names_only_what_is_enforced(gateway: InProcessGateway) -> None:
    meta = gateway.http.get(gateway.base + "/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == gateway.base
    assert meta["token_endpoint"] == gateway.base + "/oauth/token"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt", "tls_client_auth"]
    assert set(meta["dpop_signing_alg_values_supported"]) == {"PS256", "ES256", "Ed25519"}
    assert "none" not in meta["token_endpoint_auth_signing_alg_values_supported"]
    assert "peers:read" in meta["scopes_supported"]


def test_jwks_is_public_and_names_the_current_key(gateway: InProcessGateway) -> None:
    keys = gateway.http.get(gateway.base + "/.well-known/jwks.json").json()["keys"]
    assert [k["kid"] for k in keys] == ["gw-test-1"]
    assert keys[0]["alg"] == "ES256" and "d" not in keys[0]


def test_first_token_request_gets_a_nonce_then_a_dpop_bound_token(che: RegistryClient) -> None:
    resp = che.token_request(assertion_form(che.assertion()), proof=che.proof("POST", "/oauth/token"))
    assert_refused(resp, 400, "DPOP.NONCE_REQUIRED", oauth_error="use_dpop_nonce")
    assert resp.headers["dpop-nonce"] == che.nonce
    resp = che.token_request(assertion_form(che.assertion(), scope="peers:read"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "DPoP" and body["scope"] == "peers:read" and body["expires_in"] == 300
    assert resp.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("pid", ["che-registry", "gha-registry", "sgp-registry"])
def test_each_algorithm_authenticates_and_whoami_names_the_registry(
    world: TrustWorld, gateway: InProcessGateway, pid: str
) -> None:
    client = RegistryClient(gateway.base, pid, world.clients[pid], http=gateway.client())
    token = client.get_token()
    resp = client.get("/v1/whoami", token)
    assert resp.status_code == 200, resp.text
    who = resp.json()
    assert who["client_id"] == pid and who["binding"] == "dpop"
    assert who["party_registry_id"] == world.participant(pid)["party_registry_id"]


def test_peers_shows_the_directory_without_other_registries_scopes(che: RegistryClient) -> None:
    token = che.get_token()
    body = che.get("/v1/peers", token).json()
    assert body["directory"]["environment"] == "test"
    by_id = {p["id"]: p for p in body["participants"]}
    assert set(by_id) == {"che-registry", "gha-registry", "sgp-registry", "nor-registry"}
    assert by_id["che-registry"]["scopes"] == ["peers:read", "messages:send"]
    assert "scopes" not in by_id["gha-registry"]
    assert by_id["gha-registry"]["jwks"]["keys"][0]["kid"] == "gha-1"


def test_missing_scope_is_403_and_unregistered_scope_is_invalid_scope(
    world: TrustWorld, gateway: InProcessGateway
) -> None:
    sgp = RegistryClient(gateway.base, "sgp-registry", world.clients["sgp-registry"], http=gateway.client())
    token = sgp.get_token()
    assert_refused(
        sgp.get("/v1/peers", token), 403, "TOKEN.INSUFFICIENT_SCOPE", oauth_error="insufficient_scope"
    )
    _primed(sgp)
    resp = sgp.token_request(assertion_form(sgp.assertion(), scope="peers:read"))
    assert_refused(resp, 400, "OAUTH.INVALID_SCOPE", oauth_error="invalid_scope")


# --- client assertion attacks ------------------------------------------------------------------------------


def _claims(client: RegistryClient, **over: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": client.base,
        "iat": now,
        "exp": now + 60,
        "jti": f"jti-{time.time_ns()}",
    }
    claims.update(over)
    return claims


def _assert_bad_assertion(client: RegistryClient, assertion: str, code: str) -> None:
    resp = client.token_request(assertion_form(assertion))
    assert_refused(resp, 401, code, oauth_error="invalid_client")


def test_forged_assertion_signed_by_another_key_with_the_same_kid(che: RegistryClient) -> None:
    forger = generate_key("ES256", "che-1")
    _assert_bad_assertion(
        _primed(che),
        client_assertion(forger, client_id=che.client_id, audience=che.base),
        "CLIENT.ASSERTION_SIGNATURE",
    )


def test_expired_and_not_yet_valid_assertions(che: RegistryClient) -> None:
    _primed(che)
    old = time.time() - 600
    _assert_bad_assertion(che, che.assertion(now=old), "CLIENT.ASSERTION_EXPIRED")
    _assert_bad_assertion(che, che.assertion(now=time.time() + 600), "CLIENT.ASSERTION_NOT_YET_VALID")


@pytest.mark.parametrize("aud", ["{base}/oauth/token", ["{base}"], "https://other.example"])
def test_assertion_audience_must_be_the_issuer_string(che: RegistryClient, aud: Any) -> None:
    value = [a.format(base=che.base) for a in aud] if isinstance(aud, list) else aud.format(base=che.base)
    from gateway.trust import jose

    token = jose.sign({"typ": "JWT"}, _claims(che, aud=value), che.key)
    _assert_bad_assertion(_primed(che), token, "CLIENT.ASSERTION_AUDIENCE")


def test_assertion_with_wrong_typ_none_alg_hs256_and_unknown_kid(che: RegistryClient) -> None:
    from gateway.trust import jose

    _primed(che)
    _assert_bad_assertion(che, jose.sign({"typ": "at+jwt"}, _claims(che), che.key), "CLIENT.ASSERTION_TYP")
    _assert_bad_assertion(che, jose.sign({"typ": "dpop+jwt"}, _claims(che), che.key), "CLIENT.ASSERTION_TYP")
    _assert_bad_assertion(
        che, unsigned_jws({"alg": "none", "typ": "JWT"}, _claims(che)), "CLIENT.ASSERTION_ALG"
    )
    _assert_bad_assertion(
        che,
        hs256_with_public_key({"typ": "JWT", "kid": "che-1"}, _claims(che), che.key),
        "CLIENT.ASSERTION_ALG",
    )
    _assert_bad_assertion(
        che, jose.sign({"typ": "JWT", "kid": "nope"}, _claims(che), che.key), "CLIENT.ASSERTION_KID"
    )
    rs256 = unsigned_jws({"alg": "RS256", "typ": "JWT", "kid": "che-1"}, _claims(che))
    _assert_bad_assertion(che, rs256 + "c2ln", "CLIENT.ASSERTION_ALG")


def test_replayed_assertion_is_refused(che: RegistryClient) -> None:
    _primed(che)
    assertion = che.assertion()
    assert che.token_request(assertion_form(assertion)).status_code == 200
    _assert_bad_assertion(che, assertion, "CLIENT.ASSERTION_REPLAY")


def test_assertion_lifetime_over_the_cap_and_claim_mismatches(che: RegistryClient) -> None:
    from gateway.trust import jose

    _primed(che)
    _assert_bad_assertion(che, che.assertion(lifetime=600), "CLIENT.ASSERTION_LIFETIME")
    now = int(time.time())
    no_iat = {k: v for k, v in _claims(che).items() if k != "iat"}
    _assert_bad_assertion(che, jose.sign({"typ": "JWT"}, no_iat, che.key), "CLIENT.ASSERTION_CLAIMS")
    _assert_bad_assertion(
        che,
        jose.sign({"typ": "JWT"}, _claims(che, exp=now + 86400 * 365, iat=now + 86400 * 365 - 60), che.key),
        "CLIENT.ASSERTION_NOT_YET_VALID",
    )
    _assert_bad_assertion(
        che, jose.sign({"typ": "JWT"}, _claims(che, sub="gha-registry"), che.key), "CLIENT.ASSERTION_CLAIMS"
    )


def test_assertion_for_another_registry_signed_with_own_key(world: TrustWorld, che: RegistryClient) -> None:
    _primed(che)
    fake = client_assertion(che.key, client_id="gha-registry", audience=che.base)
    _assert_bad_assertion(che, fake, "CLIENT.ASSERTION_KID")


def test_unknown_client_and_client_secret_are_refused(che: RegistryClient) -> None:
    _primed(che)
    stranger = generate_key("ES256", "x-1")
    _assert_bad_assertion(
        che, client_assertion(stranger, client_id="who-registry", audience=che.base), "PARTICIPANT.UNKNOWN"
    )
    resp = che.token_request(
        {"grant_type": "client_credentials", "client_id": "che-registry", "client_secret": "hunter2"}
    )
    assert_refused(resp, 401, "CLIENT.METHOD", oauth_error="invalid_client")
    resp = che.token_request({"grant_type": "client_credentials", "client_id": "che-registry"})
    assert_refused(resp, 401, "CLIENT.CERTIFICATE_MISSING", oauth_error="invalid_client")


# --- access token attacks ------------------------------------------------------------------------------


def _gateway_claims(
    world: TrustWorld, gateway: InProcessGateway, client: RegistryClient, **over: Any
) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": gateway.base,
        "aud": gateway.base + "/v1",
        "sub": client.client_id,
        "client_id": client.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": "t-1",
        "scope": "peers:read",
        "cnf": {"jkt": client.dpop_key.thumbprint()},
    }
    claims.update(over)
    return claims


def _assert_bad_token(client: RegistryClient, token: str, code: str) -> None:
    resp = client.get("/v1/whoami", token)
    assert_refused(resp, 401, code, oauth_error="invalid_token")
    assert resp.headers["www-authenticate"].startswith('DPoP error="invalid_token"')


def test_crafted_tokens_signed_by_the_real_key_are_checked_claim_by_claim(
    world: TrustWorld, gateway: InProcessGateway, che: RegistryClient
) -> None:
    _primed(che)
    ring = world.keyring
    ok = ring.sign({"typ": "at+jwt"}, _gateway_claims(world, gateway, che))
    assert che.get("/v1/whoami", ok).status_code == 200
    now = int(time.time())
    cases = {
        "TOKEN.EXPIRED": _gateway_claims(world, gateway, che, iat=now - 600, exp=now - 300),
        "TOKEN.NOT_YET_VALID": _gateway_claims(world, gateway, che, iat=now + 600, exp=now + 900),
        "TOKEN.AUDIENCE": _gateway_claims(world, gateway, che, aud="https://elsewhere.example"),
        "TOKEN.ISSUER": _gateway_claims(world, gateway, che, iss="https://evil.example"),
        "TOKEN.UNBOUND": _gateway_claims(world, gateway, che, cnf=None),
        "TOKEN.CLAIMS": _gateway_claims(world, gateway, che, client_id="gha-registry"),
    }
    for code, claims in cases.items():
        _assert_bad_token(che, ring.sign({"typ": "at+jwt"}, claims), code)
    _assert_bad_token(che, ring.sign({"typ": "JWT"}, _gateway_claims(world, gateway, che)), "TOKEN.TYP")
    _assert_bad_token(che, ring.sign({"typ": "dpop+jwt"}, _gateway_claims(world, gateway, che)), "TOKEN.TYP")


def test_forged_none_hs256_and_unknown_kid_tokens(
    world: TrustWorld, gateway: InProcessGateway, che: RegistryClient
) -> None:
    from gateway.trust import jose

    _primed(che)
    claims = _gateway_claims(world, gateway, che)
    forger = generate_key("ES256", "gw-test-1")
    _assert_bad_token(che, jose.sign({"typ": "at+jwt"}, claims, forger), "TOKEN.SIGNATURE")
    _assert_bad_token(che, unsigned_jws({"alg": "none", "typ": "at+jwt"}, claims), "TOKEN.ALG")
    _assert_bad_token(
        che,
        hs256_with_public_key({"typ": "at+jwt", "kid": "gw-test-1"}, claims, world.keyring.current),
        "TOKEN.ALG",
    )
    _assert_bad_token(che, jose.sign({"typ": "at+jwt"}, claims, generate_key("ES256", "gw-old")), "TOKEN.KID")
    _assert_bad_token(che, "not.a-token", "TOKEN.MALFORMED")


def test_token_presented_by_another_client_or_without_its_proof(
    world: TrustWorld, gateway: InProcessGateway, che: RegistryClient
) -> None:
    token = che.get_token()
    thief = RegistryClient(gateway.base, "gha-registry", world.clients["gha-registry"], http=che.http)
    thief.nonce = che.nonce
    _assert_bad_token(thief, token, "TOKEN.BINDING")
    resp = che.get("/v1/whoami", token, proof=None)
    assert_refused(resp, 401, "DPOP.HEADER", oauth_error="invalid_dpop_proof")
    resp = che.get("/v1/whoami", token, proof=None, scheme="Bearer")
    assert_refused(resp, 401, "TOKEN.BINDING", oauth_error="invalid_token")
    resp = che.get("/v1/whoami", None, proof=None)
    assert_refused(resp, 401, "TOKEN.MISSING")


# --- DPoP attacks ---------------------------------------------------------------------------------------


def test_dpop_proof_attacks_at_the_resource(che: RegistryClient) -> None:
    token = che.get_token()

    def proof(**kw: Any) -> str:
        kw.setdefault("nonce", che.nonce)
        kw.setdefault("access_token", token)
        method = kw.pop("method", "GET")
        url = kw.pop("url", che.base + "/v1/whoami")
        return dpop_proof(kw.pop("key", che.dpop_key), method=method, url=url, **kw)

    cases: list[tuple[str, str]] = [
        (proof(method="POST"), "DPOP.HTM"),
        (proof(url=che.base + "/v1/peers"), "DPOP.HTU"),
        (proof(url="http://evil.example/v1/whoami"), "DPOP.HTU"),
        (proof(access_token="another-token"), "DPOP.ATH"),
        (proof(now=time.time() - 3600), "DPOP.IAT"),
        (proof(now=time.time() + 3600), "DPOP.IAT"),
        (proof(header={"typ": "JWT"}), "DPOP.TYP"),
        (proof(header={"jwk": dict(che.dpop_key.as_dict(private=True))}), "DPOP.PRIVATE_KEY"),
        (proof(header={"jwk": {"kty": "oct", "k": "c2VjcmV0"}}), "DPOP.PRIVATE_KEY"),
        (proof(header={"jwk": public_jwk(generate_key("ES256", "other"))}), "DPOP.SIGNATURE"),
        (
            unsigned_jws(
                {"alg": "none", "typ": "dpop+jwt", "jwk": public_jwk(che.dpop_key)}, {"jti": "x" * 10}
            ),
            "DPOP.ALG",
        ),
        ("garbage", "DPOP.MALFORMED"),
    ]
    for bad, code in cases:
        resp = che.get("/v1/whoami", token, proof=bad)
        assert_refused(resp, 401, code, oauth_error="invalid_dpop_proof")
    two = che.http.get(
        che.base + "/v1/whoami",
        headers=[("Authorization", f"DPoP {token}"), ("DPoP", proof()), ("DPoP", proof())],
    )
    assert_refused(two, 401, "DPOP.HEADER")


def test_dpop_replay_and_nonce_rules(che: RegistryClient) -> None:
    token = che.get_token()
    good = che.proof("GET", "/v1/whoami", access_token=token)
    assert che.get("/v1/whoami", token, proof=good).status_code == 200
    assert_refused(che.get("/v1/whoami", token, proof=good), 401, "DPOP.REPLAY")
    missing = che.proof("GET", "/v1/whoami", access_token=token, nonce=None)
    resp = che.get("/v1/whoami", token, proof=missing)
    assert_refused(resp, 401, "DPOP.NONCE_REQUIRED", oauth_error="use_dpop_nonce")
    assert resp.headers["www-authenticate"].startswith('DPoP error="use_dpop_nonce"')
    assert resp.headers["dpop-nonce"]
    stale = che.proof("GET", "/v1/whoami", access_token=token, nonce="made-up-nonce")
    assert_refused(che.get("/v1/whoami", token, proof=stale), 401, "DPOP.NONCE_STALE")


def test_dpop_attacks_at_the_token_endpoint_are_400(che: RegistryClient) -> None:
    _primed(che)
    resp = che.token_request(
        assertion_form(che.assertion()), proof=che.proof("POST", "/oauth/token", header={"typ": "at+jwt"})
    )
    assert_refused(resp, 400, "DPOP.TYP", oauth_error="invalid_dpop_proof")
    resp = che.token_request(assertion_form(che.assertion()), proof=che.proof("GET", "/oauth/token"))
    assert_refused(resp, 400, "DPOP.HTM", oauth_error="invalid_dpop_proof")


# --- bodies and requests ---------------------------------------------------------------------------------


def test_oversized_and_malformed_bodies(che: RegistryClient) -> None:
    url = che.base + "/oauth/token"
    big = che.http.post(
        url, content=b"a=" + b"x" * 200_000, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert_refused(big, 413, "INPUT.TOO_LARGE")

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 4096

    streamed = che.http.post(
        url, content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert_refused(streamed, 413, "INPUT.TOO_LARGE")
    as_json = che.http.post(url, json={"grant_type": "client_credentials"})
    assert_refused(as_json, 400, "OAUTH.CONTENT_TYPE", oauth_error="invalid_request")
    dup = che.http.post(
        url,
        content=b"grant_type=client_credentials&grant_type=client_credentials",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_refused(dup, 400, "OAUTH.DUPLICATE_PARAMETER")
    binary = che.http.post(
        url, content=b"\xff\xfe\x00garbage", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert_refused(binary, 400, "OAUTH.MALFORMED_BODY")
    empty = che.http.post(url, content=b"", headers={"content-type": "application/x-www-form-urlencoded"})
    assert_refused(empty, 400, "OAUTH.GRANT_TYPE_MISSING", oauth_error="invalid_request")
    grant = che.http.post(url, data={"grant_type": "password"})
    assert_refused(grant, 400, "OAUTH.UNSUPPORTED_GRANT_TYPE", oauth_error="unsupported_grant_type")
    fields = che.http.post(
        url,
        content="&".join(f"f{i}=1" for i in range(50)).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_refused(fields, 400, "OAUTH.MALFORMED_BODY")


def test_token_without_any_binding_is_refused(che: RegistryClient) -> None:
    resp = che.token_request(assertion_form(che.assertion()), proof=None)
    assert_refused(resp, 400, "OAUTH.BINDING_REQUIRED", oauth_error="invalid_request")


def test_authorization_header_garbage_and_unknown_paths(che: RegistryClient) -> None:
    resp = che.http.get(che.base + "/v1/whoami", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert_refused(resp, 401, "TOKEN.SCHEME")
    resp = che.http.get(
        che.base + "/v1/whoami", headers=[("Authorization", "DPoP a"), ("Authorization", "DPoP b")]
    )
    assert_refused(resp, 400, "TOKEN.MALFORMED")
    resp = che.http.get(che.base + "/v1/nothing")
    assert_refused(resp, 404, "HTTP.NOT_FOUND")
    resp = che.http.delete(che.base + "/oauth/token")
    assert resp.status_code == 405 and resp.json()["code"] == "HTTP.METHOD_NOT_ALLOWED"


def test_client_certificate_header_from_an_untrusted_peer_is_refused(che: RegistryClient) -> None:
    _primed(che)
    resp = che.token_request(
        {"grant_type": "client_credentials", "client_id": "che-registry"},
        headers={"x-client-cert": "-----BEGIN%20CERTIFICATE-----"},
    )
    assert_refused(resp, 400, "CLIENT.CERTIFICATE_UNTRUSTED_SOURCE", oauth_error="invalid_request")


def test_gateway_log_holds_no_traceback(gateway: InProcessGateway) -> None:
    assert "Traceback" not in Path(gateway.log).read_text()

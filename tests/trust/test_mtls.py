"""RFC 8705: tls_client_auth and certificate-bound tokens, with TLS terminated by the gateway
itself (real handshake, client certificates verified against a CA) and through a trusted proxy."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from gateway.trust.client_auth import cert_thumbprint
from tests.support.pki import Pki
from tests.support.ports import free_port
from tests.support.processes import GatewayProcess
from tests.trust.support import TrustWorld, assert_refused


def _add_fra(world: TrustWorld, der: bytes) -> None:
    def mutate(content: dict[str, Any]) -> None:
        content["participants"].append(
            {
                "id": "fra-registry",
                "party": "FRA",
                "party_registry_id": "FRA01",
                "status": "active",
                "format": "aef",
                "x5t#S256": cert_thumbprint(der),
                "message_kinds": ["transfers"],
                "scopes": ["peers:read"],
            }
        )

    world.write_directory(mutate)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module", params=["httptools", "h11"])
def tls_gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pki: Pki
) -> Iterator[tuple[GatewayProcess, Pki]]:
    """A gateway terminating TLS itself, with each HTTP parser (both hand on the client certificate)."""
    world = TrustWorld(tmp_path_factory.mktemp("trust"))
    _add_fra(world, pki.fra[2])
    port = free_port()
    env = world.env(
        port,
        CARBONLINK_ISSUER=f"https://127.0.0.1:{port}",
        CARBONLINK_TLS_CERTFILE=str(pki.server[0]),
        CARBONLINK_TLS_KEYFILE=str(pki.server[1]),
        CARBONLINK_TLS_CLIENT_CA=str(pki.ca_path),
        CARBONLINK_HTTP_PARSER=request.param,
    )
    proc = GatewayProcess(env, scheme="https", verify=ssl.create_default_context(cafile=str(pki.ca_path)))
    yield proc, pki
    proc.stop()


def _client(pki: Pki, cert: tuple[Path, Path, bytes] | None) -> httpx.Client:
    ctx = ssl.create_default_context(cafile=str(pki.ca_path))
    if cert is not None:
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    return httpx.Client(verify=ctx, timeout=10)


def _token(http: httpx.Client, base: str, client_id: str = "fra-registry", **headers: str) -> httpx.Response:
    return http.post(
        base + "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id},
        headers=headers,
    )


@pytest.mark.e2e  # real TLS connections to a gateway process
def test_tls_client_auth_issues_a_certificate_bound_token(tls_gateway: tuple[GatewayProcess, Pki]) -> None:
    gw, pki = tls_gateway
    with _client(pki, pki.fra) as http:
        resp = _token(http, gw.base)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["token_type"] == "Bearer"
        who = http.get(gw.base + "/v1/whoami", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert who.status_code == 200, who.text
        assert who.json() == {**who.json(), "client_id": "fra-registry", "binding": "mtls"}


@pytest.mark.e2e  # real TLS connections to a gateway process
def test_certificate_bound_token_on_another_connection_is_refused(
    tls_gateway: tuple[GatewayProcess, Pki],
) -> None:
    gw, pki = tls_gateway
    with _client(pki, pki.fra) as http:
        token = _token(http, gw.base).json()["access_token"]
    for cert in (pki.other, None):
        with _client(pki, cert) as http:
            resp = http.get(gw.base + "/v1/whoami", headers={"Authorization": f"Bearer {token}"})
            assert_refused(resp, 401, "TOKEN.BINDING", oauth_error="invalid_token")


@pytest.mark.e2e  # real TLS connections to a gateway process
def test_wrong_or_missing_certificate_fails_client_auth(tls_gateway: tuple[GatewayProcess, Pki]) -> None:
    gw, pki = tls_gateway
    with _client(pki, pki.other) as http:
        assert_refused(
            _token(http, gw.base), 401, "CLIENT.CERTIFICATE_MISMATCH", oauth_error="invalid_client"
        )
    with _client(pki, None) as http:
        assert_refused(_token(http, gw.base), 401, "CLIENT.CERTIFICATE_MISSING", oauth_error="invalid_client")
    with _client(pki, pki.fra) as http:
        assert_refused(_token(http, gw.base, client_id="che-registry"), 401, "CLIENT.CERTIFICATE_MISMATCH")


@pytest.mark.e2e  # real TLS connections to a gateway process
def test_a_certificate_header_over_direct_tls_is_refused(tls_gateway: tuple[GatewayProcess, Pki]) -> None:
    gw, pki = tls_gateway
    forged = quote(pki.fra[0].read_text())
    with _client(pki, None) as http:
        resp = _token(http, gw.base, **{"x-client-cert": forged})
        assert_refused(resp, 400, "CLIENT.CERTIFICATE_UNTRUSTED_SOURCE")


@pytest.mark.e2e  # real TLS connections to a gateway process
def test_certificate_from_a_trusted_proxy(tmp_path: Path, pki: Pki) -> None:
    world = TrustWorld(tmp_path)
    _add_fra(world, pki.fra[2])
    header = {"x-client-cert": quote(pki.fra[0].read_text())}
    gw = GatewayProcess(world.env(free_port(), CARBONLINK_TRUSTED_PROXIES='["127.0.0.1"]'))
    try:
        with httpx.Client() as http:
            resp = _token(http, gw.base, **header)
            assert resp.status_code == 200, resp.text
            token = resp.json()["access_token"]
            ok = http.get(gw.base + "/v1/whoami", headers={"Authorization": f"Bearer {token}", **header})
            assert ok.status_code == 200 and ok.json()["binding"] == "mtls"
            other = {"x-client-cert": quote(pki.other[0].read_text())}
            bad = http.get(gw.base + "/v1/whoami", headers={"Authorization": f"Bearer {token}", **other})
            assert_refused(bad, 401, "TOKEN.BINDING")
            junk = _token(http, gw.base, **{"x-client-cert": "not-a-certificate"})
            assert_refused(junk, 400, "CLIENT.CERTIFICATE_MALFORMED")
    finally:
        gw.stop()

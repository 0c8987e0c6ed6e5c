"""The gateway-peer RFC 8705 gate: ``tls_client_auth`` and certificate-bound access tokens.

The suite authenticates as the registry with its client certificate (no DPoP proof), checks that the token
is bound to that certificate (``cnf.x5t#S256``), uses it with the certificate (accepted), with another
certificate and with none (refused), and asks for a token with another certificate under the registry's
``client_id`` (refused). Without certificates only the first test runs (a token with no binding at all is
never issued); the others are omitted.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from conformance._model import Observation
from conformance.gates import Omitted
from conformance.kits.gateway_peer._peer import PeerProbe
from gateway.trust.proofs import assertion_form


def _claims(token: str) -> dict[str, Any]:
    """The token's claims, read without verifying (the binding is what is looked at here)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def unbound_refused(p: PeerProbe, refused: Any) -> list[Observation]:
    """A client assertion with neither a DPoP proof nor a client certificate: no token to issue."""
    response = p._timed("POST", "/oauth/token", data=assertion_form(p.assertion(), scope="messages:send"))
    return list(refused("GW.MTLS.UNBOUND_REFUSED", response, "a token request with no proof and no certificate"))


def metadata(p: PeerProbe) -> list[Observation]:
    p.certs.need("own")
    response = p._timed("GET", "/.well-known/oauth-authorization-server", over="own")
    doc = response.json() if response.status_code == 200 else {}
    if doc.get("tls_client_certificate_bound_access_tokens") is True:
        return []
    return [Observation("GW.MTLS.METADATA", "/.well-known/oauth-authorization-server",
                        "tls_client_certificate_bound_access_tokens: true",
                        f"HTTP {response.status_code}, {doc.get('tls_client_certificate_bound_access_tokens')!r}")]


def bound_token(p: PeerProbe) -> list[Observation]:
    p.certs.need("own")
    response = p.mtls_token_request("own")
    doc = response.json() if response.status_code == 200 else {}
    token = doc.get("access_token") if isinstance(doc, dict) else None
    if response.status_code != 200 or not isinstance(token, str):
        return [Observation("GW.MTLS.TOKEN", "POST /oauth/token (tls_client_auth)", "HTTP 200, an access token",
                            f"HTTP {response.status_code}, {response.text[:200]!r}")]
    cnf = _claims(token).get("cnf")
    found = cnf.get("x5t#S256") if isinstance(cnf, dict) else None
    expected = p.certs.thumbprint("own")
    problems = []
    if str(doc.get("token_type")).lower() != "bearer":
        problems.append(Observation("GW.MTLS.TOKEN", "token_type", "Bearer (RFC 8705 section 3)",
                                    repr(doc.get("token_type"))))
    if found != expected:
        problems.append(Observation("GW.MTLS.TOKEN", "access token cnf", f"x5t#S256 {expected}", repr(cnf)))
    else:
        p.mtls_token = token
    return problems


def _token(p: PeerProbe) -> str:
    if p.mtls_token is None:
        raise Omitted("no certificate-bound token was issued (GW.MTLS.TOKEN)")
    return p.mtls_token


def used_with_own(p: PeerProbe) -> list[Observation]:
    p.certs.need("own")
    response = p.mtls_protected(_token(p), "own", p.transfer())
    try:
        outcome = response.json().get("outcome")
    except (ValueError, AttributeError):
        outcome = None
    if response.status_code == 200 and outcome == "accepted":
        return []
    return [Observation("GW.MTLS.BOUND", "POST /v1/transfers with the bound certificate",
                        "HTTP 200, receipt outcome accepted", f"HTTP {response.status_code}, outcome {outcome!r}")]


def used_with(p: PeerProbe, refused: Any, which: str) -> list[Observation]:
    p.certs.need("other" if which == "other" else "own")
    test = "GW.MTLS.OTHER_CERT" if which == "other" else "GW.MTLS.NO_CERT"
    what = "the token with another certificate" if which == "other" else "the token without a certificate"
    return list(refused(test, p.mtls_protected(_token(p), "other" if which == "other" else "none",
                                               p.transfer()), what))


def client_auth_other(p: PeerProbe, refused: Any) -> list[Observation]:
    p.certs.need("other")
    return list(refused("GW.MTLS.CLIENT_AUTH_OTHER_CERT", p.mtls_token_request("other"),
                        f"tls_client_auth as {p.client_id} with a certificate the directory does not list"))

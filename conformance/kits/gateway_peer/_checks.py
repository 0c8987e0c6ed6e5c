"""The gateway-peer tests, gate by gate: discovery, OAuth and token binding, messages, timing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import httpx

from conformance._model import Clause, Observation, TestSpec
from conformance.gates import Gate, GateTest, Omitted
from conformance.kits.gateway_peer import _mtls_checks as mtls
from conformance.kits.gateway_peer._peer import PeerProbe
from gateway.client import GatewayClientError


def _code(response: httpx.Response) -> str | None:
    """A coded reason: problem+json ``code``, or the OAuth ``error`` (RFC 6749 section 5.2)."""
    try:
        doc = response.json()
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    code = doc.get("code") or doc.get("error")
    return code if isinstance(code, str) and code else None


def refused(test: str, response: httpx.Response, what: str) -> list[Observation]:
    if 400 <= response.status_code < 500 and _code(response):
        return []
    return [Observation(test, f"{response.request.method} {response.request.url.path}", f"{what}: a 4xx answer "
                        "with a coded reason", f"HTTP {response.status_code}, code {_code(response)!r}")]


def _well_known(p: PeerProbe) -> list[Observation]:
    found = []
    jwks = p.http.get(p.base_url + "/.well-known/jwks.json")
    if jwks.status_code != 200 or not jwks.json().get("keys"):
        found.append(Observation("GW.DISCOVERY", "/.well-known/jwks.json", "HTTP 200, a JWKS",
                                 f"HTTP {jwks.status_code}"))
    meta = p.http.get(p.base_url + "/.well-known/oauth-authorization-server")
    doc = meta.json() if meta.status_code == 200 else {}
    if doc.get("issuer") != p.issuer or not doc.get("token_endpoint"):
        found.append(Observation("GW.DISCOVERY", "/.well-known/oauth-authorization-server",
                                 f"issuer {p.issuer} and a token_endpoint", f"HTTP {meta.status_code}, issuer "
                                 f"{doc.get('issuer')!r}"))
    return found


def _valid_token(p: PeerProbe) -> list[Observation]:
    response = p.token_request(p.assertion())
    doc = response.json() if response.status_code == 200 else {}
    if response.status_code == 200 and doc.get("access_token") and str(doc.get("token_type")).lower() == "dpop":
        return []
    return [Observation("GW.OAUTH.VALID", "POST /oauth/token", "HTTP 200, a DPoP-bound access token",
                        f"HTTP {response.status_code}, token_type {doc.get('token_type')!r}, {_code(response)!r}")]


def _replayed_assertion(p: PeerProbe) -> list[Observation]:
    assertion = p.assertion()
    first = p.token_request(assertion)
    if first.status_code != 200:
        return [Observation("GW.OAUTH.REPLAYED", "POST /oauth/token", "the first use accepted",
                            f"HTTP {first.status_code}")]
    return refused("GW.OAUTH.REPLAYED", p.token_request(assertion), "a client assertion whose jti was spent")


def _hostile(p: PeerProbe) -> list[Observation]:
    found: list[Observation] = []
    body = p.transfer()
    found += refused("GW.HEADERS.HOSTILE", p.protected(body, headers={"Carbonlink-Message-Id": "../../etc/passwd"}),
                     "a path as message id")
    found += refused("GW.HEADERS.HOSTILE", p.protected(body, headers={"DPoP": "A" * 12_000}), "an oversized proof")
    found += refused("GW.HEADERS.HOSTILE", p.protected(body, authorization="DPoP ..", with_proof=True),
                     "a token of three empty parts")
    return found


def _accepted(p: PeerProbe) -> list[Observation]:
    """Accepted and receipted (the receipt's signature is GW.RECEIPT.SIGNED's business)."""
    response = p.protected(p.transfer())
    try:
        doc = response.json()
    except ValueError:
        doc = {}
    outcome = doc.get("outcome") if isinstance(doc, dict) else None
    if response.status_code == 200 and outcome == "accepted":
        return []
    return [Observation("GW.TRANSFER.ACCEPTED", "POST /v1/transfers", "HTTP 200, receipt outcome accepted",
                        f"HTTP {response.status_code}, outcome {outcome!r}, code {_code(response)!r}")]


def _receipt_signed(p: PeerProbe) -> list[Observation]:
    body = p.transfer()
    response = p.protected(body)
    if response.status_code != 200:
        raise Omitted(f"no receipt to check (HTTP {response.status_code})")
    try:
        p.client._gateway_keys = None
        p.client.verify_receipt(response.content, response.headers.get("Carbonlink-Signature"))
    except GatewayClientError as exc:
        return [Observation("GW.RECEIPT.SIGNED", "receipt", "a detached JWS by a key the gateway publishes",
                            f"{exc.code}: {exc.message}")]
    return []


def _rejected(p: PeerProbe) -> list[Observation]:
    body = p.transfer().replace(f'"AcquiringPartyID": "{p.receiver_party}"'.encode(), b'"AcquiringPartyID": "CH"')
    return refused("GW.TRANSFER.REJECTED_CODED", p.protected(body), "an alpha-2 acquiring Party")


def _idempotent(p: PeerProbe) -> list[Observation]:
    body, mid = p.transfer(), p.message_id()
    first = p.protected(body, message_id=mid)
    again = p.protected(body, message_id=mid)
    if first.status_code == 200 and again.status_code == 200 and again.content == first.content:
        return []
    return [Observation("GW.MESSAGE.IDEMPOTENT", f"POST /v1/transfers {mid} twice", "the first receipt again",
                        f"HTTP {first.status_code} then {again.status_code}, same bytes: "
                        f"{again.content == first.content}")]


def _garbled(p: PeerProbe) -> list[Observation]:
    body, mid = p.transfer(), p.message_id()
    found = refused("GW.BODY.GARBLED", p.protected(body[: len(body) // 2], message_id=mid), "half a JSON document")
    whole = p.protected(body, message_id=mid)
    if whole.status_code != 200:
        found.append(Observation("GW.BODY.GARBLED", f"POST /v1/transfers {mid}", "the whole message accepted under "
                                 "the id of the garbled one (nothing recorded)", f"HTTP {whole.status_code}, "
                                 f"{_code(whole)!r}"))
    return found


def _timing(p: PeerProbe) -> list[Observation]:
    if not p.timings:
        raise Omitted("no answer was timed")
    slow = [t for t in p.timings if t > p.max_answer_seconds]
    return [Observation("GW.ANSWER.TIME", f"{len(slow)} of {len(p.timings)} answers", f"within "
                        f"{p.max_answer_seconds} s", f"slowest {max(slow):.3f} s")] if slow else []


def _t(test_id: str, title: str, clause: str, check: Callable[[], Sequence[Observation]]) -> GateTest:
    return GateTest(TestSpec(test_id, title, Clause(clause, "gateway-peer")), check)


def gates(p: PeerProbe) -> list[Gate]:
    body = p.transfer
    return [
        Gate("discovery", "Discovery", (
            _t("GW.DISCOVERY", "The gateway publishes its JWKS and authorization server metadata",
               "RFC 8414 section 3; RFC 7517 section 5", lambda: _well_known(p)),)),
        Gate("oauth", "OAuth and token binding", (
            _t("GW.OAUTH.VALID", "A valid private_key_jwt assertion with a DPoP proof gets a DPoP-bound token",
               "RFC 7523 section 2.2; RFC 9449 section 5", lambda: _valid_token(p)),
            _t("GW.OAUTH.BAD_SIGNATURE", "An assertion signed by another key with the registry's kid is refused",
               "RFC 7523 section 3", lambda: refused("GW.OAUTH.BAD_SIGNATURE", p.token_request(
                   p.assertion(key=p.forged_key())), "a forged assertion")),
            _t("GW.OAUTH.WRONG_AUDIENCE", "An assertion for another audience is refused", "RFC 7523 section 3",
               lambda: refused("GW.OAUTH.WRONG_AUDIENCE", p.token_request(
                   p.assertion(audience="https://not-this-gateway.invalid")), "another aud")),
            _t("GW.OAUTH.EXPIRED", "An expired assertion is refused", "RFC 7523 section 3; RFC 7519 section 4.1.4",
               lambda: refused("GW.OAUTH.EXPIRED", p.token_request(p.assertion(now=time.time() - 3_600)),
                               "exp an hour ago")),
            _t("GW.OAUTH.REPLAYED", "A client assertion whose jti was spent is refused", "RFC 7523 section 3; "
               "RFC 7519 section 4.1.7", lambda: _replayed_assertion(p)),
            _t("GW.TOKEN.UNBOUND", "A DPoP-bound token sent as a bearer token without a proof is refused",
               "RFC 9449 section 7.1", lambda: refused("GW.TOKEN.UNBOUND", p.protected(
                   body(), authorization=f"Bearer {p.client.token()}", with_proof=False), "no proof")),
            _t("GW.DPOP.OTHER_URL", "A DPoP proof for another URL is refused", "RFC 9449 section 4.3",
               lambda: refused("GW.DPOP.OTHER_URL", p.protected(
                   body(), proof_url=p.issuer + "/v1/other"), "htu of another URL")),
            _t("GW.HEADERS.HOSTILE", "Hostile header values get a coded 4xx, never a 5xx",
               "RFC 9110 section 5.5", lambda: _hostile(p)),
        )),
        Gate("mtls", "Certificate-bound tokens (RFC 8705)", (
            _t("GW.MTLS.UNBOUND_REFUSED", "A token request with neither a DPoP proof nor a client certificate is "
               "refused (no unbound token)", "RFC 8705 section 3; RFC 9700 section 2.2.1",
               lambda: mtls.unbound_refused(p, refused)),
            _t("GW.MTLS.METADATA", "The metadata announces certificate-bound access tokens",
               "RFC 8705 section 3.3", lambda: mtls.metadata(p)),
            _t("GW.MTLS.TOKEN", "tls_client_auth with the registry's certificate gets a token bound to it "
               "(cnf x5t#S256)", "RFC 8705 section 2.1; RFC 8705 section 3.1", lambda: mtls.bound_token(p)),
            _t("GW.MTLS.BOUND", "The certificate-bound token with its certificate is accepted",
               "RFC 8705 section 3", lambda: mtls.used_with_own(p)),
            _t("GW.MTLS.OTHER_CERT", "The certificate-bound token with another certificate is refused",
               "RFC 8705 section 3", lambda: mtls.used_with(p, refused, "other")),
            _t("GW.MTLS.NO_CERT", "The certificate-bound token without a certificate is refused",
               "RFC 8705 section 3", lambda: mtls.used_with(p, refused, "none")),
            _t("GW.MTLS.CLIENT_AUTH_OTHER_CERT", "tls_client_auth with a certificate the directory does not list "
               "for the client is refused", "RFC 8705 section 2", lambda: mtls.client_auth_other(p, refused)),
        )),
        Gate("messages", "Messages and receipts", (
            _t("GW.TRANSFER.ACCEPTED", "A valid transfer is delivered and receipted", "carbonlink gateway pipeline "
               "(docs/transfers.md)", lambda: _accepted(p)),
            _t("GW.RECEIPT.SIGNED", "The receipt verifies against the keys the gateway publishes",
               "RFC 7515 section 5.2; RFC 7797", lambda: _receipt_signed(p)),
            _t("GW.TRANSFER.REJECTED_CODED", "An invalid transfer is refused with a coded reason",
               "RFC 9457 (problem details)", lambda: _rejected(p)),
            _t("GW.MESSAGE.IDEMPOTENT", "A repeated message id gets the first receipt and is delivered once",
               "RFC 9110 section 9.2.2", lambda: _idempotent(p)),
            _t("GW.BODY.GARBLED", "A garbled body is refused and not recorded", "RFC 8259 (JSON)",
               lambda: _garbled(p)),
        )),
        Gate("timing", "Timing", (
            _t("GW.ANSWER.TIME", "Every answer within the configured time (max_answer_seconds)",
               "carbonlink delivery policy (docs/transfers.md)", lambda: _timing(p)),)),
    ]

"""The suite playing a registry against a gateway: OAuth ``private_key_jwt`` with DPoP, messages, receipts.

Options (``--option KEY=VALUE``): ``client_id`` (the registry the suite acts as; it must be an active
participant of the gateway's directory allowed to send transfers), ``key`` (that registry's private JWK
file), ``issuer`` (the gateway's OAuth issuer; default the target URL), ``sender_party`` (default
``GHA``), ``receiver_party`` (the Party of the registry the test transfers go to; default ``CHE``) and
``max_answer_seconds`` (default 5: a transfer is delivered and answered within the call); for the RFC 8705
tests, the client certificates (:mod:`conformance.kits._mtls`: ``client_cert``, ``client_key``,
``other_cert``, ``other_key``, ``ca``, ``cert_header``).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import Key

from conformance._model import Target
from conformance.errors import TargetUnusable
from conformance.kits._mtls import Certificates, Which
from gateway.client import GatewayClient
from gateway.demo import itmo_message
from gateway.trust.keys import generate_key, import_jwk
from gateway.trust.proofs import assertion_form, client_assertion, dpop_proof
from standards.errors import CarbonlinkError
from standards.safeio import load_json, read_bytes


@dataclass
class PeerProbe:
    base_url: str
    issuer: str
    client_id: str
    key: Key
    sender_party: str
    receiver_party: str
    max_answer_seconds: float
    certs: Certificates = field(default_factory=Certificates)
    client: GatewayClient = field(init=False)
    http: httpx.Client = field(init=False)
    timings: list[float] = field(default_factory=list)
    dpop_key: Key = field(default_factory=lambda: generate_key("ES256", "conformance-dpop"))
    mtls_token: str | None = None

    def __post_init__(self) -> None:
        self.http = httpx.Client(timeout=30, verify=self.certs.verify())
        self._tls: dict[str, httpx.Client] = {}
        self.client = GatewayClient(self.base_url, self.client_id, self.key, issuer=self.issuer, http=self.http,
                                    dpop_key=self.dpop_key)

    @classmethod
    def for_target(cls, target: Target) -> PeerProbe:
        if not target.is_url:
            raise TargetUnusable(f"{target.text}: the gateway-peer kit needs the gateway's base URL")
        options = target.options
        if "client_id" not in options or "key" not in options:
            raise TargetUnusable("the gateway-peer kit needs --option client_id=ID and --option key=FILE (the "
                                 "private JWK of a registry the gateway's directory lists)")
        try:
            key = import_jwk(load_json(read_bytes(Path(str(options["key"]))), what="registry key"), private=True,
                             what=str(options["key"]))
        except CarbonlinkError as exc:
            raise TargetUnusable(f"key {options['key']}: {exc.message}") from exc
        base = target.text.rstrip("/")
        return cls(base_url=base, issuer=str(options.get("issuer", base)), client_id=str(options["client_id"]),
                   key=key, sender_party=str(options.get("sender_party", "GHA")),
                   receiver_party=str(options.get("receiver_party", "CHE")),
                   max_answer_seconds=float(options.get("max_answer_seconds", 5.0)),
                   certs=Certificates.from_options(options))

    def close(self) -> None:
        self.http.close()
        for client in self._tls.values():
            client.close()

    # -- RFC 8705: tls_client_auth and certificate-bound tokens ------------------------------------
    def _over(self, which: Which) -> httpx.Client:
        if which not in self._tls:
            self._tls[which] = self.certs.client(which)
        return self._tls[which]

    def mtls_token_request(self, which: Which) -> httpx.Response:
        """POST /oauth/token by ``tls_client_auth`` (RFC 8705 section 2), no DPoP proof, over ``which``
        certificate: the token is to be bound to that certificate (``cnf.x5t#S256``)."""
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "scope": "messages:send"}
        return self._timed("POST", "/oauth/token", data=form, over=which)

    def mtls_protected(self, token: str, which: Which, body: bytes) -> httpx.Response:
        """POST /v1/transfers with a certificate-bound token as ``Bearer``, over ``which`` certificate."""
        sent = {"Content-Type": "application/json", "Carbonlink-Message-Id": self.message_id(),
                "Authorization": f"Bearer {token}"}
        return self._timed("POST", "/v1/transfers", content=body, headers=sent, over=which)

    # -- OAuth ------------------------------------------------------------------------------------
    def token_request(self, assertion: str) -> httpx.Response:
        """POST /oauth/token with a client assertion and a DPoP proof (one retry for a nonce)."""
        response = None
        for _ in range(2):
            proof = dpop_proof(self.dpop_key, method="POST", url=self.issuer + "/oauth/token",
                               nonce=self.client.nonce)
            response = self._timed("POST", "/oauth/token", data=assertion_form(assertion, scope="messages:send"),
                                   headers={"DPoP": proof})
            if not self.client._remember_nonce(response):
                return response
        assert response is not None
        return response

    def assertion(self, *, key: Key | None = None, audience: str | None = None, now: float | None = None) -> str:
        return client_assertion(key or self.key, client_id=self.client_id, audience=audience or self.issuer, now=now)

    def forged_key(self) -> Key:
        return generate_key("ES256", str(self.key.kid))

    def transfer(self) -> bytes:
        first = 1_000_000 + secrets.randbelow(10**8) * 10
        doc = itmo_message(sender_party=self.sender_party, receiver_party=self.receiver_party, first=first,
                           last=first + 9)
        return json.dumps(doc).encode()

    def protected(self, body: bytes, *, message_id: str | None = None, authorization: str | None = None,
                  proof_url: str | None = None, headers: dict[str, str] | None = None,
                  with_proof: bool = True) -> httpx.Response:
        """POST /v1/transfers as a registry does; each part can be replaced to make a negative test."""
        token = self.client.token()
        sent = {"Content-Type": "application/json", "Carbonlink-Message-Id": message_id or self.message_id(),
                "Authorization": authorization or f"DPoP {token}"}
        if with_proof:
            sent["DPoP"] = dpop_proof(self.dpop_key, method="POST", url=proof_url or self.issuer + "/v1/transfers",
                                      nonce=self.client.nonce, access_token=token)
        sent.update(headers or {})
        response = self._timed("POST", "/v1/transfers", content=body, headers=sent)
        if self.client._remember_nonce(response) and response.status_code == 401 and with_proof:
            return self.protected(body, message_id=sent["Carbonlink-Message-Id"], authorization=authorization,
                                  proof_url=proof_url, headers=headers, with_proof=with_proof)
        return response

    @staticmethod
    def message_id() -> str:
        return f"conf-{secrets.token_hex(8)}"

    def _timed(self, method: str, path: str, *, over: Which | None = None, **kwargs: Any) -> httpx.Response:
        http = self.http if over is None else self._over(over)
        started = time.perf_counter()
        try:
            response = http.request(method, self.base_url + path, **kwargs)
        except httpx.HTTPError as exc:
            raise TargetUnusable(f"{self.base_url}{path}: {type(exc).__name__}: {exc}") from exc
        self.timings.append(time.perf_counter() - started)
        return response

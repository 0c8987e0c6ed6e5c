"""The suite playing the gateway: tokens, signed bodies and answer checks against one registry endpoint.

Options (``--option KEY=VALUE``): ``registry_id`` (the registry's participant id, ``iss`` of its answers;
default ``sandbox-registry``), ``audience`` (the ``aud`` its tokens carry; default the registry id),
``party`` (the registry's Party, the acquiring Party of the test transfers; default ``CHE``),
``gateway_keyring`` (the gateway keyring the registry trusts: ``development``, the default, or a keyring
file; a gateway running the kit passes its own keyring),
``gateway_issuer`` (default ``http://127.0.0.1:8080``), ``jwks`` (the registry's JWKS URL; default
``<base>/.well-known/jwks.json``) and ``max_answer_seconds`` (default 2).

For the RFC 8705 tests, the suite's client certificates (:mod:`conformance.kits._mtls`: ``client_cert``,
``client_key``, ``other_cert``, ``other_key``, ``ca``): with ``client_cert`` every token the suite sends is
bound to it (``cnf.x5t#S256``) and sent over a connection presenting it, and ``binding_required``
(default ``true`` then) says the registry must refuse an unbound token.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc.jwk import Key

from conformance._model import Observation, Target
from conformance.errors import TargetUnusable
from conformance.kits._mtls import Certificates, Which
from gateway.protocol import MESSAGE_ID_HEADER, SENDER_HEADER
from gateway.transfers import DetachedSigner
from gateway.trust import development
from gateway.trust.client_auth import JwksCache
from gateway.trust.directory import Participant
from gateway.trust.keys import SigningKeyRing, generate_key
from gateway.trust.outbound import SIGNATURE_HEADER, verify_response
from standards.errors import CarbonlinkError
from standards.safeio import load_json, read_bytes

AT_TYP = "at+jwt"
SENDER = "conformance-suite"


#: The reporting Party of the published AEF example and the Party its first transfer goes to.
_EXAMPLE_PARTY, _EXAMPLE_ACQUIRER = "GHA", "CHE"


@dataclass
class Exchange:
    """One request the suite sent and the answer it got."""

    body: bytes
    message_id: str
    response: httpx.Response


@dataclass
class RegistryProbe:
    """What the registry-endpoint tests share: the endpoint, the gateway's keys, and what was sent."""

    messages_url: str
    registry_id: str
    audience: str
    party: str
    keyring: SigningKeyRing
    issuer: str
    jwks_url: str
    max_answer_seconds: float
    certs: Certificates = field(default_factory=Certificates)
    binding_required: bool = False
    http: httpx.Client = field(init=False)
    timings: list[float] = field(default_factory=list)
    accepted: Exchange | None = None

    def __post_init__(self) -> None:
        self.http = httpx.Client(timeout=10, verify=self.certs.verify())
        self._tls: dict[str, httpx.Client] = {}

    @classmethod
    def for_target(cls, target: Target) -> RegistryProbe:
        if not target.is_url:
            raise TargetUnusable(f"{target.text}: the registry-endpoint kit needs the registry's messages URL")
        parts = urlsplit(target.text)
        base = f"{parts.scheme}://{parts.netloc}"
        options = target.options
        registry_id = str(options.get("registry_id", "sandbox-registry"))
        certs = Certificates.from_options(options)
        return cls(messages_url=target.text, registry_id=registry_id,
                   audience=str(options.get("audience", registry_id)), party=str(options.get("party", "CHE")),
                   keyring=_keyring(options.get("gateway_keyring", "development")),
                   issuer=str(options.get("gateway_issuer", "http://127.0.0.1:8080")),
                   jwks_url=str(options.get("jwks", base + "/.well-known/jwks.json")),
                   max_answer_seconds=float(options.get("max_answer_seconds", 2.0)), certs=certs,
                   binding_required=certs.given and str(options.get("binding_required", "true")).lower() == "true")

    def close(self) -> None:
        self.http.close()
        for client in self._tls.values():
            client.close()

    def _over(self, which: Which | None) -> httpx.Client:
        """The connection: presenting ``which`` certificate, or (None) the suite's own when it has one."""
        which = which or ("own" if self.certs.given else "none")
        if which == "none" and not self.certs.given:
            return self.http
        if which not in self._tls:
            self._tls[which] = self.certs.client(which, timeout=10)
        return self._tls[which]

    # -- what the gateway sends -----------------------------------------------------------------
    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": self.issuer, "client_id": self.issuer, "aud": self.audience,
                  "iat": now, "exp": now + 60, "jti": secrets.token_urlsafe(16), "scope": "messages:send"}
        if self.certs.given:  # RFC 8705 section 3.1: bound to the certificate the suite presents
            claims["cnf"] = {"x5t#S256": self.certs.thumbprint("own")}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, key: Key | None = None, **changes: Any) -> str:
        from gateway.trust import jose

        return jose.sign({"typ": AT_TYP}, self.claims(**changes), key or self.keyring.current)

    def forged_key(self) -> Key:
        """A key with the gateway's kid that the gateway never had."""
        return generate_key("ES256", str(self.keyring.current.kid))

    def transfer(self, *, acquiring: str | None = None) -> bytes:
        """An AEF report with one first transfer into this registry's Party of a block no run used before.
        The published example is Ghana's report of a first transfer to Switzerland; for a Ghanaian registry
        the two Parties trade places, so the transfer still comes from another Party."""
        text = resources.files("standards").joinpath("examples/aef-v2-report.json").read_text("utf-8")
        if self.party == _EXAMPLE_PARTY:
            text = text.replace(_EXAMPLE_PARTY, "\0").replace(_EXAMPLE_ACQUIRER, _EXAMPLE_PARTY)
            text = text.replace("\0", _EXAMPLE_ACQUIRER)
        doc = json.loads(text)
        first = 1_000_000_000 + secrets.randbelow(10**9) * 100
        row = {**doc["Actions"][0], "FirstID": first, "LastID": first + 9, "UnderlyingUnitFirstUnitID": first,
               "UnderlyingUnitLastUnitID": first + 9, "QuantityCO2": 10,
               "AcquiringPartyID": acquiring or self.party}
        doc["Actions"] = [row]
        doc.pop("Holdings", None)
        return json.dumps(doc).encode()

    def post(self, body: bytes, *, token: str | None = None, message_id: str | None = None,
             signed_body: bytes | None = None, headers: dict[str, str] | None = None,
             authorization: str | None = None, over: Which | None = None) -> Exchange:
        """POST a message the way the gateway does (bearer token, message id, sender, detached signature
        over ``signed_body`` or the body); ``headers`` override or remove (value ``""``) any of them; ``over``
        the certificate the connection presents (default the suite's own, if it has one)."""
        mid = message_id or f"conf-{secrets.token_hex(8)}"
        sent = {"Authorization": authorization if authorization is not None else f"Bearer {token or self.token()}",
                MESSAGE_ID_HEADER: mid, SENDER_HEADER: SENDER, "Content-Type": "application/json",
                SIGNATURE_HEADER: DetachedSigner(self.keyring, self.issuer).sign(signed_body or body)}
        for name, value in (headers or {}).items():
            if value == "":
                sent.pop(name, None)
            else:
                sent[name] = value
        started = time.perf_counter()
        try:
            response = self._over(over).post(self.messages_url, content=body, headers=sent)
        except httpx.HTTPError as exc:
            raise TargetUnusable(f"{self.messages_url}: {type(exc).__name__}: {exc}") from exc
        self.timings.append(time.perf_counter() - started)
        return Exchange(body, mid, response)

    def verify_answer(self, exchange: Exchange) -> list[Observation]:
        try:  # fetched with the suite's own TLS settings (the registry's CA)
            jwks = self.http.get(self.jwks_url).json()
        except (httpx.HTTPError, ValueError) as exc:
            return [Observation("REG.ANSWER.SIGNED", self.jwks_url, "the registry's JWKS", f"{type(exc).__name__}")]
        participant = Participant(id=self.registry_id, party=self.party, party_registry_id=f"{self.party}01",
                                  status="active", format="aef", issuer=self.audience, jwks=jwks)
        signature = exchange.response.headers.get(SIGNATURE_HEADER)
        try:
            verify_response(participant, exchange.response.content, signature, jwks_cache=JwksCache(ttl=0),
                            request_body=exchange.body)
        except CarbonlinkError as exc:
            return [Observation("REG.ANSWER.SIGNED", f"answer to {exchange.message_id}",
                                "a detached JWS by the registry's key over the answer, naming the request",
                                f"{exc.code}: {exc.message}")]
        return []


def _keyring(spec: object) -> SigningKeyRing:
    """``development``, a keyring file, or (a gateway running the kit itself) its own keyring."""
    if isinstance(spec, SigningKeyRing):
        return spec
    spec = str(spec)
    if spec == "development":
        return SigningKeyRing.from_document(development.keyring_document(), grace_seconds=330)
    try:
        return SigningKeyRing.from_document(load_json(read_bytes(Path(spec)), what="gateway keyring"),
                                            grace_seconds=330)
    except CarbonlinkError as exc:
        raise TargetUnusable(f"gateway_keyring {spec}: {exc.message}") from exc


def answer_code(response: httpx.Response) -> str | None:
    """The coded reason of an answer (problem+json ``code`` or a signed answer's ``code``)."""
    try:
        doc = response.json()
    except ValueError:
        return None
    code = doc.get("code") if isinstance(doc, dict) else None
    return code if isinstance(code, str) and code else None

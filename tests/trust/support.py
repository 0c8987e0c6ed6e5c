"""Test support for the trust layer: a trust world on disk (anchor, keys, directory), a reference
registry client (private_key_jwt + DPoP) and forged tokens for the refusal tests. Gateway processes
and ports come from :mod:`tests.support`."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import Key

from gateway.trust.directory import sign_directory
from gateway.trust.keys import SigningKeyRing, generate_key, public_jwk
from gateway.trust.proofs import assertion_form, client_assertion, dpop_proof


@dataclass
class TrustWorld:
    """Anchor, gateway keyring, registry keys and a signed directory in ``root``."""

    root: Path
    environment: str = "test"
    anchor: Key = field(default_factory=lambda: generate_key("ES256", "test-anchor-1"))
    clients: dict[str, Key] = field(default_factory=dict)
    content: dict[str, Any] = field(default_factory=dict)
    sequence: int = 1

    def __post_init__(self) -> None:
        self.clients = {
            "che-registry": generate_key("ES256", "che-1"),
            "gha-registry": generate_key("Ed25519", "gha-1"),
            "sgp-registry": generate_key("PS256", "sgp-1"),
            "nor-registry": generate_key("ES256", "nor-1"),
        }
        entries = []
        for pid, party, kinds, scopes in (
            ("che-registry", "CHE", ["transfers", "holdings"], ["peers:read", "messages:send"]),
            ("gha-registry", "GHA", ["transfers"], ["peers:read"]),
            ("sgp-registry", "SGP", ["transfers"], ["messages:send"]),
            ("nor-registry", "NOR", ["transfers"], ["peers:read"]),
        ):
            entries.append(
                {
                    "id": pid,
                    "name": f"{party} test registry",
                    "party": party,
                    "party_registry_id": f"{party}01",
                    "status": "active",
                    "format": "aef",
                    "endpoints": {"messages": f"https://{pid}.example/messages"},
                    "jwks": {"keys": [public_jwk(self.clients[pid])]},
                    "message_kinds": kinds,
                    "scopes": scopes,
                }
            )
        self.content = {
            "iss": "test-governing-body",
            "environment": self.environment,
            "participants": entries,
        }
        (self.root / "anchors.json").write_text(json.dumps({"keys": [public_jwk(self.anchor)]}))
        self.keyring = SigningKeyRing.generate("ES256", kid="gw-test-1")
        (self.root / "keyring.json").write_text(json.dumps(self.keyring.to_document()))
        self.write_directory()

    @property
    def directory_path(self) -> Path:
        return self.root / "directory.jws"

    def participant(self, pid: str) -> dict[str, Any]:
        for entry in self.content["participants"]:
            if entry["id"] == pid:
                return dict(entry)
        raise KeyError(pid)

    def signed(
        self,
        mutate: Callable[[dict[str, Any]], None] | None = None,
        *,
        valid_for: int = 3600,
        anchor: Key | None = None,
        now: int | None = None,
    ) -> str:
        content = copy.deepcopy(self.content)
        self.sequence += 1
        content["sequence"] = self.sequence
        if mutate is not None:
            mutate(content)
        return sign_directory(content, anchor or self.anchor, valid_for=valid_for, now=now)

    def write_directory(self, mutate: Callable[[dict[str, Any]], None] | None = None, **kw: Any) -> str:
        token = self.signed(mutate, **kw)
        tmp = self.directory_path.with_suffix(".tmp")
        tmp.write_text(token)
        tmp.replace(self.directory_path)
        return token

    def env(self, port: int, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLINK_")}
        env.update(
            {
                "CARBONLINK_ENVIRONMENT": self.environment,
                "CARBONLINK_PORT": str(port),
                "CARBONLINK_HOST": "127.0.0.1",
                "CARBONLINK_SIGNING_KEYS": str(self.root / "keyring.json"),
                "CARBONLINK_ANCHORS": str(self.root / "anchors.json"),
                "CARBONLINK_DIRECTORY": str(self.directory_path),
                "CARBONLINK_DIRECTORY_REFRESH_SECONDS": "0.2",
            }
        )
        env.update(extra)
        return env


class RegistryClient:
    """A registry talking to the gateway: private_key_jwt + DPoP, nonce handling included."""

    def __init__(
        self,
        base: str,
        client_id: str,
        key: Key,
        *,
        http: httpx.Client | None = None,
        dpop_key: Key | None = None,
        issuer: str | None = None,
    ) -> None:
        self.base = base
        self.issuer = issuer or base
        self.client_id = client_id
        self.key = key
        self.dpop_key = dpop_key or generate_key("ES256", f"{client_id}-dpop")
        self.http = http or httpx.Client(timeout=10)
        self.nonce: str | None = None

    def assertion(self, **kw: Any) -> str:
        return client_assertion(self.key, client_id=self.client_id, audience=self.issuer, **kw)

    def proof(self, method: str, path: str, *, access_token: str | None = None, **kw: Any) -> str:
        kw.setdefault("nonce", self.nonce)
        return dpop_proof(
            self.dpop_key, method=method, url=self.issuer + path, access_token=access_token, **kw
        )

    def token_request(
        self, form: dict[str, str], *, proof: str | bool | None = True, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        hdrs = dict(headers or {})
        if proof is True:
            hdrs["DPoP"] = self.proof("POST", "/oauth/token")
        elif isinstance(proof, str):
            hdrs["DPoP"] = proof
        resp = self.http.post(self.base + "/oauth/token", data=form, headers=hdrs)
        if "dpop-nonce" in resp.headers:
            self.nonce = resp.headers["dpop-nonce"]
        return resp

    def get_token(self, scope: str | None = None) -> str:
        """Obtain a DPoP-bound token (one retry for the server nonce)."""
        for _ in range(2):
            resp = self.token_request(assertion_form(self.assertion(), scope=scope))
            if resp.status_code == 400 and resp.json().get("error") == "use_dpop_nonce":
                continue
            assert resp.status_code == 200, resp.text
            body = resp.json()
            assert body["token_type"] == "DPoP"
            return str(body["access_token"])
        raise AssertionError("no token after the nonce retry")

    def get(
        self,
        path: str,
        token: str | None,
        *,
        proof: str | bool | None = True,
        scheme: str = "DPoP",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = f"{scheme} {token}"
        if proof is True:
            hdrs["DPoP"] = self.proof("GET", path, access_token=token)
        elif isinstance(proof, str):
            hdrs["DPoP"] = proof
        resp = self.http.get(self.base + path, headers=hdrs)
        if "dpop-nonce" in resp.headers:
            self.nonce = resp.headers["dpop-nonce"]
        return resp


def assert_refused(resp: httpx.Response, status: int, code: str, *, oauth_error: str | None = None) -> None:
    """A coded refusal: the status, our stable code, and an OAuth or problem+json body."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()
    assert body["code"] == code, body
    if resp.request.url.path.startswith("/oauth/"):
        assert "error" in body and "error_description" in body
    else:
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert body["status"] == status and body["type"].startswith("https://")
    if oauth_error is not None:
        assert body["error"] == oauth_error


def b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_jws(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """``alg: none`` (or any header) with an empty signature."""
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def hs256_with_public_key(header: dict[str, Any], claims: dict[str, Any], public: Key) -> str:
    """The classic confusion attack: HMAC keyed with the verifier's public key."""
    import hashlib
    import hmac

    secret = json.dumps(public_jwk(public), sort_keys=True).encode()
    signing_input = (
        f"{b64(json.dumps({**header, 'alg': 'HS256'}).encode())}.{b64(json.dumps(claims).encode())}"
    )
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(sig)}"

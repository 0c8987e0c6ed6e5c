"""Test support for the sandbox registry: the gateway app on its embedded development defaults
(its JWKS over real HTTP), sandboxes served by uvicorn on ephemeral loopback ports (both in threads
of the test process), and the gateway's own outbound client (trust layer) minting tokens and
verifying the sandbox's signed answers."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from gateway.main import create_app as create_gateway_app
from gateway.sandbox.app import create_app
from gateway.sandbox.service import MESSAGE_ID_HEADER, SENDER_HEADER, Sandbox, SandboxConfig
from gateway.settings import Settings
from gateway.trust import development
from gateway.trust.directory import DirectoryStore, sign_directory
from gateway.trust.keys import SigningKeyRing, generate_key
from gateway.trust.outbound import SIGNATURE_HEADER, OutboundClient
from tests.support.ports import free_port
from tests.support.processes import ThreadedServer

ITMO_SERIES = "CA0001-GHA01-GHA"


def gateway_signature(keyring: SigningKeyRing, issuer: str, body: bytes) -> dict[str, str]:
    """The ``Carbonlink-Signature`` header the gateway sends with ``body`` (its detached signature)."""
    from gateway.transfers import DetachedSigner

    return {SIGNATURE_HEADER: DetachedSigner(keyring, issuer).sign(body)}


class DevelopmentGateway(ThreadedServer):
    """The gateway on the embedded development defaults, served in a thread (its keyring signs our tokens)."""

    def __init__(self) -> None:
        port = free_port()
        super().__init__(create_gateway_app(Settings(environment="development", host="127.0.0.1", port=port)),
                         port=port)
        self.issuer = self.url
        self.start_serving()
        self.keyring = SigningKeyRing.from_document(development.keyring_document(), grace_seconds=330)

    def signature(self, body: bytes) -> dict[str, str]:
        """The gateway's signature header over ``body``."""
        return gateway_signature(self.keyring, self.issuer, body)

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/.well-known/jwks.json"

    def stop(self) -> None:
        self.stop_serving()


class SandboxServer(ThreadedServer):
    """A sandbox registry served by uvicorn in a thread on 127.0.0.1."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.sandbox = Sandbox(config)
        self.base = config.base_url
        super().__init__(create_app(self.sandbox), port=config.port)

    def start(self) -> SandboxServer:
        self.start_serving()
        return self

    def stop(self) -> None:
        self.stop_serving()
        self.sandbox.store.close()


class World:
    """One gateway and the directory that names the sandboxes (so the trust layer's outbound client
    mints tokens for them and verifies their answers)."""

    def __init__(self, gateway: DevelopmentGateway, root: Path) -> None:
        self.gateway = gateway
        self.root = root
        self.anchor = generate_key("ES256", "sandbox-test-anchor")
        self.participants: list[dict[str, Any]] = []
        self.directory = DirectoryStore(None, {"sandbox-test-anchor": self.anchor}, environment="test")
        self.outbound = OutboundClient(gateway.keyring, self.directory, client_id=gateway.issuer)
        self.http = httpx.Client(timeout=30)
        self.servers: list[SandboxServer] = []

    def config(self, name: str, fmt: str = "aef", **overrides: Any) -> SandboxConfig:
        base = SandboxConfig(format=fmt, registry_id=name, party=overrides.pop("party", "CHE"),
                             db=self.root / f"{name}.sqlite3", port=free_port(), gateway_jwks=self.gateway.jwks_url,
                             gateway_issuer=self.gateway.issuer, operator_token=f"op-{name}-token")
        return replace(base, **overrides)

    def start(self, config: SandboxConfig) -> SandboxServer:
        server = SandboxServer(config).start()
        self.servers.append(server)
        self.publish(server)
        return server

    def publish(self, server: SandboxServer) -> None:
        """(Re)list ``server`` in the directory with its current key."""
        party = server.config.party or "CHE"
        entry = {"id": server.config.registry_id, "party": party, "party_registry_id": f"{party}01",
                 "status": "active", "format": server.config.format, "issuer": server.base,
                 "endpoints": {"messages": server.base + server.config.messages_path},
                 "jwks": server.sandbox.jwks(), "message_kinds": ["transfers"], "scopes": []}
        self.participants = [p for p in self.participants if p["id"] != entry["id"]] + [entry]
        token = sign_directory({"iss": "test-body", "environment": "test", "sequence": time.time_ns(),
                                "participants": self.participants}, self.anchor)
        self.directory.accept(token)

    def token(self, server: SandboxServer) -> str:
        return self.outbound.gateway_token(server.config.registry_id, scope="messages:send")

    def send(self, server: SandboxServer, body: bytes, message_id: str, *, sender: str = "gha-registry",
             token: str | None = None, path: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token(server)}", MESSAGE_ID_HEADER: message_id,
                   "Content-Type": "application/json", **self.gateway.signature(body)}
        if sender:
            headers[SENDER_HEADER] = sender
        return self.http.post(server.base + (path or server.config.messages_path), content=body, headers=headers)

    def verify(self, server: SandboxServer, resp: httpx.Response, request_body: bytes | None) -> dict[str, Any]:
        """The trust layer's check of a registry's signed answer (raises when it does not verify)."""
        return self.outbound.verify(server.config.registry_id, resp.content, resp.headers, request_body=request_body)

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        self.http.close()


def aef_actions(*rows: dict[str, Any]) -> bytes:
    """An AEF V2 JSON report whose T3 rows are ``rows`` (AEF field names, merged over the example's
    first transfer GHA -> CHE of FirstID 1 - LastID 20000); no T4 holdings."""
    doc = json.loads(Path("standards/examples/aef-v2-report.json").read_text())
    template = doc["Actions"][0]
    doc["Actions"] = [{**template, **row} for row in rows]
    doc.pop("Holdings")
    return json.dumps(doc).encode()


def canonical_actions(*actions: dict[str, Any]) -> bytes:
    base = {"date": datetime(2024, 2, 20, tzinfo=UTC).isoformat()}
    return json.dumps({"actions": [{**base, **a} for a in actions]}).encode()


def itmo_action(action_type: str, first: int, last: int, *, acquiring: str | None = "CHE",
                transferring: str | None = None, account: str | None = None, vintage: int = 2023) -> dict[str, Any]:
    """A canonical action on the ITMO block CA0001-GHA01-GHA-<first..last>-<vintage>."""
    action: dict[str, Any] = {"action_type": action_type, "cooperative_approach": "CA0001", "registry": "GHA01",
                              "first_transferring_party": "GHA", "vintage": vintage, "first_id": first,
                              "last_id": last, "quantity": str(last - first + 1), "acquiring_party": acquiring,
                              "transferring_party": transferring}
    if account is not None:
        action["units"] = {"account": account}
    return action


def itmo_label(first: int, last: int, vintage: int = 2023) -> str:
    return f"{ITMO_SERIES}-{first}-{vintage}..{ITMO_SERIES}-{last}-{vintage}"


def held(client_answer: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(units, account, status)`` of a holdings answer."""
    return [(h["units"], h["account"], h["status"]) for h in client_answer["holdings"]]

"""A test network for the feeds: sandbox registries with read endpoints, a feed reader, seeded data.

Ports come from the range given to the feeds tests (18400-18499 by default, ``base``), so parallel test
runs of other areas on the machine do not collide with these."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from joserfc.jwk import Key
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.client import GatewayClient
from gateway.demo import Network, Registry
from gateway.sandbox.store import SandboxStore
from gateway.sandbox.units import parse_hold_spec
from gateway.trust.keys import generate_key, public_jwk
from gateway.trust.outbound import SIGNATURE_HEADER, sign_response
from tests.support.processes import ThreadedServer

READER = "unfccc-reader"


class FeedNetwork(Network):
    """A :class:`Network` whose registries in ``readable`` list ``endpoints.read``, plus a reader client
    (scope ``feeds:read``) and any ``extra`` participants (dead read endpoints, pushing registries)."""

    def __init__(self, registries: list[Registry], *, root: Path, base: int, readable: set[str],
                 extra: list[dict[str, Any]] | None = None, gateway_env: dict[str, str] | None = None,
                 gateways: int = 1) -> None:
        self.reader_key = generate_key("ES256", f"{READER}-1")
        reader = {"id": READER, "name": "Feed reader", "party": "DEU", "party_registry_id": "DEU01",
                  "status": "active", "format": "canonical", "jwks": {"keys": [public_jwk(self.reader_key)]},
                  "scopes": ["feeds:read"]}
        super().__init__(registries, root=root, gateway_env=gateway_env,
                         extra_participants=[reader, *(extra or [])], gateways=gateways)
        for i, registry in enumerate(registries):
            registry.port = base + gateways + i
        self.gateway_ports = [base + i for i in range(gateways)]
        self.gateway_port = base
        self.gateway_urls = [f"http://127.0.0.1:{port}" for port in self.gateway_ports]
        self.gateway_url = self.issuer = self.gateway_urls[0]
        self.readable = readable

    def _participants(self) -> list[dict[str, Any]]:
        entries = super()._participants()
        for entry in entries:
            if entry["id"] in self.readable:
                registry = self.registries[entry["id"]]
                entry["endpoints"]["read"] = registry.base_url + "/read"
            if entry["id"] in self.registries:
                entry["scopes"] = [*entry["scopes"], "feeds:read:own", "feeds:push"]
        return entries

    def reader(self, gateway: int = 0) -> GatewayClient:
        return GatewayClient(self.gateway_urls[gateway], READER, self.reader_key, scope="feeds:read",
                             issuer=self.issuer)

    def registry_reader(self, registry_id: str, scope: str) -> GatewayClient:
        r = self.registries[registry_id]
        assert r.key is not None
        return GatewayClient(self.gateway_url, r.id, r.key, scope=scope)


def seed_registry(root: Path, registry_id: str, *, holds: list[str], projects: list[dict[str, Any]]) -> None:
    """Seed a sandbox's SQLite file before it starts: blocks (as ``--hold`` specs) and projects."""
    store = SandboxStore(root / f"{registry_id}.sqlite3")
    try:
        entries = [parse_hold_spec(spec) for spec in holds]
        if entries:
            store.seed(entries, default_account="treasury", source=f"test-seed-{registry_id}")
        store.put_projects([(p["project_id"], json.dumps(p)) for p in projects])
    finally:
        store.close()


def dead_participant(participant_id: str, port: int, key: Key) -> dict[str, Any]:
    """A registry whose read endpoint nobody listens on."""
    return {"id": participant_id, "name": "Down registry", "party": "KEN", "party_registry_id": "KEN01",
            "status": "active", "format": "canonical",
            "endpoints": {"messages": f"http://127.0.0.1:{port}/messages", "read": f"http://127.0.0.1:{port}/read"},
            "issuer": f"http://127.0.0.1:{port}", "jwks": {"keys": [public_jwk(key)]},
            "message_kinds": ["transfers"], "scopes": ["messages:send"]}


def pushing_participant(participant_id: str, party: str, key: Key) -> dict[str, Any]:
    """A registry without a read endpoint: it pushes snapshots (canonical JSON)."""
    return {"id": participant_id, "name": "Pushing registry", "party": party, "party_registry_id": f"{party}01",
            "status": "active", "format": "canonical", "jwks": {"keys": [public_jwk(key)]},
            "message_kinds": ["transfers"], "scopes": ["feeds:push", "feeds:read:own"]}


class MisbehavingReadSide(ThreadedServer):
    """A registry's read side that answers ``mode``: ``unsigned`` (a good page without signature),
    ``garbage`` (a signed body that is not a canonical document) or ``refused`` (HTTP 503)."""

    def __init__(self, port: int, participant_id: str, key: Key, mode: str) -> None:
        async def read(request: Request) -> Response:
            if mode == "refused":
                return JSONResponse({"error": "maintenance"}, status_code=503)
            body = b'{"units": []}' if mode == "unsigned" else b"\x00 this is not JSON"
            headers = {} if mode == "unsigned" else {SIGNATURE_HEADER: sign_response(key, signer=participant_id,
                                                                                      body=body)}
            return Response(body, media_type="application/json", headers=headers)

        super().__init__(Starlette(routes=[Route("/read/{kind}", read)]), port=port, log_level="error")

    def start(self) -> MisbehavingReadSide:
        self.start_serving(timeout=10)
        return self

    def stop(self) -> None:
        self.stop_serving(timeout=5)


def misbehaving_participant(participant_id: str, port: int, key: Key) -> dict[str, Any]:
    entry = dead_participant(participant_id, port, key)
    entry["party_registry_id"] = "KEN02"
    return entry

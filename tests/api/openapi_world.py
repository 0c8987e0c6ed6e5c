"""The gateway in process for the tests of the committed OpenAPI document: a registry with every scope
and every message kind, a DPoP-bound token, and a way to sign any request the way a client must."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.protocol import MessageKind
from tests.support.apps import InProcessGateway
from tests.support.ports import free_port
from tests.trust.support import RegistryClient, TrustWorld

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
SENDER = "che-registry"
NONCE_CODES = ("DPOP.NONCE_STALE", "DPOP.NONCE_REQUIRED")
#: The one 5xx a request may get here: the receiving registry (not served in this world) is unreachable.
UNREACHABLE_RECEIVER = (502, "UPSTREAM.UNAVAILABLE")


@dataclass
class ApiWorld:
    gateway: InProcessGateway
    client: RegistryClient
    token: str
    world: TrustWorld

    def signed_headers(self, method: str, path: str) -> dict[str, str]:
        """Authorization and a fresh DPoP proof for ``method`` ``path`` (what a generated client adds)."""
        return {"Authorization": f"DPoP {self.token}",
                "DPoP": self.client.proof(method, path, access_token=self.token)}

    def assert_not_failing(self, response: httpx.Response) -> None:
        """No 5xx of the gateway's own: only the documented 502 for the receiver this world does not serve."""
        if response.status_code >= 500:
            assert (response.status_code, response.json().get("code")) == UNREACHABLE_RECEIVER, response.text[:300]
            assert "retry-after" in response.headers

    def learn_nonce(self, response: httpx.Response) -> bool:
        """Take the server nonce of a refusal that asks for one; True when the request should be retried."""
        if response.status_code == 401 and "dpop-nonce" in response.headers:
            body: dict[str, Any] = response.json()
            if body.get("code") in NONCE_CODES:
                self.client.nonce = response.headers["dpop-nonce"]
                return True
        return False


@pytest.fixture(scope="module")
def vendor_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    root = tmp_path_factory.mktemp("openapi")
    world = TrustWorld(root)

    def everything(content: dict[str, Any]) -> None:
        for entry in content["participants"]:
            if entry["id"] == SENDER:
                entry["message_kinds"] = [kind.value for kind in MessageKind]
                entry["scopes"] = ["peers:read", "messages:send", "metrics:read"]
    world.write_directory(everything)
    with pytest.MonkeyPatch.context() as patch:  # the transfer section reads its flat names from the environment
        patch.setenv("CARBONLINK_RATE_LIMIT_PER_MINUTE", "100000")
        patch.setenv("CARBONLINK_RATE_LIMIT_BURST", "100000")
        patch.setenv("CARBONLINK_DATA_DIR", str(root / "data"))
        # the receivers of this world are not served: a valid message ends in 502 UPSTREAM.UNAVAILABLE, fast
        patch.setenv("CARBONLINK_DELIVERY", json.dumps({"timeout": 0.5, "connect_timeout": 0.2, "retries": 0,
                                                        "backoff": 0.01, "retry_after": 5}))
        gateway = InProcessGateway(world.env(free_port()), root)
    client = RegistryClient(gateway.base, SENDER, world.clients[SENDER], http=gateway.client())
    token = client.get_token("peers:read messages:send metrics:read")
    yield ApiWorld(gateway, client, token, world)
    gateway.stop()

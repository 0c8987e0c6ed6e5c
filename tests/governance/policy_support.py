"""Shared pieces of the policy tests: a directory with a network operator, policy contents, officers' keys."""

from __future__ import annotations

import time
from typing import Any

from joserfc.jwk import Key

from gateway.governance import Policy, PolicyStore, sign_policy
from gateway.governance._policy import signer_keys
from gateway.trust.directory import Directory
from gateway.trust.keys import generate_key, public_jwk
from tests.governance.support import entry

#: Monday 2026-06-01 10:00 UTC (12:00 in Zurich).
MONDAY_10_UTC = 1780308000.0


class Officers:
    """Two officers of che-registry and one of gha-registry, with their private keys."""

    def __init__(self) -> None:
        self.keys = {"alice": generate_key("ES256", "alice-1"), "bob": generate_key("Ed25519", "bob-1"),
                     "gina": generate_key("ES256", "gina-1")}

    def listed(self, *names: str) -> list[dict[str, Any]]:
        return [{"id": name, "keys": [public_jwk(self.keys[name])]} for name in names]


class Network:
    """An anchor, a directory (CHE and GHA registries, a network operator) and policy contents to sign."""

    def __init__(self) -> None:
        self.anchor = generate_key("ES256", "anchor-1")
        self.operator_key = generate_key("ES256", "operator-1")
        self.registry_key = generate_key("ES256", "che-registry-1")
        self.officers = Officers()
        now = int(time.time())
        self.directory = Directory.model_validate({
            "iss": "test", "environment": "test", "sequence": 1, "iat": now - 10, "exp": now + 10 * 365 * 86400,
            "participants": [
                entry("che-registry", "CHE", roles=[{"role": "registry-operator"}], key=self.registry_key),
                entry("gha-registry", "GHA", roles=[{"role": "registry-operator"}]),
                entry("swe-registry", "SWE", roles=[{"role": "registry-operator"}]),
                entry("operator", "NOR", roles=[{"role": "network-operator"}], key=self.operator_key)]})
        self.people = {p.id: p for p in self.directory.participants}

    def content(self, version: int = 1, **che: Any) -> dict[str, Any]:
        controls = {"timezone": "Europe/Zurich", "four_eyes_above": "1000",
                    "officers": self.officers.listed("alice", "bob"), **che}
        return {"iss": "operator", "environment": "test", "version": version, "kinds": ["transfers"],
                "participants": {"che-registry": controls,
                                 "gha-registry": {"officers": self.officers.listed("gina")}}}

    def sign(self, content: dict[str, Any], key: Key | None = None, *, now: float = MONDAY_10_UTC,
             valid_for: int = 30 * 86400, not_before: float | None = None) -> str:
        return sign_policy(content, key or self.operator_key, now=int(now), valid_for=valid_for,
                           not_before=None if not_before is None else int(not_before))

    def keys(self) -> dict[str, Key]:
        return signer_keys({str(self.anchor.kid): self.anchor}, self.directory)

    def store(self, tokens: list[str], *, refresh: float = 3600) -> PolicyStore:
        """A policy store whose source hands out ``tokens`` in turn (the last one from then on)."""
        queue = list(tokens)

        def loader() -> str:
            return queue.pop(0) if len(queue) > 1 else queue[0]

        return PolicyStore(loader, self.keys, environment="test", refresh=refresh)


def policy_of(store: PolicyStore, now: float) -> Policy:
    return store.current(now)[0]

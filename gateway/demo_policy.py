"""The demo's transaction-controls policy: four eyes on the sending registry (docs/governance.md, Policy).

:func:`four_eyes_policy` writes a development policy, signed by the development anchor, under which a transfer of
more than ``threshold`` units from ``sender`` needs approvals by its two officers; :func:`approvals` signs them
for one message."""

from __future__ import annotations

from pathlib import Path

from joserfc.jwk import Key

from gateway.digests import sha256_hex
from gateway.governance import sign_approval, sign_policy
from gateway.trust import development
from gateway.trust.keys import generate_key, public_jwk


def four_eyes_policy(root: Path, sender: str, *, threshold: int) -> tuple[Path, dict[str, Key]]:
    """Write ``root/policy.jws``; return its path and the officers' private keys."""
    officers = {"officer-a": generate_key("ES256", "officer-a-1"), "officer-b": generate_key("Ed25519", "officer-b-1")}
    content = {"iss": "carbonlink-development-network-operator", "environment": "development", "version": 1,
               "participants": {sender: {"four_eyes_above": str(threshold), "officers": [
                   {"id": name, "keys": [public_jwk(key)]} for name, key in officers.items()]}}}
    path = root / "policy.jws"
    path.write_text(sign_policy(content, development.anchor(), valid_for=86400) + "\n", encoding="ascii")
    return path, officers


def approvals(officers: dict[str, Key], *, sender: str, message_id: str, body: bytes,
              kind: str = "transfers") -> list[str]:
    """Every officer's approval of one message."""
    return [sign_approval(key, officer=name, sender=sender, kind=kind, message_id=message_id,
                          body_sha256=sha256_hex(body)) for name, key in officers.items()]

"""Shared pieces of the governance tests: directory entries with roles, authorization statements and Article 6
actions citing them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gateway.trust.keys import generate_key, public_jwk
from standards.model import Action, ActionType, CanonicalDocument

AUTH_ID = "CHE-A6-2023-001"


def entry(pid: str, party: str, *, roles: list[dict[str, Any]] | None = None, key: Any = None,
          **extra: Any) -> dict[str, Any]:
    """A directory entry (a fresh key unless one is given)."""
    key = key or generate_key("ES256", f"{pid}-1")
    body: dict[str, Any] = {"id": pid, "party": party, "party_registry_id": f"{party}01", "status": "active",
                            "format": "aef", "jwks": {"keys": [public_jwk(key)]}, **extra}
    if roles is not None:
        body["roles"] = roles
    return body


def authority(party: str) -> list[dict[str, Any]]:
    return [{"role": "national-authority", "party": party}]


def statement(auth_id: str = AUTH_ID, **overrides: Any) -> dict[str, Any]:
    """An AEF T2 authorization in the canonical model: 1000 t for NDC use by GHA or SWE, 2021-2030."""
    body: dict[str, Any] = {"authorization_id": auth_id, "date": "2023-01-15", "cooperative_approach": "CA0001",
                            "authorized_quantity": "1000", "metric": "GHG", "sectors": "Energy generation",
                            "purposes": "NDC", "authorized_parties": ["GHA", "SWE"], "timeframe": "2021 - 2030"}
    body.update(overrides)
    return body


def first_transfer(quantity: int, *, auth_id: str | None = AUTH_ID, when: str = "2024-06-03", to: str = "GHA",
                   vintage: int = 2023, action_type: ActionType = ActionType.FIRST_TRANSFER, party: str = "CHE",
                   **extra: Any) -> CanonicalDocument:
    """A document of one action on ``quantity`` ITMOs of ``party`` citing ``auth_id``."""
    moment = datetime.fromisoformat(when).replace(tzinfo=UTC)
    fields: dict[str, Any] = {"cooperative_approach": "CA0001", **extra}
    action = Action(action_type=action_type, date=moment, authorization_id=auth_id, first_transferring_party=party,
                    registry=f"{party}01", first_id=1, last_id=quantity,
                    quantity=Decimal(quantity), metric="GHG", vintage=vintage,
                    acquiring_party=to if action_type is ActionType.FIRST_TRANSFER else None, **fields)
    return CanonicalDocument(actions=[action])

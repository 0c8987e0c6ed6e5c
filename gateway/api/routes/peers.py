"""Protected endpoints proving the chain end to end: ``/v1/whoami`` and ``/v1/peers``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.api.deps import CurrentCaller, TrustDep, require_scope

router = APIRouter(prefix="/v1", tags=["peers"])

_PROTECTED: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing, invalid or unbound token / DPoP proof (problem+json)"},
    403: {"description": "insufficient scope"},
}
_PUBLIC_FIELDS = (
    "id",
    "name",
    "party",
    "party_registry_id",
    "status",
    "format",
    "endpoints",
    "issuer",
    "jwks",
    "jwks_uri",
    "x5t#S256",
    "message_kinds",
)


@router.get("/whoami", responses=_PROTECTED, summary="The calling registry as the gateway authenticated it")
def whoami(caller: CurrentCaller) -> dict[str, Any]:
    p = caller.participant
    return {
        "client_id": p.id,
        "party": p.party,
        "party_registry_id": p.party_registry_id,
        "scopes": list(caller.token.scopes),
        "token_expires_at": caller.token.exp,
        "binding": "dpop" if caller.token.jkt else "mtls",
    }


@router.get(
    "/peers",
    responses=_PROTECTED,
    summary="The participant directory as the calling registry may see it (scope peers:read)",
)
def peers(caller: CurrentCaller, trust: TrustDep) -> dict[str, Any]:
    require_scope(caller, "peers:read")
    directory = trust.directory.current()
    entries = []
    for participant in directory.participants:
        view = participant.public_view()
        if participant.id != caller.participant.id:
            view = {k: v for k, v in view.items() if k in _PUBLIC_FIELDS}
        entries.append(view)
    return {
        "directory": {
            "iss": directory.iss,
            "environment": directory.environment,
            "sequence": directory.sequence,
            "iat": directory.iat,
            "exp": directory.exp,
        },
        "participants": entries,
    }

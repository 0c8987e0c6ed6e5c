"""Roles of participants in the signed directory: who operates, who verifies, who authorizes.

A directory entry may list ``roles``; each is a :class:`RoleGrant` (``{"role": "national-authority",
"party": "CHE"}``, ``{"role": "verifier", "sectors": ["Energy generation"]}``). A participant may hold
several. The OAuth scopes and message kinds of an entry with roles follow from them (:data:`ROLE_SCOPES`,
:data:`ROLE_KINDS`); an entry without roles keeps the scopes and kinds it lists, as before. Some scopes
are *reserved*: only a role grants them, so no entry can list them by hand (a registry cannot make itself
its Party's national authority: only the anchor that signs the directory can give that role).
See docs/governance.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.protocol import MessageKind
from standards.aef.vocab import NOMENCLATURE
from standards.parties import is_alpha3

__all__ = ["APPROVALS_WRITE", "AUTHORIZATIONS_ISSUE", "AUTHORIZATIONS_READ", "MRV_EVIDENCE", "POLICY_READ",
           "RESERVED_SCOPES", "ROLE_KINDS", "ROLE_SCOPES", "TITLE_READ", "Role", "RoleGrant", "kinds_of", "scopes_of"]

#: Issue, amend and revoke Article 6.2 authorizations of the holder's own Party.
AUTHORIZATIONS_ISSUE = "authorizations:issue"
#: Read the authorizations the gateway keeps (every Party's).
AUTHORIZATIONS_READ = "authorizations:read"
#: Read the transaction-controls policy in force (a registry operator: the network's terms and its own controls).
POLICY_READ = "policy:read"
#: Read the legal-title trail of a unit block or ITMO range (``GET /v1/title``).
TITLE_READ = "title:read"
#: Upload and read MRV evidence files (docs/mrv.md, gateway section).
MRV_EVIDENCE = "mrv:evidence"
#: Send officers' approvals of the participant's held messages and read its held queue (four eyes,
#: docs/governance.md).
APPROVALS_WRITE = "approvals:write"
#: Scopes no entry may list by hand: only a role grants them.
RESERVED_SCOPES = frozenset({AUTHORIZATIONS_ISSUE})


class Role(StrEnum):
    """What a participant does in the network."""

    REGISTRY_OPERATOR = "registry-operator"
    NATIONAL_AUTHORITY = "national-authority"
    MRV_SYSTEM = "mrv-system"
    VERIFIER = "verifier"
    INTERNATIONAL_BODY = "international-body"
    CONFORMANCE_OPERATOR = "conformance-operator"
    NETWORK_OPERATOR = "network-operator"


_REGISTRY_KINDS = frozenset({MessageKind.TRANSFERS, MessageKind.RETIREMENTS, MessageKind.CANCELLATIONS,
                             MessageKind.AUTHORIZATIONS, MessageKind.ACTIONS, MessageKind.ACCEPTANCES,
                             MessageKind.COMPLETIONS,
                             # MRV: a registry receives reports, verifications and issuance requests, and its
                             # answer to a request is the issuance notice (docs/mrv.md, gateway section)
                             MessageKind.MONITORING_REPORTS, MessageKind.VERIFICATIONS, MessageKind.ISSUANCE_REQUESTS,
                             MessageKind.ISSUANCE_NOTICES})

#: The OAuth scopes each role grants.
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.REGISTRY_OPERATOR: frozenset({"messages:send", "peers:read", "feeds:read:own", "feeds:push",
                                       "console:registry", POLICY_READ, MRV_EVIDENCE, APPROVALS_WRITE}),
    Role.NATIONAL_AUTHORITY: frozenset({AUTHORIZATIONS_ISSUE, AUTHORIZATIONS_READ, "peers:read", TITLE_READ}),
    Role.MRV_SYSTEM: frozenset({"feeds:push", "peers:read", "messages:send", MRV_EVIDENCE}),
    Role.VERIFIER: frozenset({"feeds:read", "peers:read", "messages:send", MRV_EVIDENCE}),
    Role.INTERNATIONAL_BODY: frozenset({"feeds:read", AUTHORIZATIONS_READ, TITLE_READ}),
    Role.CONFORMANCE_OPERATOR: frozenset({"conformance:run"}),
    Role.NETWORK_OPERATOR: frozenset({"console:network", "metrics:read", "peers:read", AUTHORIZATIONS_READ,
                                      POLICY_READ, TITLE_READ}),
}

#: The message kinds each role may send through the relay (only registries move units; an MRV system reports and
#: asks for issuance, a verifier verifies).
ROLE_KINDS: dict[Role, frozenset[MessageKind]] = {role: frozenset() for role in Role}
ROLE_KINDS[Role.REGISTRY_OPERATOR] = _REGISTRY_KINDS
ROLE_KINDS[Role.MRV_SYSTEM] = frozenset({MessageKind.MONITORING_REPORTS, MessageKind.ISSUANCE_REQUESTS})
ROLE_KINDS[Role.VERIFIER] = frozenset({MessageKind.VERIFICATIONS})


class RoleGrant(BaseModel):
    """One role of a participant, with what qualifies it (a national authority's Party, a verifier's
    sectors from the Common Nomenclature's sector list)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    party: str | None = Field(None, description="national-authority: the Party it authorizes for")
    sectors: list[str] = Field([], description="verifier: the sectors it is accredited for")

    @field_validator("party")
    @classmethod
    def _party(cls, value: str | None) -> str | None:
        if value is not None and not is_alpha3(value):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-3 Party code")
        return value

    @field_validator("sectors")
    @classmethod
    def _sectors(cls, value: list[str]) -> list[str]:
        known = NOMENCLATURE.lists["Sectors"].values
        unknown = [s for s in value if s not in known]
        if unknown:
            raise ValueError(f"unknown sector(s) {', '.join(map(repr, unknown))} (Common Nomenclature sectors)")
        return value

    def check_for(self, participant_party: str) -> None:
        """Raise ``ValueError`` when the grant does not fit the entry that holds it."""
        if self.role is Role.NATIONAL_AUTHORITY:
            if self.party is None:
                raise ValueError("a national-authority role names its Party")
            if self.party != participant_party:
                raise ValueError(f"a national authority of {self.party} must be a participant of {self.party}, "
                                 f"not {participant_party}")
        elif self.party is not None:
            raise ValueError(f"a {self.role.value} role names no Party")
        if self.role is Role.VERIFIER and not self.sectors:
            raise ValueError("a verifier role lists the sectors it is accredited for")
        if self.role is not Role.VERIFIER and self.sectors:
            raise ValueError(f"a {self.role.value} role lists no sectors")


def scopes_of(grants: Iterable[RoleGrant]) -> frozenset[str]:
    """Every scope the roles grant."""
    return frozenset().union(*(ROLE_SCOPES[g.role] for g in grants))


def kinds_of(grants: Iterable[RoleGrant]) -> frozenset[MessageKind]:
    """Every message kind the roles allow."""
    return frozenset().union(*(ROLE_KINDS[g.role] for g in grants))

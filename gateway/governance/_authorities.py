"""What national authorities do through the gateway: issue, amend (a new version) and revoke authorizations of
their own Party; and what readers see of them."""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.governance._records import (
    check_statement,
    in_force,
    open_revocation,
    open_version,
    seal_revocation,
    seal_version,
)
from gateway.governance._statements import Action, accept_statement, published_keys
from gateway.governance._store import AuthorizationStore
from gateway.governance.errors import (
    AuthorizationConflict,
    AuthorizationInvalid,
    AuthorizationNotFound,
    AuthorizationNotYours,
)
from gateway.trust.client_auth import JwksCache
from gateway.trust.directory import Participant
from gateway.trust.keys import SigningKeyRing
from gateway.trust.roles import Role


class Authorities:
    """Issues, amends, revokes and shows authorization records (signed with the gateway's keyring)."""

    def __init__(self, store: AuthorizationStore, keyring: SigningKeyRing, *,
                 jwks_cache: JwksCache | None = None) -> None:
        self.store = store
        self.keyring = keyring
        #: Fetches the keys of authorities that publish a ``jwks_uri`` (the trust layer's cache, when given).
        self.jwks_cache = jwks_cache or JwksCache()

    def close(self) -> None:
        self.store.close()

    @staticmethod
    def authority_of(caller: Participant, party: str) -> None:
        """Only a national authority of ``party`` (a role the anchor signed) may act for it."""
        if not caller.holds(Role.NATIONAL_AUTHORITY, party):
            raise AuthorizationNotYours(f"{caller.id!r} is not the national authority of {party} in the directory")

    def submit(self, caller: Participant, token: str, *, audience: str, action: Action,
               party: str | None = None, authorization_id: str | None = None) -> dict[str, Any]:
        """Issue, amend or revoke as the statement ``token`` says, signed by the caller with a key of its
        directory entry (``_statements``); the statement is kept inside the gateway's record."""
        signed = accept_statement(token, caller.jwks, signer=caller.id, audience=audience, action=action,
                                  party=party or caller.party, authorization_id=authorization_id,
                                  published=published_keys(caller, self.jwks_cache))
        self.authority_of(caller, signed.party)
        if action == "revoke":
            assert signed.effective is not None
            return self.revoke(caller, signed.party, signed.authorization_id, signed.effective, signed.reason,
                               signed=token)
        body = {**(signed.statement or {}), "version": signed.version}
        if body.get("authorization_id") != signed.authorization_id:
            raise AuthorizationInvalid(f"the statement is for {body.get('authorization_id')!r}, signed as "
                                       f"{signed.authorization_id!r}", code="GOVERNANCE.STATEMENT_INVALID")
        if action == "issue":
            return self.issue(caller, body, signed=token)
        return self.amend(caller, signed.party, signed.authorization_id, body, signed=token)

    def issue(self, caller: Participant, body: Any, *, signed: str | None = None) -> dict[str, Any]:
        """Version 1 of a new authorization of the caller's Party (``signed``: the authority's own statement,
        kept with the record)."""
        statement = check_statement(body)
        self.authority_of(caller, caller.party)
        if statement.version not in (None, 1):
            raise AuthorizationInvalid("a new authorization is version 1; amend it to make later versions")
        token = seal_version(self.keyring, caller.party, statement, 1, caller.id, signed)
        self.store.add_version(caller.party, statement.authorization_id, 1, token)
        return self.show(caller.party, statement.authorization_id)

    def amend(self, caller: Participant, party: str, authorization_id: str, body: Any, *,
              signed: str | None = None) -> dict[str, Any]:
        """The next version of an authorization (its terms replace the earlier version's from its date)."""
        self.authority_of(caller, party)
        statement = check_statement(body)
        if statement.authorization_id != authorization_id:
            raise AuthorizationInvalid(f"the statement is for {statement.authorization_id!r}, not {authorization_id!r}")
        versions = self.store.versions(party, authorization_id)
        if not versions:
            raise AuthorizationNotFound(f"{party} has no authorization {authorization_id!r} at this gateway")
        version = versions[-1].version + 1
        if statement.version is not None and statement.version < version:  # e.g. a replayed amendment
            raise AuthorizationConflict(f"version {statement.version} of {authorization_id!r} is already made")
        if statement.version not in (None, version):
            raise AuthorizationInvalid(f"the next version of {authorization_id!r} is {version}, "
                                       f"not {statement.version}")
        token = seal_version(self.keyring, party, statement, version, caller.id, signed)
        self.store.add_version(party, authorization_id, version, token)
        return self.show(party, authorization_id)

    def revoke(self, caller: Participant, party: str, authorization_id: str, effective: date,
               reason: str = "", *, signed: str | None = None) -> dict[str, Any]:
        """Revoke from ``effective`` on: actions dated then or later may no longer rely on it."""
        self.authority_of(caller, party)
        if not self.store.versions(party, authorization_id):
            raise AuthorizationNotFound(f"{party} has no authorization {authorization_id!r} at this gateway")
        token = seal_revocation(self.keyring, party, authorization_id, effective, caller.id, reason, signed)
        self.store.add_revocation(party, authorization_id, token)
        return self.show(party, authorization_id)

    def show(self, party: str, authorization_id: str) -> dict[str, Any]:
        """Every version (record and signed token), the revocation and the quantity drawn so far."""
        stored = self.store.versions(party, authorization_id)
        if not stored:
            raise AuthorizationNotFound(f"{party} has no authorization {authorization_id!r} at this gateway")
        revocation = self.store.revocation(party, authorization_id)
        versions = [{**open_version(s.token).record.model_dump(mode="json", exclude_none=True), "token": s.token}
                    for s in stored]
        return {"party": party, "authorization_id": authorization_id, "version": stored[-1].version,
                "status": "revoked" if revocation else "issued",
                "revocation": ({**open_revocation(revocation.token).model_dump(mode="json", exclude_none=True),
                                "token": revocation.token}
                               if revocation else None),
                "drawn": str(self.store.drawn(party, authorization_id)), "versions": versions}

    def listing(self, party: str | None = None) -> list[dict[str, Any]]:
        """The latest version of every authorization (of one Party)."""
        rows = []
        for stored in self.store.latest(party):
            record = open_version(stored.token).record
            statement = record.statement
            revoked = self.store.revocation(stored.party, stored.authorization_id) is not None
            rows.append({"party": stored.party, "authorization_id": stored.authorization_id,
                         "version": stored.version, "status": "revoked" if revoked else "issued",
                         "date": statement.get("date"), "cooperative_approach": statement.get("cooperative_approach"),
                         "authorized_quantity": statement.get("authorized_quantity"),
                         "purposes": statement.get("purposes"), "timeframe": statement.get("timeframe"),
                         "issued_by": record.issued_by})
        return rows

    def summary(self, party: str, authorization_id: str, on: date) -> dict[str, Any]:
        """One authorization as it stands on ``on``: the version in force then (``None`` before the first
        version's date) and its statement, the latest version, the revocation and the quantity drawn so far."""
        stored = self.store.versions(party, authorization_id)
        if not stored:
            raise AuthorizationNotFound(f"{party} has no authorization {authorization_id!r} at this gateway")
        current = in_force([open_version(s.token) for s in stored], on)
        shown = current if current is not None else open_version(stored[-1].token)
        revocation = self.store.revocation(party, authorization_id)
        return {"party": party, "authorization_id": authorization_id, "latest_version": stored[-1].version,
                "in_force_version": current.record.version if current else None,
                "statement": shown.record.statement, "drawn": str(self.store.drawn(party, authorization_id)),
                "revocation": open_revocation(revocation.token).model_dump(mode="json") if revocation else None}

    def overview(self, on: date, party: str | None = None) -> list[dict[str, Any]]:
        """:meth:`summary` of every authorization (of one Party) on ``on``, by Party and id."""
        return [self.summary(s.party, s.authorization_id, on) for s in self.store.latest(party)]

    def verify(self, token: str) -> dict[str, Any]:
        """A version record verified against the gateway's keys (offline checks use its JWKS the same way)."""
        return open_version(token, self.keyring).record.model_dump(mode="json")

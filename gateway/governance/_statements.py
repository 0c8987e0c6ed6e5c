"""Statements signed with the national authority's own key.

A national authority does not just send an authorization over its authenticated connection: it signs what it
issues, amends or revokes with its own key, one of the keys of its entry in the signed directory. The statement
is a compact JWS (``typ`` ``carbonlink-authority-statement+jwt``, media type ``application/jose``) whose payload
names the authority (``iss``), the gateway it is meant for (``aud``: the gateway's issuer), when it was signed
(``iat``), the Party, the action (``issue``, ``amend``, ``revoke``), the authorization and version, and the
statement (AEF T2 fields) or the revocation's ``effective`` date and ``reason``. The gateway checks it against
the directory (the entry's ``jwks``, or the keys it publishes at its ``jwks_uri``: :func:`published_keys`) and
keeps it inside its own record, so anyone holding the directory can check, offline, that the authority itself
said it (:func:`verify_statement`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Literal

from joserfc.jwk import Key
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.governance.errors import AuthorityKeysUnavailable, AuthorizationInvalid, StatementRefused
from gateway.trust import jose
from gateway.trust.client_auth import JwksCache
from gateway.trust.directory import Participant
from gateway.trust.errors import InvalidClient, JwsRejected
from gateway.trust.keys import public_key_set

STATEMENT_TYP = "carbonlink-authority-statement+jwt"
#: A statement must reach the gateway within this many seconds of being signed (either way, for clock skew).
FRESH_SECONDS = 600
Action = Literal["issue", "amend", "revoke"]
_REGISTRY = jose.make_registry(max_payload=256 * 1024)


class AuthorityStatement(BaseModel):
    """The payload of a statement signed by a national authority."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: str
    aud: str
    iat: int
    jti: str = Field(min_length=1, max_length=200)
    party: str
    action: Action
    authorization_id: str
    version: int | None = Field(None, ge=1)
    statement: dict[str, Any] | None = None
    effective: date | None = None
    reason: str = Field("", max_length=1000)


def sign_statement(key: Key, *, issuer: str, audience: str, party: str, action: Action, authorization_id: str,
                   version: int | None = None, statement: dict[str, Any] | None = None,
                   effective: date | str | None = None, reason: str = "", issued_at: int | None = None) -> str:
    """What a national authority sends: its statement signed with its own ``key`` (a key of its directory
    entry). ``issue`` and ``amend`` carry the ``statement`` and the ``version`` they make (1 for ``issue``);
    ``revoke`` carries ``effective`` and ``reason``."""
    payload = AuthorityStatement(
        iss=issuer, aud=audience, iat=int(time.time()) if issued_at is None else issued_at, jti=str(uuid.uuid4()),
        party=party, action=action, authorization_id=authorization_id,
        version=1 if action == "issue" and version is None else version, statement=statement,
        effective=date.fromisoformat(effective) if isinstance(effective, str) else effective, reason=reason)
    return jose.sign({"typ": STATEMENT_TYP}, payload.model_dump(mode="json", exclude_none=True), key)


def statement_for_route(key: Key, *, issuer: str, audience: str, path: str, body: dict[str, Any],
                        party: str | None = None, version: int | None = None) -> str:
    """The signed statement for a POST to ``path`` (``/v1/authorizations``, ``/v1/authorizations/{party}/{id}/
    versions`` or ``.../revocation``) of ``body`` (the statement, or ``{"effective", "reason"}``); ``party``
    names the issuing authority's Party on ``/v1/authorizations``, ``version`` the version an amendment makes."""
    parts = path.strip("/").split("/")
    if len(parts) == 2:
        return sign_statement(key, issuer=issuer, audience=audience, party=party or "", action="issue",
                              authorization_id=str(body.get("authorization_id", "")), statement=body)
    party, authorization_id, what = parts[2], parts[3], parts[4]
    if what == "revocation":
        return sign_statement(key, issuer=issuer, audience=audience, party=party, action="revoke",
                              authorization_id=authorization_id, effective=body.get("effective"),
                              reason=str(body.get("reason", "")))
    return sign_statement(key, issuer=issuer, audience=audience, party=party, action="amend",
                          authorization_id=authorization_id, version=version or body.get("version"), statement=body)


#: The keys of an authority published at its ``jwks_uri``: ``keys(refresh)``; ``refresh`` when a statement
#: names a kid the cached keys do not hold (the authority may have rotated its key).
PublishedKeys = Callable[[bool], Mapping[str, Key]]


def published_keys(participant: Participant, cache: JwksCache) -> PublishedKeys | None:
    """The keys of ``participant``'s ``jwks_uri`` (fetched with the gateway's JWKS cache: time-out, size cap,
    last good keys, a re-fetch on an unknown kid), when its directory entry names no inline ``jwks``."""
    uri = participant.jwks_uri
    if participant.jwks is not None or uri is None:
        return None

    def keys(refresh: bool) -> Mapping[str, Key]:
        try:
            return cache.keys(uri, refresh=refresh)
        except InvalidClient as exc:
            raise AuthorityKeysUnavailable(f"the keys of {participant.id!r} at its jwks_uri cannot be used: "
                                           f"{exc.message}") from exc
    return keys


def verify_statement(token: str, jwks: dict[str, Any] | None, *, signer: str,
                     published: PublishedKeys | None = None) -> AuthorityStatement:
    """The statement in ``token``, verified against ``jwks`` (the public keys of ``signer``'s directory entry)
    or, for an entry that publishes a ``jwks_uri``, the keys fetched from it (``published``);
    :class:`StatementRefused` when it is not signed by one of them or does not name ``signer`` as its issuer.
    Freshness and audience are the receiving gateway's checks (:func:`accept_statement`), not an offline
    reader's: a record read years later was fresh when the gateway took it."""
    if published is None:
        if not jwks:
            raise StatementRefused(f"{signer!r} has no keys in the directory to check its statement against")
        inline = public_key_set(jwks, what=f"participant {signer} jwks")
        published = lambda refresh: inline  # noqa: E731

    def key_for(header: dict[str, Any]) -> Key:
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise JwsRejected("KID", "the statement names no kid")
        keys = published(False)
        if kid not in keys:
            keys = published(True)
        if kid not in keys:
            raise JwsRejected("KID", f"the statement is signed with key {kid!r}, which is not a key of {signer!r} in "
                              "the directory")
        return keys[kid]

    try:
        verified = jose.verify(token, typ=[STATEMENT_TYP], key_for=key_for, registry=_REGISTRY,
                               max_bytes=512 * 1024)
        payload = AuthorityStatement.model_validate(verified.claims)
    except JwsRejected as exc:
        raise StatementRefused(f"the authority's statement does not verify: {exc.message}") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise AuthorizationInvalid(f"the authority's statement is malformed at {'/'.join(map(str, err['loc']))}: "
                                   f"{err['msg']}", code="GOVERNANCE.STATEMENT_INVALID") from exc
    if payload.iss != signer:
        raise StatementRefused(f"the statement names {payload.iss!r} as its issuer, but {signer!r} signed it")
    return payload


def accept_statement(token: str, jwks: dict[str, Any] | None, *, signer: str, audience: str, action: Action,
                     party: str, authorization_id: str | None, now: float | None = None,
                     published: PublishedKeys | None = None) -> AuthorityStatement:
    """A statement the gateway takes from ``signer`` (the authenticated caller) on the route of ``action``:
    signed by one of the caller's directory keys, meant for this gateway, fresh, and about what the route
    says. A replay is caught by what the statement binds: the version it makes (a version is made once) or
    the revocation (once), and the audience and freshness window."""
    payload = verify_statement(token, jwks, signer=signer, published=published)
    if payload.aud != audience:
        raise StatementRefused(f"the statement is meant for {payload.aud!r}, not this gateway ({audience!r})",
                               code="GOVERNANCE.STATEMENT_AUDIENCE")
    moment = time.time() if now is None else now
    if abs(moment - payload.iat) > FRESH_SECONDS:
        raise StatementRefused(f"the statement was signed at {payload.iat}, more than {FRESH_SECONDS} s from now: "
                               "sign it anew", code="GOVERNANCE.STATEMENT_STALE")
    if payload.action != action:
        raise StatementRefused(f"the statement is to {payload.action}, sent to the route that can {action}",
                               code="GOVERNANCE.STATEMENT_MISMATCH")
    if payload.party != party or (authorization_id is not None and payload.authorization_id != authorization_id):
        raise StatementRefused(f"the statement is about {payload.party}/{payload.authorization_id}, sent for "
                               f"{party}/{authorization_id or payload.authorization_id}",
                               code="GOVERNANCE.STATEMENT_MISMATCH")
    if (payload.statement is None) == (action != "revoke"):
        raise AuthorizationInvalid("an issue or amendment carries a statement, a revocation its effective date",
                                   code="GOVERNANCE.STATEMENT_INVALID")
    if action == "amend" and payload.version is None:  # what makes a replayed amendment a conflict
        raise AuthorizationInvalid("an amendment names the version it makes", code="GOVERNANCE.STATEMENT_INVALID")
    if action == "revoke" and payload.effective is None:
        raise AuthorizationInvalid("a revocation names its effective date", code="GOVERNANCE.STATEMENT_INVALID")
    return payload

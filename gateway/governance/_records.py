"""Authorization statements and their signed records.

A national authority sends a *statement*: one Article 6.2 authorization in the canonical model
(:class:`standards.model.Authorization`, the AEF T2 fields). The gateway checks it, gives it its version and
keeps it as a *record*: a compact JWS signed with the gateway's key (``typ`` ``carbonlink-authorization+jwt``)
whose payload names the Party, the authority that issued it and when; a revocation is a record of its own
(``carbonlink-authorization-revocation+jwt``). Anyone with the gateway's JWKS can check a record offline.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.evidence.record import utc_timestamp
from gateway.governance.errors import AuthorizationInvalid
from gateway.trust import jose
from gateway.trust.errors import JwsRejected
from gateway.trust.keys import SigningKeyRing
from standards.aef.vocab import NOMENCLATURE
from standards.model import Authorization
from standards.parties import is_alpha3

RECORD_TYP = "carbonlink-authorization+jwt"
REVOCATION_TYP = "carbonlink-authorization-revocation+jwt"
_TIMEFRAME = re.compile(r"^\s*(\d{4})\s*-\s*(\d{4})\s*$")
_AUTH_ID = re.compile(r"^[A-Za-z0-9 -]{1,100}$")
_REGISTRY = jose.make_registry(max_payload=256 * 1024)


def timeframe_years(value: str | None) -> tuple[int, int] | None:
    """The years of an authorized timeframe ``YYYY - YYYY`` (Common Nomenclature Table 20)."""
    m = _TIMEFRAME.match(value) if value else None
    return (int(m[1]), int(m[2])) if m else None


def purposes_of(value: str | None) -> frozenset[str]:
    """The purposes of ``PurposeForAuthorization`` (``NDC and OIMP`` -> NDC, OIMP)."""
    return frozenset(p.strip() for p in (value or "").split(" and ") if p.strip())


def check_statement(body: Any) -> Authorization:
    """A statement as the canonical Authorization, or :class:`AuthorizationInvalid` naming the field."""
    try:
        statement = Authorization.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "/".join(str(p) for p in err["loc"]) or "(body)"
        raise AuthorizationInvalid(f"the authorization statement is invalid at {where}: {err['msg']}") from exc
    problems: list[str] = []
    if not _AUTH_ID.match(statement.authorization_id):
        problems.append("authorization_id has characters other than letters, digits, spaces and hyphens "
                        "(Common Nomenclature, Table 7)")
    if not re.fullmatch(r"CA\d{4}", statement.cooperative_approach):
        problems.append("cooperative_approach is not CA#### (Common Nomenclature, Table 9(a))")
    if statement.purposes not in NOMENCLATURE.lists["PurposeForAuthorization"].values:
        problems.append(f"purposes {statement.purposes!r} is not a PurposeForAuthorization value "
                        f"({NOMENCLATURE.reference('PurposeForAuthorization')})")
    if statement.timeframe is not None and timeframe_years(statement.timeframe) is None:
        problems.append(f"timeframe {statement.timeframe!r} is not 'YYYY - YYYY' (Common Nomenclature, Table 20)")
    if statement.authorized_quantity is not None and statement.authorized_quantity <= 0:
        problems.append("authorized_quantity must be positive")
    bad_parties = [p for p in statement.authorized_parties if not is_alpha3(p)]
    if bad_parties:
        problems.append(f"authorized_parties {bad_parties} are not ISO 3166-1 alpha-3 Party codes")
    if problems:
        raise AuthorizationInvalid("the authorization statement is invalid: " + "; ".join(problems))
    return statement


class AuthorizationRecord(BaseModel):
    """The payload of a signed authorization record (one version)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party: str
    authorization_id: str
    version: int = Field(ge=1)
    issued_by: str
    recorded_at: str
    statement: dict[str, Any]
    #: The statement as the authority signed it (``_statements``); absent on records made without one.
    authority_statement: str | None = None

    def authorization(self) -> Authorization:
        return Authorization.model_validate(self.statement)


class RevocationRecord(BaseModel):
    """The payload of a signed revocation: from ``effective`` on, no action may rely on the authorization."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party: str
    authorization_id: str
    effective: date
    revoked_by: str
    recorded_at: str
    reason: str = ""
    authority_statement: str | None = None


@dataclass(frozen=True, slots=True)
class Version:
    """One version as the gate reads it: the record and the statement's terms, parsed once."""

    record: AuthorizationRecord
    authorization: Authorization
    token: str

    @property
    def cap(self) -> Decimal | None:
        return self.authorization.authorized_quantity

    @property
    def years(self) -> tuple[int, int] | None:
        return timeframe_years(self.authorization.timeframe)


def seal_version(keyring: SigningKeyRing, party: str, statement: Authorization, version: int, issued_by: str,
                 signed: str | None = None) -> str:
    """The signed record of one version (the statement's own ``version`` is set to it), with the authority's
    own signed statement when it sent one."""
    body = statement.model_copy(update={"version": version}).model_dump(mode="json", exclude_defaults=True)
    record = AuthorizationRecord(party=party, authorization_id=statement.authorization_id, version=version,
                                 issued_by=issued_by, recorded_at=utc_timestamp(), statement=body,
                                 authority_statement=signed)
    return keyring.sign({"typ": RECORD_TYP}, record.model_dump(mode="json", exclude_none=True))


def seal_revocation(keyring: SigningKeyRing, party: str, authorization_id: str, effective: date, revoked_by: str,
                    reason: str, signed: str | None = None) -> str:
    record = RevocationRecord(party=party, authorization_id=authorization_id, effective=effective,
                              revoked_by=revoked_by, recorded_at=utc_timestamp(), reason=reason,
                              authority_statement=signed)
    return keyring.sign({"typ": REVOCATION_TYP}, record.model_dump(mode="json", exclude_none=True))


def open_version(token: str, keyring: SigningKeyRing | None = None) -> Version:
    """Read a stored version record (verified against the gateway's keys when ``keyring`` is given; the gate
    reads its own store without, as a key retired long ago would no longer verify)."""
    claims = _verified(token, RECORD_TYP, keyring) if keyring is not None else _payload(token)
    record = AuthorizationRecord.model_validate(claims)
    return Version(record, record.authorization(), token)


def open_revocation(token: str, keyring: SigningKeyRing | None = None) -> RevocationRecord:
    claims = _verified(token, REVOCATION_TYP, keyring) if keyring is not None else _payload(token)
    return RevocationRecord.model_validate(claims)


def _payload(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    assert isinstance(claims, dict)
    return claims


def _verified(token: str, typ: str, keyring: SigningKeyRing) -> dict[str, Any]:
    try:
        verified = jose.verify(token, typ=[typ], key_for=lambda h: keyring.verification_key(h.get("kid")),
                               registry=_REGISTRY, max_bytes=512 * 1024)
    except JwsRejected as exc:
        raise AuthorizationInvalid(f"a stored authorization record does not verify: {exc.message}",
                                   code="GOVERNANCE.RECORD_SIGNATURE") from exc
    return verified.claims


def in_force(versions: list[Version], when: datetime | date) -> Version | None:
    """The version in force on ``when``: the latest dated on or before it (by date of authorization, then
    version), as AEF T2 reports versions; ``None`` before the first."""
    day = when.date() if isinstance(when, datetime) else when
    dated = [v for v in versions if v.authorization.date <= day]
    return max(dated, key=lambda v: (v.authorization.date, v.record.version)) if dated else None

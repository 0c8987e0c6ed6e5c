"""Checking an authorization's records offline: what ``GET /v1/authorizations/{party}/{id}`` (or ``carbonlink
authorizations show --json``) gives, against the gateway's public keys and the signed directory.

Each version and the revocation must be a record signed by the gateway (its JWKS) whose payload is what is
shown, and carry the statement the national authority signed with its own key: a key of its entry in the
directory, an entry that holds the national-authority role of the record's Party, about the same authorization,
version and terms. Each failure is a coded finding; no finding means every signature checked.
"""

from __future__ import annotations

from typing import Any

from joserfc.jwk import Key

from gateway.governance._records import _REGISTRY, RECORD_TYP, REVOCATION_TYP
from gateway.governance._statements import verify_statement
from gateway.governance.errors import GovernanceError
from gateway.trust import jose
from gateway.trust.directory import Directory
from gateway.trust.errors import JwsRejected
from gateway.trust.roles import Role


def _finding(code: str, where: str, message: str) -> dict[str, str]:
    return {"code": code, "path": where, "message": message}


def _gateway_claims(token: str, typ: str, keys: dict[str, Key]) -> dict[str, Any]:
    def key_for(header: dict[str, Any]) -> Key:
        kid = header.get("kid")
        if kid not in keys:
            raise JwsRejected("KID", f"key {kid!r} is not in the gateway's JWKS")
        return keys[kid]

    return jose.verify(token, typ=[typ], key_for=key_for, registry=_REGISTRY, max_bytes=512 * 1024).claims


def _check_record(record: dict[str, Any], where: str, typ: str, keys: dict[str, Key], directory: Directory,
                  party: str, authorization_id: str) -> list[dict[str, str]]:
    token = record.get("token")
    if not isinstance(token, str):
        return [_finding("GOVERNANCE.RECORD_SIGNATURE", where, "the record has no signed token")]
    try:
        claims = _gateway_claims(token, typ, keys)
    except JwsRejected as exc:
        return [_finding("GOVERNANCE.RECORD_SIGNATURE", where, f"not signed by the gateway: {exc.message}")]
    shown = {k: v for k, v in record.items() if k != "token" and v is not None}
    if {k: v for k, v in claims.items() if v is not None} != shown:
        return [_finding("GOVERNANCE.RECORD_ALTERED", where, "what is shown is not what the gateway signed")]
    signer = str(claims.get("issued_by") or claims.get("revoked_by"))
    signed = claims.get("authority_statement")
    if not isinstance(signed, str):
        return [_finding("GOVERNANCE.STATEMENT_UNSIGNED", where, f"{signer!r} did not sign this with its own key "
                                                               "(a record made without the authority's statement)")]
    entry = directory.get(signer)
    if entry is None:
        return [_finding("GOVERNANCE.STATEMENT_SIGNATURE", where, f"{signer!r} is not in the directory")]
    try:
        statement = verify_statement(signed, entry.jwks, signer=signer)
    except GovernanceError as exc:
        return [_finding(exc.code, where, exc.message)]
    findings = []
    if not entry.holds(Role.NATIONAL_AUTHORITY, party):
        findings.append(_finding("GOVERNANCE.NOT_NATIONAL_AUTHORITY", where,
                                 f"{signer!r} is not the national authority of {party} in this directory"))
    same = statement.party == party and statement.authorization_id == authorization_id
    if typ == RECORD_TYP:
        terms = {k: v for k, v in (statement.statement or {}).items() if k != "version"}
        kept = {k: v for k, v in claims["statement"].items() if k != "version"}
        same = same and statement.version == claims["version"] and _canonical(terms) == _canonical(kept)
    else:
        same = same and statement.effective is not None and statement.effective.isoformat() == claims["effective"]
    if not same:
        findings.append(_finding("GOVERNANCE.STATEMENT_MISMATCH", where,
                                 "the authority's signed statement says something else than the record"))
    return findings


def _canonical(terms: dict[str, Any]) -> dict[str, Any]:
    """Terms as the canonical model writes them (the gateway keeps the statement so; the authority may have
    written quantities as numbers or left defaults in)."""
    from standards.model import Authorization

    try:
        return Authorization.model_validate(terms).model_dump(mode="json", exclude_defaults=True, exclude={"version"})
    except ValueError:
        return terms


def check_authorization(shown: dict[str, Any], gateway_keys: dict[str, Key], directory: Directory
                        ) -> list[dict[str, str]]:
    """Findings on every record of one authorization as served (empty: all verified)."""
    party, authorization_id = str(shown.get("party")), str(shown.get("authorization_id"))
    findings: list[dict[str, str]] = []
    for index, version in enumerate(shown.get("versions") or []):
        findings += _check_record(version, f"/versions/{index}", RECORD_TYP, gateway_keys, directory, party,
                                  authorization_id)
    if shown.get("revocation"):
        findings += _check_record(shown["revocation"], "/revocation", REVOCATION_TYP, gateway_keys, directory,
                                  party, authorization_id)
    if not shown.get("versions"):
        findings.append(_finding("GOVERNANCE.RECORD_SIGNATURE", "/versions", "no versions to check"))
    return findings

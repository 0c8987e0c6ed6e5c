"""The certificate: a compact JWS (RFC 7515) signed by the suite operator's key.

Issued only when every required test passed. Its claims name the kit and version, the target, the
date (``iat``), the validity (``nbf``/``exp``, RFC 7519 §4.1) and the SHA-256 digest of the full
results document's results (``digest``), so a results file can be checked against it. Signing and
verifying go through the gateway's JOSE layer (:mod:`gateway.trust.jose`: allow-listed algorithms,
``typ`` checked); the operator's keys are JWKs as ``carbonlink keys generate`` writes them.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import Key

from conformance._results import RunResult, document_digest
from conformance.errors import CertificateInvalid, ConformanceError
from gateway.trust import jose
from gateway.trust.errors import JwsRejected
from gateway.trust.keys import import_jwk, public_key_set
from standards.errors import CarbonlinkError
from standards.safeio import load_json, read_bytes

TYP = "carbonlink-conformance+jwt"
DEFAULT_VALIDITY_DAYS = 365
_DAY = 86_400


@dataclass(frozen=True, slots=True)
class Certificate:
    """A verified certificate's claims."""

    issuer: str
    target: str
    kit: str
    kit_version: str
    issued_at: int
    expires_at: int
    digest: str
    claims: dict[str, Any]


def load_private_key(path: Path) -> Key:
    """The operator's private JWK (one key with a ``kid``)."""
    try:
        return import_jwk(load_json(read_bytes(path), what="operator key"), private=True, what=str(path))
    except CarbonlinkError as exc:
        raise ConformanceError(f"the operator key {path} is unusable: {exc.message}") from exc


def load_public_keys(path: Path) -> dict[str, Key]:
    """The operator's public keys: a JWKS, or one public JWK."""
    try:
        doc = load_json(read_bytes(path), what="operator keys")
        if isinstance(doc, dict) and "keys" not in doc:
            doc = {"keys": [{k: v for k, v in doc.items() if k not in jose._PRIVATE_JWK_MEMBERS}]}
        return public_key_set(doc, what=str(path))
    except CarbonlinkError as exc:
        raise ConformanceError(f"the operator keys {path} are unusable: {exc.message}") from exc


def issue(run: RunResult, key: Key, *, issuer: str, validity_days: int = DEFAULT_VALIDITY_DAYS,
          now: int | None = None) -> str:
    """Sign a certificate for a run; refuses a run in which a required test did not pass."""
    if not run.passed:
        raise ConformanceError(f"no certificate: {len(run.blocking())} required results did not pass",
                               code="CONFORMANCE.NOT_CERTIFIABLE")
    issued = int(time.time()) if now is None else now
    claims = {"iss": issuer, "sub": run.target, "iat": issued, "nbf": issued, "exp": issued + validity_days * _DAY,
              "jti": secrets.token_urlsafe(16), "kit": {"name": run.kit.name, "version": run.kit.version},
              "digest": run.digest(), "counts": run.counts()}
    return jose.sign({"typ": TYP}, claims, key)


def verify(token: str, keys: Mapping[str, Key], *, now: int | None = None,
           results: Mapping[str, Any] | None = None) -> Certificate:
    """Verify the signature against the operator's keys, the validity window, and (given the results
    document) that the results are the ones certified."""
    def key_for(header: dict[str, Any]) -> Key:
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in keys:
            raise JwsRejected("KEY", f"the certificate is signed with key {kid!r}, which is not the operator's")
        return keys[kid]

    try:
        verified = jose.verify(token.strip(), typ=(TYP,), key_for=key_for)
    except JwsRejected as exc:
        raise CertificateInvalid(f"{exc.code}: {exc.message}") from exc
    claims = verified.claims
    try:
        cert = Certificate(str(claims["iss"]), str(claims["sub"]), str(claims["kit"]["name"]),
                           str(claims["kit"]["version"]), int(claims["iat"]), int(claims["exp"]), str(claims["digest"]),
                           claims)
    except (KeyError, TypeError, ValueError) as exc:
        raise CertificateInvalid(f"the certificate lacks a claim it needs: {exc}") from exc
    moment = int(time.time()) if now is None else now
    if moment >= cert.expires_at:
        raise CertificateInvalid(f"the certificate expired at {cert.expires_at} (unix time)",
                                 code="CONFORMANCE.CERTIFICATE_EXPIRED")
    if moment < int(claims.get("nbf", cert.issued_at)):
        raise CertificateInvalid("the certificate is not valid yet")
    if results is not None and document_digest(results) != cert.digest:
        raise CertificateInvalid(f"the results document's digest {document_digest(results)} is not the certified "
                                 f"{cert.digest}", code="CONFORMANCE.DIGEST_MISMATCH")
    return cert

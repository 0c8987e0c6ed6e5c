"""Errors of the trust layer. Each carries a stable ``code``; :mod:`gateway.errors` maps the
classes onto HTTP answers (RFC 9457 problem+json, or RFC 6749/6750/9449 OAuth error bodies)."""

from __future__ import annotations

from standards.errors import CarbonlinkError


class TrustError(CarbonlinkError):
    """Base of every trust-layer refusal (the OAuth error name of each is in :mod:`gateway.errors`)."""

    code = "TRUST.ERROR"


class ConfigurationError(TrustError):
    """The gateway's own trust configuration is unusable (keys, anchors, environment)."""

    code = "TRUST.CONFIGURATION"


class InvalidRequest(TrustError):
    code = "OAUTH.INVALID_REQUEST"


class UnsupportedGrantType(TrustError):
    code = "OAUTH.UNSUPPORTED_GRANT_TYPE"


class InvalidScope(TrustError):
    code = "OAUTH.INVALID_SCOPE"


class InvalidClient(TrustError):
    """Client authentication at the token endpoint failed."""

    code = "CLIENT.INVALID"


class InvalidToken(TrustError):
    """An access token (or its binding) was refused at a protected endpoint."""

    code = "TOKEN.INVALID"


class InsufficientScope(TrustError):
    code = "TOKEN.INSUFFICIENT_SCOPE"


class InvalidDPoPProof(TrustError):
    code = "DPOP.INVALID"


class UseDPoPNonce(InvalidDPoPProof):
    """The proof lacks the current server nonce; ``nonce`` is the one to use."""

    code = "DPOP.NONCE_REQUIRED"

    def __init__(self, message: str, *, nonce: str, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.nonce = nonce


class DirectoryError(TrustError):
    """The participant directory is unusable: bad signature, expired, malformed, unreachable."""

    code = "DIRECTORY.INVALID"


class DirectoryExpired(DirectoryError):
    code = "DIRECTORY.EXPIRED"


class DirectoryUnavailable(DirectoryError):
    code = "DIRECTORY.UNAVAILABLE"


class ParticipantUnknown(TrustError):
    code = "PARTICIPANT.UNKNOWN"


class PeerError(TrustError):
    """A peer registry answered outbound calls badly or not at all."""

    code = "OUTBOUND.PEER"


class ResponseSignatureInvalid(PeerError):
    """A registry's signed response does not verify against the key the directory names."""

    code = "OUTBOUND.RESPONSE_SIGNATURE"


class ReplayStoreUnavailable(TrustError):
    code = "TRUST.REPLAY_STORE_UNAVAILABLE"


class JwsRejected(TrustError):
    """A JWS failed a check; ``reason`` is a short stable suffix for the caller's error code."""

    code = "JWS.REJECTED"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, code=f"JWS.{reason}")
        self.reason = reason


class ClaimsUnwritable(TrustError):
    """Claims to be signed that a JWS payload cannot carry (not JSON-representable, or an access token that is
    not ASCII): nothing is signed."""

    code = "JWS.CLAIMS"


class ServiceUnavailable(TrustError):
    """The gateway is in maintenance mode (or cannot serve safely right now)."""

    code = "SERVICE.MAINTENANCE"

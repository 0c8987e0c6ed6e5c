"""Errors of the trust layer. Each carries a stable ``code``; :mod:`gateway.errors` maps the
classes onto HTTP answers (RFC 9457 problem+json, or RFC 6749/6750/9449 OAuth error bodies)."""

from __future__ import annotations

from standards.errors import CarbonlinkError


class TrustError(CarbonlinkError):
    """Base of every trust-layer refusal. ``oauth_error`` is the OAuth error name, when one fits."""

    code = "TRUST.ERROR"
    oauth_error: str | None = None


class ConfigurationError(TrustError):
    """The gateway's own trust configuration is unusable (keys, anchors, environment)."""

    code = "TRUST.CONFIGURATION"


class InvalidRequest(TrustError):
    code = "OAUTH.INVALID_REQUEST"
    oauth_error = "invalid_request"


class UnsupportedGrantType(TrustError):
    code = "OAUTH.UNSUPPORTED_GRANT_TYPE"
    oauth_error = "unsupported_grant_type"


class InvalidScope(TrustError):
    code = "OAUTH.INVALID_SCOPE"
    oauth_error = "invalid_scope"


class InvalidClient(TrustError):
    """Client authentication at the token endpoint failed."""

    code = "CLIENT.INVALID"
    oauth_error = "invalid_client"


class InvalidToken(TrustError):
    """An access token (or its binding) was refused at a protected endpoint."""

    code = "TOKEN.INVALID"
    oauth_error = "invalid_token"


class InsufficientScope(TrustError):
    code = "TOKEN.INSUFFICIENT_SCOPE"
    oauth_error = "insufficient_scope"


class InvalidDPoPProof(TrustError):
    code = "DPOP.INVALID"
    oauth_error = "invalid_dpop_proof"


class UseDPoPNonce(InvalidDPoPProof):
    """The proof lacks the current server nonce; ``nonce`` is the one to use."""

    code = "DPOP.NONCE_REQUIRED"
    oauth_error = "use_dpop_nonce"

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


class ServiceUnavailable(TrustError):
    """The gateway is in maintenance mode (or cannot serve safely right now)."""

    code = "SERVICE.MAINTENANCE"

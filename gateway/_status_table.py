"""The status table: every domain error class the gateway or the sandbox registry can raise, mapped
onto its HTTP status and OAuth error name (RFC 6749 §5.2, RFC 6750 §3.1, RFC 9449 §7.1).

:func:`gateway.errors.answer_for` walks an error's MRO and takes the first class listed here, so a
class inherits its parent's answer unless it has its own row. ``CarbonlinkError`` is the last resort
(400).
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.errors import (
    CertificateRequired,
    ConformanceError,
    KitNotServed,
    RunUnknown,
    TargetUnusable,
    UnknownKit,
)
from gateway.console.errors import (
    ConsoleError,
    ConsoleForbidden,
    ConsoleInputInvalid,
    ConsoleNotFound,
    CsrfRefused,
    DevLoginDisabled,
    SignedOut,
    TicketRefused,
)
from gateway.evidence.errors import EvidenceError
from gateway.feeds.errors import (
    ChangesCompacted,
    FeedError,
    FeedForbidden,
    FeedQueryInvalid,
    FeedStoreUnavailable,
    SnapshotInvalid,
    SourceFailure,
    SubscriptionUnknown,
)
from gateway.governance.errors import (
    ApprovalPending,
    AuthorityKeysUnavailable,
    AuthorizationConflict,
    AuthorizationInvalid,
    AuthorizationNotFound,
    AuthorizationNotYours,
    AuthorizationRefused,
    AuthorizationStoreUnavailable,
    ControlsStoreUnavailable,
    GovernanceError,
    HeldStoreUnavailable,
    HoldConflict,
    HoldEnded,
    HoldNotFound,
    PolicyError,
    PolicyNotConfigured,
    PolicyRefused,
    PolicyUnavailable,
    StatementRefused,
)
from gateway.idempotency.store import (
    ClaimInProgress,
    IdempotencyConflict,
    IdempotencyError,
    IdempotencyStoreUnavailable,
)
from gateway.mrv.errors import (
    AlreadyRequested,
    EvidenceDigestMismatch,
    EvidenceNotFound,
    EvidenceTooLarge,
    MrvContentType,
    MrvError,
    MrvRefused,
    MrvRoleRefused,
    MrvStoreUnavailable,
    PeriodOverlap,
    VerifierNotAccredited,
    VerifierNotIndependent,
)
from gateway.sandbox.errors import (
    AlreadySettled,
    BodyTooLarge,
    GatewayAuthError,
    GatewayKeysUnavailable,
    MessageIdMissing,
    MessageIdReused,
    NoPendingDebit,
    OperatorAuthError,
    SandboxConfigError,
    SandboxError,
    UnitsUnidentified,
)
from gateway.title import TitleError
from gateway.transfers.errors import (
    ContentTypeRefused,
    KindMismatch,
    KindNotAllowed,
    MessageIdInvalid,
    NoticeContentType,
    NoticeError,
    NoticeNotAParty,
    NoticeState,
    NoticeUnknownMessage,
    OutputInvalid,
    ReceiverUnknown,
    RegistryTimeout,
    SenderMismatch,
    TransferError,
    UpstreamError,
)
from gateway.transfers.ratelimit import RateLimited, RateLimitStoreUnavailable
from gateway.trust.errors import (
    ConfigurationError,
    DirectoryError,
    InsufficientScope,
    InvalidClient,
    InvalidDPoPProof,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    ParticipantUnknown,
    PeerError,
    ReplayStoreUnavailable,
    ServiceUnavailable,
    TrustError,
    UnsupportedGrantType,
    UseDPoPNonce,
)
from standards.errors import (
    CarbonlinkError,
    InputError,
    InputTooLarge,
    TranslationError,
    UnknownFormat,
    ValidationFailed,
)


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """How one error class is answered: its status and OAuth error name, and where the token endpoint
    (``/oauth/*``) answers differently, the status and name there. ``retry_after`` is the
    Retry-After (seconds) sent when the error itself names none."""

    status: int
    oauth: str | None = None
    token_status: int | None = None
    token_oauth: str | None = None
    retry_after: int | None = None

    def status_at(self, token_endpoint: bool) -> int:
        return self.token_status if token_endpoint and self.token_status is not None else self.status

    def oauth_at(self, token_endpoint: bool) -> str | None:
        return self.token_oauth if token_endpoint and self.token_oauth is not None else self.oauth


_CLIENT_OR_TOKEN = HttpAnswer(401, "invalid_token", token_oauth="invalid_client")

STATUS_TABLE: dict[type[CarbonlinkError], HttpAnswer] = {
    CarbonlinkError: HttpAnswer(400),
    # standards
    InputError: HttpAnswer(400, "invalid_request"),
    InputTooLarge: HttpAnswer(413, "invalid_request"),
    ValidationFailed: HttpAnswer(422),
    UnknownFormat: HttpAnswer(400),
    TranslationError: HttpAnswer(400),
    # trust layer
    TrustError: HttpAnswer(400),
    ConfigurationError: HttpAnswer(500),
    InvalidRequest: HttpAnswer(400, "invalid_request"),
    UnsupportedGrantType: HttpAnswer(400, "unsupported_grant_type"),
    InvalidScope: HttpAnswer(400, "invalid_scope"),
    InvalidClient: HttpAnswer(401, "invalid_client"),
    InvalidToken: HttpAnswer(401, "invalid_token"),
    InsufficientScope: HttpAnswer(403, "insufficient_scope"),
    InvalidDPoPProof: HttpAnswer(401, "invalid_dpop_proof", token_status=400),
    UseDPoPNonce: HttpAnswer(401, "use_dpop_nonce", token_status=400),
    DirectoryError: _CLIENT_OR_TOKEN,
    ParticipantUnknown: _CLIENT_OR_TOKEN,
    PeerError: HttpAnswer(502),
    ReplayStoreUnavailable: HttpAnswer(503),
    ServiceUnavailable: HttpAnswer(503, retry_after=30),
    # transfer path
    TransferError: HttpAnswer(400),
    KindNotAllowed: HttpAnswer(403),
    KindMismatch: HttpAnswer(422),
    SenderMismatch: HttpAnswer(403),
    ReceiverUnknown: HttpAnswer(422),
    MessageIdInvalid: HttpAnswer(400),
    OutputInvalid: HttpAnswer(422),
    ContentTypeRefused: HttpAnswer(415),
    NoticeError: HttpAnswer(422),
    NoticeContentType: HttpAnswer(415),
    NoticeUnknownMessage: HttpAnswer(422),
    NoticeNotAParty: HttpAnswer(403),
    NoticeState: HttpAnswer(422),
    UpstreamError: HttpAnswer(502),
    RegistryTimeout: HttpAnswer(504),
    RateLimited: HttpAnswer(429),
    RateLimitStoreUnavailable: HttpAnswer(503),
    # idempotency and evidence
    IdempotencyError: HttpAnswer(400),
    IdempotencyConflict: HttpAnswer(409),
    ClaimInProgress: HttpAnswer(409),
    IdempotencyStoreUnavailable: HttpAnswer(503),
    EvidenceError: HttpAnswer(503),
    # sandbox registry
    SandboxError: HttpAnswer(400),
    SandboxConfigError: HttpAnswer(500),
    GatewayAuthError: HttpAnswer(401),
    OperatorAuthError: HttpAnswer(401),
    MessageIdMissing: HttpAnswer(400),
    MessageIdReused: HttpAnswer(409),
    BodyTooLarge: HttpAnswer(413),
    NoPendingDebit: HttpAnswer(404),
    AlreadySettled: HttpAnswer(409),
    UnitsUnidentified: HttpAnswer(422),
    GatewayKeysUnavailable: HttpAnswer(503),
    # conformance runs
    ConformanceError: HttpAnswer(400),
    UnknownKit: HttpAnswer(404),
    RunUnknown: HttpAnswer(404),
    KitNotServed: HttpAnswer(422),
    TargetUnusable: HttpAnswer(422),
    CertificateRequired: HttpAnswer(403),
    # harmonized feeds
    FeedError: HttpAnswer(500),
    FeedQueryInvalid: HttpAnswer(400),
    FeedForbidden: HttpAnswer(403),
    SnapshotInvalid: HttpAnswer(422),
    SourceFailure: HttpAnswer(502),
    SubscriptionUnknown: HttpAnswer(404),
    FeedStoreUnavailable: HttpAnswer(503),
    ChangesCompacted: HttpAnswer(410),
    # operator console
    ConsoleError: HttpAnswer(400),
    SignedOut: HttpAnswer(401),
    ConsoleForbidden: HttpAnswer(403),
    CsrfRefused: HttpAnswer(403),
    TicketRefused: HttpAnswer(401),
    ConsoleNotFound: HttpAnswer(404),
    ConsoleInputInvalid: HttpAnswer(400),
    DevLoginDisabled: HttpAnswer(404),
    # governance: authorizations and their enforcement (docs/governance.md)
    GovernanceError: HttpAnswer(500),
    AuthorizationInvalid: HttpAnswer(422),
    AuthorizationNotYours: HttpAnswer(403),
    AuthorizationConflict: HttpAnswer(409),
    AuthorizationNotFound: HttpAnswer(404),
    AuthorizationStoreUnavailable: HttpAnswer(503),
    AuthorizationRefused: HttpAnswer(403),
    # governance: the transaction-controls policy (docs/governance.md, Policy)
    PolicyRefused: HttpAnswer(403),
    PolicyUnavailable: HttpAnswer(503, retry_after=30),
    PolicyError: HttpAnswer(422),
    PolicyNotConfigured: HttpAnswer(404),
    ApprovalPending: HttpAnswer(403),
    HoldNotFound: HttpAnswer(404),
    HoldConflict: HttpAnswer(409),
    HoldEnded: HttpAnswer(410),
    HeldStoreUnavailable: HttpAnswer(503, retry_after=5),
    ControlsStoreUnavailable: HttpAnswer(503, retry_after=5),
    StatementRefused: HttpAnswer(403),
    AuthorityKeysUnavailable: HttpAnswer(503, retry_after=30),
    TitleError: HttpAnswer(422),
    # digital MRV at the gateway (docs/mrv.md, gateway section); BlockQuantity is an UpstreamError (502)
    MrvError: HttpAnswer(500),
    MrvStoreUnavailable: HttpAnswer(503),
    MrvContentType: HttpAnswer(415),
    MrvRoleRefused: HttpAnswer(403),
    MrvRefused: HttpAnswer(422),
    VerifierNotAccredited: HttpAnswer(403),
    VerifierNotIndependent: HttpAnswer(403),
    PeriodOverlap: HttpAnswer(409),
    AlreadyRequested: HttpAnswer(409),
    EvidenceDigestMismatch: HttpAnswer(422),
    EvidenceTooLarge: HttpAnswer(413),
    EvidenceNotFound: HttpAnswer(404),
}

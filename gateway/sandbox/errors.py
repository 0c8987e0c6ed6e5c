"""Errors of the sandbox registry. Each has a stable ``code``; the sandbox's HTTP layer
(:mod:`gateway.sandbox.app`) turns them into signed problem answers."""

from __future__ import annotations

from standards.errors import CarbonlinkError


class SandboxError(CarbonlinkError):
    code = "SANDBOX.ERROR"
    status = 400


class SandboxConfigError(SandboxError):
    """The sandbox cannot start: bad format, seed file, key, JWKS source."""

    code = "SANDBOX.CONFIG"
    status = 500


class GatewayAuthError(SandboxError):
    """The caller is not the gateway (token missing, forged, expired, for another registry, replayed)."""

    code = "SANDBOX.AUTH"
    status = 401


class OperatorAuthError(SandboxError):
    """An operator endpoint was called without the operator token."""

    code = "SANDBOX.OPERATOR_AUTH"
    status = 401


class MessageIdMissing(SandboxError):
    code = "SANDBOX.MESSAGE_ID_MISSING"
    status = 400


class MessageIdReused(SandboxError):
    """The same sender reused a message id with a different body."""

    code = "SANDBOX.MESSAGE_ID_REUSED"
    status = 409


class BodyTooLarge(SandboxError):
    code = "SANDBOX.TOO_LARGE"
    status = 413


class NoPendingDebit(SandboxError):
    """Confirm or release named a message id with no pending debit."""

    code = "SANDBOX.NO_PENDING_DEBIT"
    status = 404


class AlreadySettled(SandboxError):
    """Confirm after release, or release after confirm, of one outgoing debit."""

    code = "SANDBOX.ALREADY_SETTLED"
    status = 409


class SeedError(SandboxConfigError):
    code = "SANDBOX.SEED"


class UnitsUnidentified(SandboxError):
    """An action's units cannot be identified (no ITMO block, serial or serial range)."""

    code = "SANDBOX.UNKNOWN_UNITS"
    status = 422


class GatewayKeysUnavailable(SandboxError):
    """The gateway's JWKS cannot be fetched: the sandbox cannot check anyone right now."""

    code = "SANDBOX.GATEWAY_JWKS_UNAVAILABLE"
    status = 503

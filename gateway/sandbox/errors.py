"""Errors of the sandbox registry. Each has a stable ``code``; the status table of
:mod:`gateway.errors` gives each its HTTP status and the sandbox's HTTP layer
(:mod:`gateway.sandbox.app`) renders them as signed problem answers."""

from __future__ import annotations

from standards.errors import CarbonlinkError


class SandboxError(CarbonlinkError):
    code = "SANDBOX.ERROR"


class SandboxConfigError(SandboxError):
    """The sandbox cannot start: bad format, seed file, key, JWKS source."""

    code = "SANDBOX.CONFIG"


class GatewayAuthError(SandboxError):
    """The caller is not the gateway (token missing, forged, expired, for another registry, replayed)."""

    code = "SANDBOX.AUTH"


class OperatorAuthError(SandboxError):
    """An operator endpoint was called without the operator token."""

    code = "SANDBOX.OPERATOR_AUTH"


class MessageIdMissing(SandboxError):
    code = "SANDBOX.MESSAGE_ID_MISSING"


class MessageIdReused(SandboxError):
    """The same sender reused a message id with a different body."""

    code = "SANDBOX.MESSAGE_ID_REUSED"


class BodyTooLarge(SandboxError):
    code = "SANDBOX.TOO_LARGE"


class NoPendingDebit(SandboxError):
    """Confirm or release named a message id with no pending debit."""

    code = "SANDBOX.NO_PENDING_DEBIT"


class AlreadySettled(SandboxError):
    """Confirm after release, or release after confirm, of one outgoing debit."""

    code = "SANDBOX.ALREADY_SETTLED"


class SeedError(SandboxConfigError):
    code = "SANDBOX.SEED"


class UnitsUnidentified(SandboxError):
    """An action's units cannot be identified (no ITMO block, serial or serial range)."""

    code = "SANDBOX.UNKNOWN_UNITS"


class GatewayKeysUnavailable(SandboxError):
    """The gateway's JWKS cannot be fetched: the sandbox cannot check anyone right now."""

    code = "SANDBOX.GATEWAY_JWKS_UNAVAILABLE"

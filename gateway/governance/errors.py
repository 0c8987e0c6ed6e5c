"""Errors of governance: authorization statements and their enforcement on the relay. HTTP statuses come from
the status table (:mod:`gateway._status_table`)::

    CarbonlinkError
     └── GovernanceError
          ├── AuthorizationInvalid        422  a statement that is not a valid AEF T2 authorization
          ├── AuthorizationNotYours       403  the caller is not the national authority of that Party
          ├── AuthorizationConflict       409  issued twice, an amendment that is not the next version, ...
          ├── AuthorizationNotFound       404
          ├── AuthorizationStoreUnavailable 503
          ├── AuthorizationRefused        403  a relayed action the authorizations in force do not cover
          │                                    (code GOVERNANCE.AUTHORIZATION_<WHAT>, clause in ``reference``)
          ├── ApprovalPending             403  (internal) a message the policy holds for approval messages
          ├── HoldNotFound                404  no held message of the caller with that id
          ├── HoldConflict                409  a held message id sent again with another body
          ├── HoldEnded                   410  the hold expired or the policy changed (GOVERNANCE.HOLD_<WHY>)
          └── HeldStoreUnavailable        503  the store of held messages cannot be reached
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from standards.errors import CarbonlinkError


class GovernanceError(CarbonlinkError):
    code = "GOVERNANCE.ERROR"


class AuthorizationInvalid(GovernanceError):
    code = "GOVERNANCE.AUTHORIZATION_INVALID"


class AuthorizationNotYours(GovernanceError):
    code = "GOVERNANCE.NOT_NATIONAL_AUTHORITY"


class AuthorizationConflict(GovernanceError):
    code = "GOVERNANCE.AUTHORIZATION_CONFLICT"


class AuthorizationNotFound(GovernanceError):
    code = "GOVERNANCE.AUTHORIZATION_NOT_FOUND"


class AuthorizationStoreUnavailable(GovernanceError):
    code = "GOVERNANCE.STORE_UNAVAILABLE"

    def __init__(self, message: str) -> None:
        super().__init__(message, retry_after=5)


class AuthorizationChanged(AuthorizationStoreUnavailable):
    """An authorization was amended or revoked between the check of a message and its drawing: the message is
    not relayed; sent again, it is checked against the new standing (503, Retry-After)."""

    code = "GOVERNANCE.AUTHORIZATION_CHANGED"

    def __init__(self, message: str) -> None:
        GovernanceError.__init__(self, message, retry_after=1)


class StatementRefused(GovernanceError):
    """A statement not signed by the national authority itself (or not for this gateway, stale, or about
    something else than the route says): ``GOVERNANCE.STATEMENT_*``."""

    code = "GOVERNANCE.STATEMENT_SIGNATURE"


class AuthorityKeysUnavailable(StatementRefused):
    """The keys an authority publishes at its ``jwks_uri`` cannot be fetched or read, and no last good keys are
    cached: its statement cannot be checked now (a retry may succeed)."""

    code = "GOVERNANCE.AUTHORITY_KEYS_UNAVAILABLE"


class AuthorizationRefused(GovernanceError):
    """A first transfer, use or cancellation that no authorization in force covers; ``reference`` is the
    clause the refusal enforces."""

    code = "GOVERNANCE.AUTHORIZATION_REFUSED"

    def __init__(self, message: str, *, code: str | None = None, reference: str = "") -> None:
        super().__init__(f"{message} ({reference})" if reference else message, code=code)
        self.reference = reference


class PolicyError(GovernanceError):
    """The transaction-controls policy document cannot be used: a bad signature, the wrong signer, expired,
    rolled back, another environment, invalid content (``code`` says which: ``GOVERNANCE.POLICY_<WHAT>``)."""

    code = "GOVERNANCE.POLICY_INVALID"


class PolicyUnavailable(GovernanceError):
    """No valid policy is in force while the gateway is configured with one: the kinds it controls fail
    closed (503, Retry-After)."""

    code = "GOVERNANCE.POLICY_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: int = 30) -> None:
        super().__init__(message, retry_after=retry_after)


class PolicyRefused(GovernanceError):
    """A relayed message a clause of the policy in force refuses (``code`` ``GOVERNANCE.POLICY_<CLAUSE>``);
    ``clause`` names the clause and ``version`` the policy version."""

    code = "GOVERNANCE.POLICY_REFUSED"

    def __init__(self, message: str, *, code: str | None = None, clause: str = "", version: int = 0,
                 retry_after: int | None = None) -> None:
        super().__init__(f"{message} (policy version {version}, clause {clause})", code=code, retry_after=retry_after)
        self.clause = clause
        self.version = version


class ControlsStoreUnavailable(GovernanceError):
    """The controls store (daily usage, counterparts first seen) cannot be reached (503, Retry-After)."""

    code = "GOVERNANCE.CONTROLS_STORE_UNAVAILABLE"

    def __init__(self, message: str) -> None:
        super().__init__(message, retry_after=5)


class PolicyNotConfigured(GovernanceError):
    """This gateway is configured with no transaction-controls policy (404)."""

    code = "GOVERNANCE.POLICY_NOT_CONFIGURED"


class ApprovalPending(GovernanceError):
    """A message above the four-eyes threshold without enough approvals, from a participant whose policy holds
    such messages for separate approval messages (``four_eyes_hold``): the hold takes it (``_holds``). Should it
    ever reach the HTTP layer, it answers as the refusal it would otherwise be."""

    code = "GOVERNANCE.POLICY_APPROVAL_REQUIRED"

    def __init__(self, message: str = "the message carries too few approvals", *, version: int = 0,
                 controls: Any = None, units: Decimal = Decimal(0), receiver: str = "") -> None:
        super().__init__(f"{message} (policy version {version})")
        self.version = version
        self.controls = controls
        self.units = units
        self.receiver = receiver


class HoldNotFound(GovernanceError):
    code = "GOVERNANCE.HOLD_NOT_FOUND"


class HoldConflict(GovernanceError):
    """A message id that is held, sent again with another body."""

    code = "GOVERNANCE.HOLD_CONFLICT"


class HoldEnded(GovernanceError):
    """A held message that can no longer be released: it waited past its hold time (``GOVERNANCE.HOLD_EXPIRED``)
    or the policy it was held under is no longer in force (``GOVERNANCE.HOLD_POLICY_CHANGED``); ``clause`` names
    the clause. Its message id is spent: the sender sends the message again under a new id."""

    code = "GOVERNANCE.HOLD_EXPIRED"

    def __init__(self, message: str, *, code: str | None = None, clause: str = "", version: int = 0) -> None:
        super().__init__(f"{message} (policy version {version}, clause {clause})", code=code)
        self.clause = clause
        self.version = version


class HeldStoreUnavailable(GovernanceError):
    """The store of held messages cannot be reached (503, Retry-After)."""

    code = "GOVERNANCE.HOLD_STORE_UNAVAILABLE"

    def __init__(self, message: str) -> None:
        super().__init__(message, retry_after=5)

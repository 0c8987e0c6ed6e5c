"""Governance of the network: authorization statements of national authorities, kept and served by the
gateway, and enforced on the relay (docs/governance.md). Roles live in the signed directory
(:mod:`gateway.trust.roles`).

Module map::

    _records.py      statements (canonical AEF T2 authorizations), signed version and revocation records
    _statements.py   statements signed with the national authority's own key, checked against the directory
    _offline.py      an authorization's records checked offline (gateway JWKS + signed directory)
    _store.py        the authorization store: SQLite (embedded) or PostgreSQL (shared), quantities drawn
    _authorities.py  issue, amend, revoke, show, list (what the routes and the CLI call)
    _gate.py         AuthorizationGate: the checks of first transfers, uses and cancellations
    _relay.py        GovernedPlanner and GovernedRecorder: the gate plugged into the transfer path
    _policy.py       the transaction-controls policy: a signed, versioned document; PolicyStore (last good)
    _approvals.py    four-eyes approvals: officers' JWS bound to one message
    _controls_store.py  daily usage and counterparts first seen: SQLite (embedded) or PostgreSQL (shared)
    _controls.py     TransactionControls: the policy's clauses applied to every message before delivery
    _officers.py     officers' keys: the policy's own, or those of the directory entry in force
    _held_store.py   messages held for approval messages: SQLite (embedded) or PostgreSQL (shared)
    _holds.py        HeldTransfers: hold, approve (approval messages), release through the relay, expire
    errors.py        the coded errors
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING, Any

from gateway.governance._approvals import APPROVAL_HEADER, APPROVAL_TYP, sign_approval, split_approvals
from gateway.governance._authorities import Authorities
from gateway.governance._controls import Decision, TransactionControls
from gateway.governance._controls_store import ControlsStore, open_controls_store
from gateway.governance._gate import CLAUSES, GATED, AuthorizationGate, Drawing, Mode
from gateway.governance._held_store import HeldStore, open_held_store
from gateway.governance._holds import HELD_CODE, HeldTransfers, HoldAnswer
from gateway.governance._offline import check_authorization
from gateway.governance._policy import POLICY_TYP, Policy, PolicyStore, fetch_policy, sign_policy, verify_policy
from gateway.governance._records import RECORD_TYP, REVOCATION_TYP, AuthorizationRecord, RevocationRecord, in_force
from gateway.governance._statements import (
    STATEMENT_TYP,
    AuthorityStatement,
    accept_statement,
    sign_statement,
    statement_for_route,
    verify_statement,
)
from gateway.governance._store import AuthorizationStore, open_authorization_store
from gateway.governance.errors import (
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

if TYPE_CHECKING:
    from gateway.evidence.log import EvidenceLog
    from gateway.transfers import DocumentPlanner, Recorder
    from gateway.transfers.service import TransferService
    from gateway.trust.setup import Trust

__all__ = [
    "APPROVAL_HEADER",
    "APPROVAL_TYP",
    "CLAUSES",
    "GATED",
    "HELD_CODE",
    "POLICY_TYP",
    "RECORD_TYP",
    "REVOCATION_TYP",
    "STATEMENT_TYP",
    "Authorities",
    "AuthorityKeysUnavailable",
    "AuthorityStatement",
    "AuthorizationConflict",
    "AuthorizationGate",
    "AuthorizationInvalid",
    "AuthorizationNotFound",
    "AuthorizationNotYours",
    "AuthorizationRecord",
    "AuthorizationRefused",
    "AuthorizationStore",
    "AuthorizationStoreUnavailable",
    "ControlsStore",
    "ControlsStoreUnavailable",
    "Decision",
    "Drawing",
    "GovernanceError",
    "HeldStore",
    "HeldStoreUnavailable",
    "HeldTransfers",
    "HoldAnswer",
    "HoldConflict",
    "HoldEnded",
    "HoldNotFound",
    "Mode",
    "Policy",
    "PolicyError",
    "PolicyNotConfigured",
    "PolicyRefused",
    "PolicyStore",
    "PolicyUnavailable",
    "RevocationRecord",
    "StatementRefused",
    "TransactionControls",
    "accept_statement",
    "check_authorization",
    "controls_for",
    "fetch_policy",
    "govern",
    "held_transfers",
    "in_force",
    "open_authorization_store",
    "open_controls_store",
    "open_held_store",
    "policy_store_for",
    "sign_approval",
    "sign_policy",
    "sign_statement",
    "split_approvals",
    "statement_for_route",
    "verify_policy",
    "verify_statement",
]


def govern(trust: Trust, planner: DocumentPlanner, recorder_args: dict[str, Any]
           ) -> tuple[DocumentPlanner, Recorder]:
    """The Article 6 ``planner`` behind the authorization gate and the recorder that draws on authorizations,
    as the gateway's governance settings ask (``off``: both unchanged). ``trust`` is the built trust layer."""
    from gateway.governance._relay import GovernedPlanner, GovernedRecorder
    from gateway.transfers import Recorder  # here: governance builds on the transfer path, not the reverse

    settings = trust.settings
    mode: Mode = settings.governance.governance_enforce
    if mode == "off":
        return planner, Recorder(**recorder_args)
    store = open_authorization_store(settings.governance.authorization_url(settings.transfers.data_dir,
                                                                      settings.transfers.evidence_url()))
    gate = AuthorizationGate(store, trust.directory.current, mode)
    recorder = GovernedRecorder(**recorder_args)
    recorder.gate = gate
    weakref.finalize(recorder, store.close)  # the transfer service closes its own stores; this one goes with it
    return GovernedPlanner(planner, gate), recorder


def policy_store_for(trust: Trust) -> PolicyStore | None:
    """The policy the settings name (``CARBONLINK_POLICY``), read once; ``None`` when none is named. Signed by an
    anchor or a network operator of the directory in force."""
    from gateway.governance._policy import signer_keys

    settings = trust.settings
    source = settings.governance.policy
    if source is None:
        return None
    directory = trust.directory
    store = PolicyStore(lambda: fetch_policy(source), lambda: signer_keys(directory.anchors, directory.signed()),
                        environment=settings.environment, refresh=settings.governance.policy_refresh_seconds,
                        skew=settings.clock_skew, describe=source)
    error = store.refresh()
    if error is not None:  # the controlled kinds fail closed until a valid policy is read
        logging.getLogger("carbonlink.governance").warning(
            "no valid transaction-controls policy from %s (%s): messages that move units are refused until one is "
            "read", source, error)
    return store


def controls_for(trust: Trust, evidence: EvidenceLog | None = None) -> TransactionControls | None:
    """The transaction controls of the policy the settings name, with their store; ``None`` when no policy is
    named (the relay then applies no controls)."""
    policies = policy_store_for(trust)
    if policies is None:
        return None
    settings = trust.settings
    store = open_controls_store(settings.governance.controls_url(settings.transfers.data_dir))
    return TransactionControls(policies, store, evidence, skew=settings.clock_skew)


def held_transfers(service: TransferService, trust: Trust) -> HeldTransfers | None:
    """The holds of messages waiting for approval messages, on ``service``'s transaction controls (``None`` when
    the gateway applies no policy); its store goes with the service."""
    controls = service.controls
    if not isinstance(controls, TransactionControls):
        return None
    settings = trust.settings
    store = open_held_store(settings.governance.hold_url(settings.transfers.data_dir))
    weakref.finalize(service, store.close)
    return HeldTransfers(service, controls, store)

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
    errors.py        the coded errors
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from gateway.governance._authorities import Authorities
from gateway.governance._gate import CLAUSES, GATED, AuthorizationGate, Drawing, Mode
from gateway.governance._offline import check_authorization
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
    AuthorizationConflict,
    AuthorizationInvalid,
    AuthorizationNotFound,
    AuthorizationNotYours,
    AuthorizationRefused,
    AuthorizationStoreUnavailable,
    GovernanceError,
    StatementRefused,
)

if TYPE_CHECKING:
    from gateway.transfers import DocumentPlanner, Recorder
    from gateway.trust.setup import Trust

__all__ = [
    "CLAUSES",
    "GATED",
    "RECORD_TYP",
    "REVOCATION_TYP",
    "STATEMENT_TYP",
    "Authorities",
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
    "Drawing",
    "GovernanceError",
    "Mode",
    "RevocationRecord",
    "StatementRefused",
    "accept_statement",
    "check_authorization",
    "govern",
    "in_force",
    "open_authorization_store",
    "sign_statement",
    "statement_for_route",
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

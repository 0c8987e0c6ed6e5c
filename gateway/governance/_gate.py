"""The authorization gate: which first transfers, uses and cancellations the relay may carry.

Each such action must cite (``authorization_id``) an authorization of its first transferring Party that the
Party's national authority issued through the gateway, and the version in force at the action's date
(:func:`in_force`) must cover it: not revoked by then, same cooperative approach, vintage and action year within
the authorized timeframe, acquiring or using Party among the authorized Parties (when it names some), purpose
among the authorized purposes, and - for actions the authorizing Party's own registries send - the quantity
within the authorized quantity across every message relayed so far (drawn in the store, see ``_store``).
Each refusal has its own code and cites its clause (docs/governance.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from gateway.governance._records import (
    RevocationRecord,
    Version,
    in_force,
    open_revocation,
    open_version,
    purposes_of,
)
from gateway.governance._store import AuthorizationStore, QuantityExceeded, Stamp, StoredRevocation
from gateway.governance.errors import AuthorizationChanged, AuthorizationRefused
from gateway.trust.directory import Directory, Participant
from gateway.trust.roles import Role
from standards.model import Action, ActionType, CanonicalDocument

Mode = Literal["auto", "always", "off"]
#: The actions the gate checks (2/CMA.3 annex para 2: the first transfer is the first international transfer,
#: or for OIMP the authorization, issuance or use/cancellation the Party defines as such).
GATED = frozenset({ActionType.FIRST_TRANSFER, ActionType.USE, ActionType.CANCELLATION})
#: Purposes an action for ``OIMP``, ``IMP`` or ``OP`` may rely on.
_OIMP_FAMILY = {"OIMP": {"OIMP"}, "IMP": {"IMP", "OIMP"}, "OP": {"OP", "OIMP"}}

_A6 = "decision 2/CMA.3, annex"
CLAUSES = {
    "MISSING": f"{_A6}, para 1 and 2 (ITMOs are mitigation outcomes a participating Party authorizes); AEF T3 "
               "Authorization ID",
    "UNKNOWN": f"{_A6}, para 1 (authorized by a participating Party); decision 6/CMA.4, annex I (AEF): "
               "T3 Authorization ID joins T2",
    "WRONG_PARTY": f"{_A6}, para 2 (the first transferring Party authorizes); AEF T3 First transferring Party",
    "NOT_IN_FORCE": "decision 6/CMA.4, annex I (AEF) T2 Date of authorization and Authorization version: the "
                    "version in force at the action's date",
    "REVOKED": f"{_A6}, para 1 (authorized by a participating Party); the Party's revocation recorded at this "
               "gateway",
    "APPROACH": "decision 6/CMA.4, annex I (AEF) T2/T3 Cooperative approach ID",
    "TIMEFRAME": "decision 6/CMA.4, annex I (AEF) T2 Authorized timeframe (Common Nomenclature, Table 20)",
    "PARTY": "decision 6/CMA.4, annex I (AEF) T2 Authorized Party(ies) ID",
    "PURPOSE": f"{_A6}, para 1 and 2(b) (NDC and other international mitigation purposes); AEF T2 Purposes "
               "for authorization",
    "QUANTITY": "decision 6/CMA.4, annex I (AEF) T2 Authorized quantity, across every first transfer so far",
}


@lru_cache(maxsize=4096)
def _version(token: str) -> Version:
    """A stored record, read once per process (records never change: an amendment is a new record)."""
    return open_version(token)


@lru_cache(maxsize=1024)
def _revocation(token: str) -> RevocationRecord:
    return open_revocation(token)


def refuse(what: str, message: str) -> AuthorizationRefused:
    return AuthorizationRefused(message, code=f"GOVERNANCE.AUTHORIZATION_{what}", reference=CLAUSES[what])


@dataclass(frozen=True, slots=True)
class Drawing:
    """What one message draws on one authorization (0: it only relies on it), and the authorization's standing
    (latest version, revoked) the check saw, which the drawing's transaction confirms."""

    quantity: Decimal
    cap: Decimal | None
    stamp: Stamp | None = None


class AuthorizationGate:
    """Checks documents against the authorizations in ``store``.

    ``mode``: ``auto`` gates the actions of Parties that have a national authority in the directory (a Party
    with none has nobody to authorize through the gateway, so existing networks keep working), ``always``
    every Party, ``off`` none.
    """

    def __init__(self, store: AuthorizationStore, directory: Callable[[], Directory], mode: Mode = "auto") -> None:
        self.store = store
        self.directory = directory
        self.mode: Mode = mode
        self._governed: tuple[Directory, frozenset[str]] | None = None
        #: What the store said of each authorization (records never change; a new version or a revocation
        #: changes its stamp, which every drawing confirms in its transaction: a stale entry refuses the
        #: message, retryable, and is dropped).
        self._standing: dict[tuple[str, str], tuple[Stamp, list[Version], StoredRevocation | None]] = {}
        self._seen = store.changes

    def governs(self, party: str) -> bool:
        if self.mode != "auto":
            return self.mode == "always"
        directory = self.directory()
        cached = self._governed
        if cached is None or cached[0] is not directory:
            parties = frozenset(g.party for p in directory.participants for g in p.roles
                                if g.role is Role.NATIONAL_AUTHORITY and g.party and p.active)
            cached = self._governed = (directory, parties)
        return party in cached[1]

    def check(self, sender: Participant, document: CanonicalDocument) -> dict[tuple[str, str], Drawing]:
        """Refuse the first action no authorization covers; return what the document draws on each."""
        if self.mode == "off":
            return {}
        drawings: dict[tuple[str, str], Drawing] = {}
        for index, action in enumerate(document.actions):
            if action.action_type not in GATED:
                continue
            party = action.first_transferring_party or sender.party
            if not self.governs(party):
                continue
            version = self._version_for(index, action, party)
            key = (party, version.record.authorization_id)
            quantity = _quantity(action) if sender.party == party else Decimal(0)
            earlier = drawings.get(key)
            drawings[key] = Drawing((earlier.quantity if earlier else Decimal(0)) + quantity, version.cap,
                                    self._standing[key][0])
        return drawings

    def draw(self, sender_id: str, message_id: str, drawings: dict[tuple[str, str], Drawing], *,
             within: Any = None) -> None:
        """Draw the document's quantities for one message (refused when a cap would be passed), in a
        transaction of its own or ``within`` the evidence log's (:meth:`AuthorizationStore.draw_within`)."""
        wants = {k: (d.quantity, d.cap) for k, d in drawings.items()}
        stamps = {k: d.stamp for k, d in drawings.items() if d.stamp is not None}
        try:
            if within is None:
                self.store.draw(sender_id, message_id, wants, stamps)
            else:
                self.store.draw_within(within, sender_id, message_id, wants, stamps)
        except QuantityExceeded as exc:
            raise refuse("QUANTITY", exc.message) from exc
        except AuthorizationChanged:
            for key in drawings:
                self._standing.pop(key, None)
            raise

    def _version_for(self, index: int, action: Action, party: str) -> Version:
        where = f"actions[{index}] ({action.action_type.value})"
        auth_id = action.authorization_id
        if not auth_id:
            raise refuse("MISSING", f"{where} cites no authorization; {party} authorizes through this gateway")
        if self._seen != self.store.changes:  # amended or revoked through this process: read afresh
            self._standing.clear()
            self._seen = self.store.changes
        cached = self._standing.get((party, auth_id))
        if cached is None:
            stored, revocation = self.store.standing(party, auth_id)
            versions = [_version(s.token) for s in stored]
            if versions:
                stamp = (max(v.record.version for v in versions), revocation is not None)
                self._standing[(party, auth_id)] = (stamp, versions, revocation)
        else:
            _, versions, revocation = cached
        if not versions:
            raise refuse("UNKNOWN", f"{where} cites authorization {auth_id!r}, which {party}'s national authority "
                                    "has not issued through this gateway")
        version = in_force(versions, action.date)
        if version is None:
            raise refuse("NOT_IN_FORCE", f"{where} is dated {action.date.date()}, before authorization {auth_id!r} "
                                         f"was given ({min(v.authorization.date for v in versions)})")
        if revocation is not None:
            revoked = _revocation(revocation.token)
            if revoked.effective <= action.date.date():
                raise refuse("REVOKED", f"{where} is dated {action.date.date()}, but authorization {auth_id!r} was "
                                        f"revoked from {revoked.effective}")
        self._terms(where, action, version)
        return version

    def _terms(self, where: str, action: Action, version: Version) -> None:
        auth = version.authorization
        label = f"authorization {auth.authorization_id!r} version {version.record.version}"
        if action.cooperative_approach and action.cooperative_approach != auth.cooperative_approach:
            raise refuse("APPROACH", f"{where} is under {action.cooperative_approach}, {label} under "
                                     f"{auth.cooperative_approach}")
        years = version.years
        if years is not None:
            for what, year in (("vintage", action.vintage), ("action year", action.date.year)):
                if year is not None and not years[0] <= year <= years[1]:
                    raise refuse("TIMEFRAME", f"{where}: {what} {year} is outside the timeframe {years[0]}-{years[1]} "
                                              f"of {label}")
        counterpart = action.acquiring_party if action.action_type is ActionType.FIRST_TRANSFER else action.using_party
        if auth.authorized_parties and counterpart and counterpart not in auth.authorized_parties:
            raise refuse("PARTY", f"{where} goes to {counterpart}; {label} names only "
                                  f"{', '.join(auth.authorized_parties)}")
        wanted = _purpose(action)
        if wanted is not None:
            allowed = purposes_of(auth.purposes)
            if not allowed & _OIMP_FAMILY.get(wanted, {wanted}):
                raise refuse("PURPOSE", f"{where} is for {wanted}; {label} is for {auth.purposes}")


def _purpose(action: Action) -> str | None:
    """What the action is for: its OIMP purpose when it names one, else NDC for first transfers and uses (a
    cancellation without an OIMP purpose serves neither and is not checked for purpose)."""
    if action.oimp_purpose:
        value = action.oimp_purpose.strip()
        return value if value in _OIMP_FAMILY else "OIMP"
    return None if action.action_type is ActionType.CANCELLATION else "NDC"


def _quantity(action: Action) -> Decimal:
    if action.quantity is not None:
        return action.quantity
    if action.first_id is not None and action.last_id is not None:
        return Decimal(action.last_id - action.first_id + 1)
    return Decimal(0)

"""The transaction-controls policy: a document of the network, signed like the participant directory.

Compact JWS, header ``{"typ": "carbonlink-policy+jwt", "alg": ..., "kid": ...}``; payload::

    {"iss": "network-operator", "environment": "production", "version": 7,
     "iat": 1764000000, "nbf": 1764000000, "exp": 1766592000,
     "kinds": ["transfers"],
     "defaults": {"timezone": "UTC", "daily_limit": "1000000"},
     "participants": {"che-registry": {"timezone": "Europe/Zurich", "four_eyes_above": "5000",
                                       "officers": [{"id": "alice", "keys": [{...public JWK...}]}, {"id": "bob"}],
                                       "four_eyes_hold": false, "approval_wait_seconds": 86400,
                                       "trusted": ["gha-registry"], "holding_seconds": 86400,
                                       "business_hours": {"days": ["mon", "tue", "wed", "thu", "fri"],
                                                          "start": "08:00", "end": "18:00"},
                                       "counterparty_daily_limit": "20000", "kill_switch": false}}}

An officer listed without ``keys`` signs with the keys its participant's directory entry lists for it
(``officers`` of the entry, :mod:`gateway.trust.directory`). The policy is signed by a key of the network
operator: an anchor key (the keys that sign the directory) or a key of an
active participant holding the ``network-operator`` role in the directory in force. :class:`PolicyStore` keeps
the good versions it has read (the one in force and one scheduled for later, ``nbf``), refuses a lower
``version`` than the newest good one (rollback), another environment, and never uses a version outside its
``nbf``..``exp`` window: when none is in force, the controlled kinds fail closed (docs/governance.md).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from joserfc.jwk import Key
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from gateway.governance.errors import PolicyError, PolicyUnavailable
from gateway.protocol import MessageKind
from gateway.trust import jose
from gateway.trust.directory import Directory, Environment, check_officers
from gateway.trust.keys import public_key_set
from gateway.trust.roles import Role
from standards.errors import InputError
from standards.safeio import read_bytes

log = logging.getLogger("carbonlink.governance")

POLICY_TYP = "carbonlink-policy+jwt"
MAX_POLICY_BYTES = 1024 * 1024
_REGISTRY = jose.make_registry(max_payload=MAX_POLICY_BYTES)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class BusinessHours(BaseModel):
    """When a participant's messages may be relayed, in its own time zone (``end`` after ``start``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1, max_length=7)
    start: str = Field(description="HH:MM, inclusive")
    end: str = Field(description="HH:MM, exclusive")

    @model_validator(mode="after")
    def _window(self) -> BusinessHours:
        for value in (self.start, self.end):
            if not _HHMM.match(value):
                raise ValueError(f"{value!r} is not HH:MM")
        if self.end <= self.start:
            raise ValueError("business hours end after they start (no window across midnight)")
        return self

    def opens(self) -> clock:
        return clock.fromisoformat(self.start)

    def closes(self) -> clock:
        return clock.fromisoformat(self.end)


class Officer(BaseModel):
    """An officer of a registry whose key signs approvals (four eyes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")
    keys: list[dict[str, Any]] = Field([], max_length=4, description="public JWKs, each with a kid; none: the "
                                       "officer's keys are those of the participant's directory entry in force")


class Controls(BaseModel):
    """The controls of one participant (``defaults`` for every participant not listed; a listed participant's
    unset fields take the defaults')."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    business_hours: BusinessHours | None = None
    daily_limit: Decimal | None = Field(None, gt=0, description="units the participant may send per day")
    counterparty_daily_limit: Decimal | None = Field(None, gt=0, description="units per day to any one counterpart")
    counterparty_limits: dict[str, Decimal] = Field({}, description="per-counterpart daily limits (participant ids)")
    four_eyes_above: Decimal | None = Field(None, ge=0, description="a message of more units needs approvals")
    approvals: int = Field(2, ge=2, le=4, description="distinct officers who approve a message above the threshold")
    four_eyes_hold: bool = Field(False, description="hold a message without enough approvals for separate approval "
                                 "messages instead of refusing it")
    approval_wait_seconds: int = Field(86400, ge=60, le=7 * 86400, description="how long a held message waits")
    officers: list[Officer] = Field([], max_length=50)
    trusted: list[str] = Field([], description="counterparts (participant ids) without a holding period")
    holding_seconds: int = Field(0, ge=0, le=90 * 86400, description="holding period of a new counterpart")
    kill_switch: bool = False
    kill_reason: str = Field("", max_length=500)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone") from exc
        return value

    @model_validator(mode="after")
    def _officer_keys(self) -> Controls:
        check_officers(self.officers, place="a policy")
        return self

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def counterparty_limit(self, counterpart: str) -> Decimal | None:
        return self.counterparty_limits.get(counterpart, self.counterparty_daily_limit)


class Policy(BaseModel):
    """A verified policy document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: str = Field(min_length=1)
    environment: Environment
    version: int = Field(ge=1)
    iat: int
    nbf: int
    exp: int
    kinds: list[MessageKind] = Field([MessageKind.TRANSFERS], min_length=1,
                                     description="the message kinds the controls apply to (the kill switch: all)")
    defaults: Controls = Controls()
    participants: dict[str, Controls] = {}
    _merged: dict[str, Controls] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _window(self) -> Policy:
        if self.exp <= self.nbf:
            raise ValueError("exp must be after nbf")
        return self

    def controls(self, participant_id: str) -> Controls:
        """The participant's controls: its own entry over the defaults."""
        merged = self._merged.get(participant_id)
        if merged is None:
            own = self.participants.get(participant_id)
            merged = self.defaults if own is None else self.defaults.model_copy(
                update={name: getattr(own, name) for name in own.model_fields_set})
            self._merged[participant_id] = merged
        return merged

    def in_window(self, moment: float) -> bool:
        return self.nbf <= moment < self.exp

    def summary(self) -> dict[str, Any]:
        return {"version": self.version, "iss": self.iss, "environment": self.environment, "iat": self.iat,
                "nbf": self.nbf, "exp": self.exp, "kinds": [k.value for k in self.kinds],
                "participants": sorted(self.participants)}


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'/'.join(str(p) for p in err['loc'])}: {err['msg']}"


def sign_policy(content: dict[str, Any], key: Key, *, now: int | None = None, valid_for: int = 30 * 86400,
                not_before: int | None = None) -> str:
    """Sign a policy document with a network operator's key; sets ``iat``, ``nbf`` and ``exp`` unless given."""
    issued = int(time.time()) if now is None else now
    start = issued if not_before is None else not_before
    body = {"iat": issued, "nbf": start, "exp": start + valid_for, **content}
    try:
        Policy.model_validate(body)
    except ValidationError as exc:
        raise PolicyError(f"the policy content is invalid: {_first_error(exc)}") from exc
    return jose.sign({"typ": POLICY_TYP}, body, key, registry=_REGISTRY)


def signer_keys(anchors: dict[str, Key], directory: Directory | None) -> dict[str, Key]:
    """Keys that may sign the policy: the anchors and the keys of active network operators in ``directory``."""
    keys = dict(anchors)
    for participant in directory.participants if directory else ():
        if participant.active and participant.holds(Role.NETWORK_OPERATOR) and participant.jwks:
            keys.update(public_key_set(participant.jwks, what=f"participant {participant.id} jwks"))
    return keys


def verify_policy(token: str, keys: dict[str, Key], *, environment: Environment, now: float | None = None,
                  skew: int = 30) -> Policy:
    """Verify the signature (by one of ``keys``), the content, the environment and that it has not expired (a
    version whose ``nbf`` is still ahead is valid: it waits for its time)."""
    def key_for(header: dict[str, Any]) -> Key:
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in keys:
            raise jose.JwsRejected("KID", f"the policy is signed by {kid!r}, which is no key of the network operator")
        return keys[kid]

    try:
        verified = jose.verify(token.strip(), typ=[POLICY_TYP], key_for=key_for, registry=_REGISTRY,
                               max_bytes=MAX_POLICY_BYTES)
    except jose.JwsRejected as exc:
        raise PolicyError(f"policy refused: {exc.message}", code=f"GOVERNANCE.POLICY_{exc.reason}") from exc
    try:
        policy = Policy.model_validate(verified.claims)
    except ValidationError as exc:
        raise PolicyError(f"the policy content is invalid: {_first_error(exc)}") from exc
    moment = time.time() if now is None else now
    if policy.exp <= moment:
        raise PolicyError(f"policy version {policy.version} expired at {policy.exp}", code="GOVERNANCE.POLICY_EXPIRED")
    if policy.iat > moment + skew:
        raise PolicyError("the policy is issued in the future", code="GOVERNANCE.POLICY_NOT_YET_VALID")
    if policy.environment != environment:
        raise PolicyError(f"a {policy.environment} policy cannot be used by a {environment} gateway",
                          code="GOVERNANCE.POLICY_ENVIRONMENT")
    return policy


def fetch_policy(source: str, *, timeout: float = 5.0) -> str:
    """Read the policy JWS from a file path or an http(s) URL (size-capped)."""
    try:
        if source.startswith(("http://", "https://")):
            with httpx.Client(timeout=timeout) as client:
                answer = client.get(source)
            if answer.status_code != 200:
                raise PolicyUnavailable(f"the policy URL answered HTTP {answer.status_code}")
            if len(answer.content) > MAX_POLICY_BYTES:
                raise PolicyUnavailable("the policy is larger than the size limit")
            data = answer.content
        else:
            data = read_bytes(Path(source), limit=MAX_POLICY_BYTES)
    except httpx.HTTPError as exc:
        raise PolicyUnavailable(f"cannot fetch the policy: {exc}") from exc
    except (InputError, OSError) as exc:
        raise PolicyUnavailable(f"cannot read the policy: {exc}") from exc
    try:
        return data.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise PolicyError("the policy file is not a compact JWS", code="GOVERNANCE.POLICY_MALFORMED") from exc


class PolicyStore:
    """The gateway's view of the policy: the good versions read from ``loader``, refreshed every ``refresh``
    seconds (by the first request after that; the others keep using what is in force meanwhile)."""

    def __init__(self, loader: Callable[[], str], keys: Callable[[], dict[str, Key]], *, environment: Environment,
                 refresh: float = 60, skew: int = 30, describe: str = "policy") -> None:
        self.loader = loader
        self.keys = keys
        self.environment: Environment = environment
        self.refresh_seconds = refresh
        self.skew = skew
        self.describe = describe
        self._lock = threading.Lock()
        self._good: list[tuple[Policy, str]] = []  # newest version last
        self.last_error: Exception | None = None
        self.last_refresh: float | None = None
        self._refreshing = threading.Lock()

    def accept(self, token: str, now: float | None = None) -> Policy:
        """Verify ``token`` and keep it (it becomes current from its ``nbf``); refuses a rollback."""
        policy = verify_policy(token, self.keys(), environment=self.environment, now=now, skew=self.skew)
        with self._lock:
            newest = self._good[-1][0] if self._good else None
            if newest is not None and policy.version < newest.version:
                raise PolicyError(f"policy version {policy.version} is older than version {newest.version} "
                                  "(rollback refused)", code="GOVERNANCE.POLICY_ROLLBACK")
            if newest is not None and policy.version == newest.version:
                if token != self._good[-1][1]:
                    raise PolicyError(f"policy version {policy.version} was signed again with other content",
                                      code="GOVERNANCE.POLICY_ROLLBACK")
                return policy
            moment = time.time() if now is None else now
            # keep the versions still to come or in force; the newest in force hides those before it
            kept = [(p, t) for p, t in self._good if p.exp > moment]
            kept.append((policy, token))
            in_force = [p.version for p, _ in kept if p.nbf <= moment]
            floor = max(in_force) if in_force else 0
            self._good = [(p, t) for p, t in kept if p.version >= floor]
        return policy

    def refresh(self, now: float | None = None) -> Exception | None:
        """Load from the source once; on failure keep the good versions. Returns the error."""
        self.last_refresh = time.time() if now is None else now
        try:
            self.accept(self.loader(), now=now)
        except (PolicyError, PolicyUnavailable) as exc:
            self.last_error = exc
            return exc
        self.last_error = None
        return None

    def maybe_refresh(self, now: float) -> None:
        """Refresh when the last one is ``refresh`` seconds old (one thread; the others go on meanwhile)."""
        last = self.last_refresh
        if last is not None and now - last < self.refresh_seconds:
            return
        if self._refreshing.acquire(blocking=False):
            try:
                error = self.refresh(now)
            finally:
                self._refreshing.release()
            if error is not None:
                log.warning("policy refresh from %s refused (%s): %s; keeping the versions already read",
                            self.describe, getattr(error, "code", "?"), error)

    def current(self, now: float | None = None) -> tuple[Policy, str]:
        """The version in force (the newest whose window holds ``now``) and its token; :class:`PolicyUnavailable`
        when none is."""
        moment = time.time() if now is None else now
        for policy, token in reversed(self._good):
            if policy.in_window(moment):
                return policy, token
        detail = f" (last error: {self.last_error})" if self.last_error else ""
        raise PolicyUnavailable(f"no valid transaction-controls policy is in force from {self.describe}{detail}")

    def versions(self) -> list[Policy]:
        return [p for p, _ in self._good]

"""The participant directory: a JWS signed by the governing body's anchor key.

Compact JWS, header ``{"typ": "carbonlink-directory+jwt", "alg": ..., "kid": ...}``; payload::

    {"iss": "governing-body", "environment": "production", "sequence": 42,
     "iat": 1764000000, "exp": 1764086400,
     "participants": [{"id": "che-registry", "party": "CHE", "party_registry_id": "CHE01", ...}]}

See ``docs/trust.md`` for every field. Verification refuses a bad signature, an unknown anchor
``kid``, a directory past ``exp`` or not yet issued, a directory for another environment, and a
``sequence`` lower than the last good one (rollback). :class:`DirectoryStore` keeps the last
good directory when a refresh fails, until that directory itself expires.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx
from joserfc.jwk import Key
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.protocol import MessageKind
from gateway.trust import jose
from gateway.trust.errors import (
    ConfigurationError,
    DirectoryError,
    DirectoryExpired,
    DirectoryUnavailable,
    ParticipantUnknown,
)
from gateway.trust.keys import public_key_set
from gateway.trust.roles import RESERVED_SCOPES, RoleGrant, kinds_of, scopes_of
from standards.errors import InputError
from standards.parties import is_alpha3
from standards.safeio import read_bytes

DIRECTORY_TYP = "carbonlink-directory+jwt"
MAX_DIRECTORY_BYTES = 4 * 1024 * 1024
Environment = Literal["development", "test", "production"]

_REGISTRY_ID = re.compile(r"^[A-Z]{3}\d{2}$")
_SCOPE = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]+$")  # RFC 6749 scope-token
_REGISTRY = jose.make_registry(max_payload=MAX_DIRECTORY_BYTES)


class Endpoints(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: str | None = None
    token: str | None = None
    read: str | None = None

    @field_validator("messages", "token", "read")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s]+$", value):
            raise ValueError("an endpoint is an absolute http(s) URL")
        return value


class DirectoryOfficer(BaseModel):
    """An officer of a participant and the public keys that sign its approvals (four eyes, docs/governance.md);
    the transaction-controls policy names officers by ``id``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")
    keys: list[dict[str, Any]] = Field(min_length=1, max_length=4, description="public JWKs, each with a kid")


class Officer(Protocol):
    """What :func:`check_officers` reads of an officer (a directory entry's or a policy's)."""

    @property
    def id(self) -> str: ...

    @property
    def keys(self) -> list[dict[str, Any]]: ...


def check_officers(officers: Iterable[Officer], *, place: str, owner: str = "") -> None:
    """Distinct officers, public keys only, each key naming its kid and belonging to one officer (``place`` says
    where they are listed, e.g. ``"the directory"``; ``owner`` the participant they belong to, when known). An
    officer without keys is allowed here: a policy may name an officer whose keys the directory lists."""
    names: set[str] = set()
    kids: dict[str, str] = {}
    for officer in officers:
        if officer.id in names:
            raise ValueError(f"officer {officer.id!r} is listed twice")
        names.add(officer.id)
        for jwk in officer.keys:
            if jose.has_private_members(jwk):
                raise ValueError(f"officer {officer.id!r}: a key in {place} is public")
            kid = jwk.get("kid")
            if not isinstance(kid, str) or not kid:
                raise ValueError(f"officer {officer.id!r}: every key names its kid")
            if kid in kids:
                raise ValueError(f"key {kid!r} is listed for officers {kids[kid]!r} and {officer.id!r}")
            kids[kid] = officer.id
        if not officer.keys:
            continue
        try:
            public_key_set({"keys": officer.keys}, what=f"participant {owner} officer {officer.id}" if owner
                           else f"officer {officer.id}")
        except ConfigurationError as exc:
            raise ValueError(exc.message) from exc


class Participant(BaseModel):
    """One registry as the governing body lists it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    name: str = ""
    party: str
    party_registry_id: str
    status: Literal["active", "suspended"]
    format: str = Field(min_length=1, description="adapter name from `carbonlink formats`")
    endpoints: Endpoints = Endpoints()
    issuer: str | None = Field(None, description="the registry's own OAuth issuer (aud of our assertions)")
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    tls_client_certificate_thumbprint: str | None = Field(
        None, alias="x5t#S256", description="SHA-256 thumbprint (base64url) of the registry's client cert"
    )
    message_kinds: list[MessageKind] = []
    scopes: list[str] = []
    roles: list[RoleGrant] = Field([], max_length=7, description="what the participant does (docs/governance.md); "
                                   "with roles, its scopes and message kinds follow from them")
    officers: list[DirectoryOfficer] = Field([], max_length=50, description="officers whose keys sign the "
                                             "participant's four-eyes approvals (docs/governance.md)")
    conformance_certificates: list[str] = Field(
        [], max_length=20, description="the registry's current conformance certificates (compact JWS, "
        "docs/conformance.md)")

    @field_validator("party")
    @classmethod
    def _party(cls, value: str) -> str:
        if not is_alpha3(value):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-3 Party code")
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        for scope in value:
            if not _SCOPE.match(scope):
                raise ValueError(f"{scope!r} is not a valid OAuth scope token")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Participant:
        if not _REGISTRY_ID.match(self.party_registry_id):
            raise ValueError(f"party_registry_id {self.party_registry_id!r} is not AAA## (e.g. CHE01)")
        if self.party_registry_id[:3] != self.party:
            raise ValueError(f"party_registry_id {self.party_registry_id!r} does not start with {self.party}")
        if self.jwks is None and self.jwks_uri is None and self.tls_client_certificate_thumbprint is None:
            raise ValueError("a participant needs jwks, jwks_uri or a certificate thumbprint")
        if self.jwks is not None:
            try:
                public_key_set(self.jwks, what=f"participant {self.id} jwks")
            except ConfigurationError as exc:
                raise ValueError(exc.message) from exc
        check_officers(self.officers, place="the directory", owner=self.id)
        self._apply_roles()
        return self

    def _apply_roles(self) -> None:
        """Scopes and kinds of an entry with roles: those the roles grant, plus scopes listed by hand (never a
        reserved one); listed kinds may only narrow the roles' kinds. Entries without roles are unchanged."""
        reserved = RESERVED_SCOPES.intersection(self.scopes)
        if reserved and not self.roles:
            raise ValueError(f"scope(s) {', '.join(sorted(reserved))} come only with a role (docs/governance.md)")
        if not self.roles:
            return
        for grant in self.roles:
            grant.check_for(self.party)
        granted = scopes_of(self.roles)
        if reserved - granted:
            raise ValueError(f"scope(s) {', '.join(sorted(reserved - granted))} come only with a role that "
                             "grants them")
        allowed = kinds_of(self.roles)
        extra = [k.value for k in self.message_kinds if k not in allowed]
        if extra:
            raise ValueError(f"message kind(s) {', '.join(extra)} are not allowed by the participant's roles")
        kinds = self.message_kinds or sorted(allowed)
        # frozen model: the derived fields are set once, while the entry is being validated
        object.__setattr__(self, "scopes", sorted(granted.union(self.scopes)))
        object.__setattr__(self, "message_kinds", list(kinds))

    def holds(self, role: str, party: str | None = None) -> bool:
        """Whether the participant holds ``role`` (for ``party``, when given)."""
        return any(g.role == role and (party is None or g.party == party) for g in self.roles)

    @property
    def active(self) -> bool:
        return self.status == "active"

    def public_view(self) -> dict[str, Any]:
        """What another registry may see of this entry (no key material beyond public keys)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Directory(BaseModel):
    """A verified directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: str = Field(min_length=1)
    environment: Environment
    sequence: int = Field(ge=0)
    iat: int
    exp: int
    participants: list[Participant]

    @model_validator(mode="after")
    def _unique(self) -> Directory:
        seen: set[str] = set()
        for p in self.participants:
            if p.id in seen:
                raise ValueError(f"participant id {p.id!r} appears twice")
            seen.add(p.id)
        if self.exp <= self.iat:
            raise ValueError("exp must be after iat")
        return self

    def get(self, participant_id: str) -> Participant | None:
        for p in self.participants:
            if p.id == participant_id:
                return p
        return None


def sign_directory(
    content: dict[str, Any], anchor: Key, *, now: int | None = None, valid_for: int = 86400
) -> str:
    """Sign a directory document with the anchor key; sets ``iat``/``exp`` unless given."""
    issued = int(time.time()) if now is None else now
    body = {"iat": issued, "exp": issued + valid_for, **content}
    try:
        Directory.model_validate(body)
    except ValidationError as exc:
        raise DirectoryError(f"the directory content is invalid: {_first_error(exc)}") from exc
    return jose.sign({"typ": DIRECTORY_TYP}, body, anchor, registry=_REGISTRY)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = "/".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}"


def verify_directory(
    token: str, anchors: dict[str, Key], *, environment: Environment, now: float | None = None, skew: int = 30
) -> Directory:
    """Verify the signature against the anchors and the content; return the directory."""

    def key_for(header: dict[str, Any]) -> Key:
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in anchors:
            raise jose.JwsRejected(
                "KID", f"the directory is signed by {kid!r}, which is no configured anchor"
            )
        return anchors[kid]

    try:
        verified = jose.verify(
            token.strip(),
            typ=[DIRECTORY_TYP],
            key_for=key_for,
            registry=_REGISTRY,
            max_bytes=MAX_DIRECTORY_BYTES,
        )
    except jose.JwsRejected as exc:
        raise DirectoryError(f"directory refused: {exc.message}", code=f"DIRECTORY.{exc.reason}") from exc
    try:
        directory = Directory.model_validate(verified.claims)
    except ValidationError as exc:
        raise DirectoryError(
            f"directory content is invalid: {_first_error(exc)}", code="DIRECTORY.CONTENT"
        ) from exc
    moment = time.time() if now is None else now
    if directory.exp <= moment:
        raise DirectoryExpired(f"the directory expired at {directory.exp} (sequence {directory.sequence})")
    if directory.iat > moment + skew:
        raise DirectoryError("the directory is issued in the future", code="DIRECTORY.NOT_YET_VALID")
    if directory.environment != environment:
        raise DirectoryError(
            f"a {directory.environment} directory cannot be used by a {environment} gateway",
            code="DIRECTORY.ENVIRONMENT",
        )
    return directory


def fetch_directory(source: str, *, timeout: float = 5.0) -> str:
    """Read the directory JWS from a file path or an http(s) URL (size-capped)."""
    if source.startswith(("http://", "https://")):
        try:
            with httpx.Client(timeout=timeout) as client, client.stream("GET", source) as resp:
                if resp.status_code != 200:
                    raise DirectoryUnavailable(f"directory URL answered HTTP {resp.status_code}")
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > MAX_DIRECTORY_BYTES:
                        raise DirectoryUnavailable("the directory is larger than the size limit")
                    chunks.append(chunk)
                data = b"".join(chunks)
        except httpx.HTTPError as exc:
            raise DirectoryUnavailable(f"cannot fetch the directory: {exc}") from exc
    else:
        try:
            data = read_bytes(Path(source), limit=MAX_DIRECTORY_BYTES)
        except (InputError, OSError) as exc:
            raise DirectoryUnavailable(f"cannot read the directory: {exc}") from exc
    try:
        return data.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise DirectoryError("the directory file is not a compact JWS", code="DIRECTORY.MALFORMED") from exc


class DirectoryStore:
    """The gateway's view of the directory: the last good one, refreshed from ``source``."""

    def __init__(
        self,
        loader: Callable[[], str] | None,
        anchors: dict[str, Key],
        *,
        environment: Environment,
        skew: int = 30,
        token: str | None = None,
        describe: str = "directory",
    ) -> None:
        self.loader = loader
        self.describe = describe
        self.anchors = anchors
        self.environment: Environment = environment
        self.skew = skew
        self._lock = threading.Lock()
        self._good: Directory | None = None
        self._token: str | None = None
        self.last_error: DirectoryError | None = None
        self.last_refresh: float | None = None
        self._held: frozenset[str] = frozenset()
        self._held_view: tuple[Directory, frozenset[str], Directory] | None = None
        if token is not None:
            self.accept(token)

    def accept(self, token: str, now: float | None = None) -> Directory:
        """Verify ``token`` and make it current (unless it would roll the sequence back)."""
        directory = verify_directory(
            token, self.anchors, environment=self.environment, now=now, skew=self.skew
        )
        with self._lock:
            if self._good is not None and directory.sequence < self._good.sequence:
                raise DirectoryError(
                    f"directory sequence {directory.sequence} is older than the current "
                    f"{self._good.sequence} (rollback refused)",
                    code="DIRECTORY.ROLLBACK",
                )
            self._good, self._token = directory, token
        return directory

    def refresh(self, now: float | None = None) -> DirectoryError | None:
        """Load from the source once; on failure keep the last good directory. Returns the error."""
        self.last_refresh = time.time() if now is None else now
        if self.loader is None:
            return None
        try:
            self.accept(self.loader(), now=now)
        except DirectoryError as exc:
            self.last_error = exc
            return exc
        self.last_error = None
        return None

    @property
    def token(self) -> str | None:
        return self._token

    def current(self, now: float | None = None) -> Directory:
        """The directory in force; raises when none was ever good or the last good one expired."""
        directory = self._good
        if directory is None:
            detail = f": {self.last_error.message}" if self.last_error else ""
            raise DirectoryUnavailable(f"no valid participant directory{detail}")
        if directory.exp <= (time.time() if now is None else now):
            raise DirectoryExpired(f"the participant directory (sequence {directory.sequence}) has expired")
        held = self._held
        if held and any(p.id in held and p.active for p in directory.participants):
            return self._with_holds(directory, held)
        return directory

    def hold(self, participant_ids: Iterable[str]) -> None:
        """Suspend these registries at this gateway, on top of the signed directory (the operator console's
        suspensions): :meth:`current` shows them ``suspended``, so they neither send nor receive."""
        self._held = frozenset(participant_ids)

    @property
    def held(self) -> frozenset[str]:
        """The registries suspended at this gateway (not by the directory)."""
        return self._held

    def signed(self) -> Directory | None:
        """The last good directory as the governing body signed it (without this gateway's holds)."""
        return self._good

    def _with_holds(self, directory: Directory, held: frozenset[str]) -> Directory:
        cached = self._held_view
        if cached is not None and cached[0] is directory and cached[1] == held:
            return cached[2]
        participants = [p.model_copy(update={"status": "suspended"}) if p.id in held else p
                        for p in directory.participants]
        view = directory.model_copy(update={"participants": participants})
        self._held_view = (directory, held, view)
        return view

    def participant(self, participant_id: str, now: float | None = None) -> Participant:
        """The active participant ``participant_id``; refuses unknown and suspended registries."""
        entry = self.current(now).get(participant_id)
        if entry is None:
            raise ParticipantUnknown(f"{participant_id!r} is not in the participant directory")
        if not entry.active:
            where = "at this gateway by its operator" if participant_id in self._held else "in the directory"
            raise ParticipantUnknown(
                f"registry {participant_id!r} is suspended {where}", code="PARTICIPANT.SUSPENDED"
            )
        return entry


def check_anchor_environment(
    anchors: Iterable[Key], environment: Environment, development_thumbprints: Iterable[str]
) -> None:
    """Production refuses development anchors (by RFC 7638 thumbprint)."""
    if environment != "production":
        return
    dev = set(development_thumbprints)
    for key in anchors:
        if key.thumbprint() in dev:
            raise ConfigurationError(f"anchor {key.kid!r} is a development anchor; production refuses it")

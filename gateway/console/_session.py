"""Console sessions, CSRF tokens and login tickets: HMAC-signed, stateless, shared by every gateway process
that shares the secret (``CARBONLINK_CONSOLE_SECRET``, else one derived from the gateway's signing key).

* A **session** is a cookie (``HttpOnly``, ``SameSite=Strict``, ``Path=/console``, ``Secure`` behind https)
  holding who signed in, with which role, until when.
* A **CSRF token** is the HMAC of the session's (or the login page's) random id: every form carries it and
  every POST is refused without it (the synchronizer token of the OWASP CSRF cheat sheet, kept stateless).
* A **ticket** is a one-time login link the gateway hands a registry that proved a console scope through
  its own OAuth (``POST /console/tickets``); redeeming it is recorded in the replay store, so it works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from gateway.console.errors import CsrfRefused, SignedOut, TicketRefused

Role = Literal["network", "registry"]
#: The OAuth scopes of the console's roles, as the directory lists them for a participant.
SCOPES: dict[Role, str] = {"network": "console:network", "registry": "console:registry"}
SESSION_COOKIE = "carbonlink_console"
LOGIN_COOKIE = "carbonlink_console_login"
TICKET_SECONDS = 120
MAX_TOKEN_CHARS = 4096


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Operator:
    """Who is signed in to the console: ``subject`` (a participant id, or a development name), the role, the
    registry an operator of one registry sees (``None`` for the network operator)."""

    subject: str
    role: Role
    registry: str | None
    expires: int
    sid: str
    via: Literal["oauth", "development"]

    @property
    def sees_all(self) -> bool:
        return self.role == "network"

    def may_see(self, *participants: str) -> bool:
        """Whether a record between ``participants`` is this operator's to see."""
        return self.sees_all or self.registry in participants

    @property
    def label(self) -> str:
        who = "network operator" if self.sees_all else f"operator of {self.registry}"
        return f"{self.subject} ({who})"


class Sealer:
    """Signs and opens the console's tokens with one secret (purposes kept apart in the MAC)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = hashlib.sha256(b"carbonlink.console\0" + secret).digest()

    def _mac(self, purpose: str, body: str) -> str:
        return _b64(hmac.new(self._secret, f"{purpose}\0{body}".encode(), hashlib.sha256).digest())

    def seal(self, purpose: str, claims: dict[str, Any]) -> str:
        body = _b64(orjson.dumps(claims))
        return f"{body}.{self._mac(purpose, body)}"

    def open(self, purpose: str, token: str) -> dict[str, Any] | None:
        """The claims of a token sealed for ``purpose`` and not expired, else ``None``."""
        if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
            return None
        body, mac = token.split(".")
        if not hmac.compare_digest(mac, self._mac(purpose, body)):
            return None
        try:
            claims = orjson.loads(_unb64(body))
        except ValueError:
            return None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            return None
        return claims

    def csrf_token(self, sid: str) -> str:
        return self._mac("csrf", sid)

    def check_csrf(self, sid: str | None, token: str | None) -> None:
        if not sid or not token or not hmac.compare_digest(token, self.csrf_token(sid)):
            raise CsrfRefused("this form is out of date or did not come from the console; reload the page and "
                              "try again")

    # -- sessions -----------------------------------------------------------------------------

    def session(self, subject: str, role: Role, registry: str | None, *, seconds: int,
                via: Literal["oauth", "development"]) -> tuple[str, Operator]:
        operator = Operator(subject=subject, role=role, registry=registry, expires=int(time.time()) + seconds,
                            sid=secrets.token_urlsafe(16), via=via)
        claims = {"sub": subject, "role": role, "registry": registry, "exp": operator.expires, "sid": operator.sid,
                  "via": via}
        return self.seal("session", claims), operator

    def operator(self, cookie: str | None) -> Operator:
        claims = self.open("session", cookie or "")
        if claims is None or claims.get("role") not in SCOPES:
            raise SignedOut("sign in to the console")
        return Operator(subject=str(claims["sub"]), role=claims["role"], registry=claims.get("registry"),
                        expires=int(claims["exp"]), sid=str(claims["sid"]), via=claims.get("via", "oauth"))

    # -- tickets ------------------------------------------------------------------------------

    def ticket(self, subject: str, role: Role, registry: str | None) -> str:
        return self.seal("ticket", {"sub": subject, "role": role, "registry": registry,
                                    "exp": int(time.time()) + TICKET_SECONDS, "jti": secrets.token_urlsafe(16)})

    def open_ticket(self, token: str) -> dict[str, Any]:
        claims = self.open("ticket", token)
        if claims is None or claims.get("role") not in SCOPES or not isinstance(claims.get("jti"), str):
            raise TicketRefused("this login link is not valid or has expired; ask for a new one")
        return claims

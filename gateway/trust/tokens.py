"""RFC 9068 JWT access tokens, always sender-constrained (DPoP ``cnf.jkt`` or mTLS
``cnf.x5t#S256``), signed with the gateway's current key and verified strictly."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import Key

from gateway.trust import jose
from gateway.trust.directory import Participant
from gateway.trust.errors import InvalidToken
from gateway.trust.keys import SigningKeyRing

AT_TYP = ("at+jwt", "application/at+jwt")
#: Verified tokens remembered per gateway process (a client reuses its token for many requests).
VERIFIED_CACHE_SIZE = 2048


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """A verified access token."""

    client_id: str
    scopes: tuple[str, ...]
    jti: str
    iat: int
    exp: int
    jkt: str | None
    x5t: str | None


class TokenService:
    """Issues and verifies the gateway's access tokens."""

    def __init__(
        self, keyring: SigningKeyRing, *, issuer: str, audience: str, ttl: int = 300, skew: int = 30
    ) -> None:
        self.keyring = keyring
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.skew = skew
        # token -> (kid, key object it verified against, its claims); only signatures that verified,
        # so a hit skips the JWS parse and the signature check and nothing else
        self._verified: dict[str, tuple[str, Key, dict[str, Any]]] = {}
        self._remember = threading.Lock()

    def issue(
        self,
        participant: Participant,
        scopes: list[str],
        *,
        jkt: str | None = None,
        x5t: str | None = None,
        now: float | None = None,
    ) -> str:
        """A token for ``participant`` bound to a DPoP key (``jkt``) or a certificate (``x5t``)."""
        if (jkt is None) == (x5t is None):
            raise ValueError("an access token is bound to exactly one of a DPoP key or a certificate")
        issued = int(time.time() if now is None else now)
        cnf = {"jkt": jkt} if jkt is not None else {"x5t#S256": x5t}
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": participant.id,
            "client_id": participant.id,
            "iat": issued,
            "nbf": issued,
            "exp": issued + self.ttl,
            "jti": secrets.token_urlsafe(16),
            "scope": " ".join(scopes),
            "cnf": cnf,
        }
        return self.keyring.sign({"typ": "at+jwt"}, claims)

    def verify(self, token: str, now: float | None = None) -> AccessClaims:
        """Check signature, typ, iss, aud, times and the presence of a binding."""
        moment = time.time() if now is None else now
        c = self._signed_claims(token, moment)
        if c.get("iss") != self.issuer:
            raise InvalidToken("the access token was not issued by this gateway", code="TOKEN.ISSUER")
        aud = c.get("aud")
        if aud != self.audience and not (isinstance(aud, list) and self.audience in aud):
            raise InvalidToken("the access token is meant for another audience", code="TOKEN.AUDIENCE")
        exp, iat = c.get("exp"), c.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            raise InvalidToken("the access token lacks exp or iat", code="TOKEN.CLAIMS")
        if exp <= moment:
            raise InvalidToken("the access token has expired", code="TOKEN.EXPIRED")
        nbf = c.get("nbf", iat)
        if not isinstance(nbf, int) or iat > moment + self.skew or nbf > moment + self.skew:
            raise InvalidToken("the access token is not valid yet", code="TOKEN.NOT_YET_VALID")
        client_id, jti, scope = c.get("client_id"), c.get("jti"), c.get("scope", "")
        if (
            not isinstance(client_id, str)
            or c.get("sub") != client_id
            or not isinstance(jti, str)
            or not isinstance(scope, str)
        ):
            raise InvalidToken("the access token lacks client_id, sub or jti", code="TOKEN.CLAIMS")
        cnf: Any = c.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        x5t = cnf.get("x5t#S256") if isinstance(cnf, dict) else None
        if (
            not isinstance(jkt, str | None)
            or not isinstance(x5t, str | None)
            or (jkt is None) == (x5t is None)
        ):
            raise InvalidToken("the access token is not sender-constrained", code="TOKEN.UNBOUND")
        return AccessClaims(
            client_id=client_id, scopes=tuple(scope.split()), jti=jti, iat=iat, exp=exp, jkt=jkt, x5t=x5t
        )

    def _signed_claims(self, token: str, moment: float) -> dict[str, Any]:
        """The claims of ``token`` once its signature verifies against a key the gateway still accepts.

        A token seen before skips the parse and the signature check, but its key is looked up again
        (a retired key stops it at once); every claim check runs on each call as before. A token is remembered
        only until it expires."""
        seen = self._verified.get(token)
        if seen is not None and not _unexpired(seen[2], moment):
            self._verified.pop(token, None)
            seen = None
        if seen is not None:
            kid, key, claims = seen
            try:
                live = self.keyring.verification_key(kid, moment)
            except jose.JwsRejected as exc:
                self._verified.pop(token, None)
                raise InvalidToken(f"access token refused: {exc.message}", code=f"TOKEN.{exc.reason}") from exc
            if live is key:
                return claims
        used: list[tuple[str, Key]] = []

        def key_for(header: dict[str, Any]) -> Key:
            kid = header.get("kid")
            key = self.keyring.verification_key(kid, moment)
            used.append((str(kid), key))
            return key

        try:
            verified = jose.verify(token, typ=AT_TYP, key_for=key_for)
        except jose.JwsRejected as exc:
            raise InvalidToken(f"access token refused: {exc.message}", code=f"TOKEN.{exc.reason}") from exc
        claims = verified.claims
        if used and _unexpired(claims, moment):
            with self._remember:
                if len(self._verified) >= VERIFIED_CACHE_SIZE:
                    self._verified.pop(next(iter(self._verified)))
                self._verified[token] = (*used[-1], claims)
        return claims


def _unexpired(claims: dict[str, Any], moment: float) -> bool:
    exp = claims.get("exp")
    return isinstance(exp, int) and exp > moment

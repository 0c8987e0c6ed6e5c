"""DPoP server nonces (RFC 9449 §8, §9) derived, not stored.

A nonce is the HMAC-SHA256 of a time window's number under a server secret: every gateway process with
the same secret issues and accepts the same nonces without sharing any state, so a replay store (Redis)
that restarts empty, or is not there at all, does not make every client's nonce stale. The window is half
the nonce lifetime; the nonce of the current window and that of the previous one are accepted, so a nonce
lives between ``ttl / 2`` and ``ttl`` seconds. A client that sends an older one, or none, gets
``use_dpop_nonce`` with the current nonce (RFC 9449 §8), as before.

The secret is ``CARBONLINK_DPOP_NONCE_SECRET`` when set, else derived from the gateway's current signing key
(every process of one gateway shares its keyring, so they agree; a key rotation starts new nonces, and
clients retry once with the nonce they are given).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

import orjson
from joserfc.jwk import Key

__all__ = ["DerivedNonces", "secret_from_key"]

_CONTEXT = b"carbonlink dpop nonce v1\x00"
_NONCE_CHARS = 32


def secret_from_key(key: Key) -> bytes:
    """A nonce secret derived from a private signing key (never the key itself)."""
    private = orjson.dumps(dict(key.as_dict(private=True)), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(_CONTEXT + private).digest()


class DerivedNonces:
    """Issues and checks DPoP nonces derived from ``secret`` and the clock (see the module docstring)."""

    def __init__(self, secret: bytes | None = None, *, ttl: int = 300, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self.window = max(1.0, ttl / 2)
        self._clock = clock
        self._known: dict[int, str] = {}

    def _nonce(self, window: int) -> str:
        """The nonce of ``window`` (a pure function of the secret and the window, so the last few are kept:
        every request checks the current one and maybe the previous one)."""
        known = self._known.get(window)
        if known is not None:
            return known
        mac = hmac.new(self._secret, _CONTEXT + str(window).encode("ascii"), hashlib.sha256).digest()
        nonce = base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")[:_NONCE_CHARS]
        if len(self._known) >= 4:
            self._known.clear()
        self._known[window] = nonce
        return nonce

    def _current_window(self) -> int:
        return int(self._clock() // self.window)

    def issue(self) -> str:
        """The nonce of the current window."""
        return self._nonce(self._current_window())

    def valid(self, nonce: str) -> bool:
        """True for the nonce of the current or the previous window (constant-time comparison)."""
        if len(nonce) != _NONCE_CHARS:
            return False
        window = self._current_window()
        current = hmac.compare_digest(nonce, self._nonce(window))
        previous = hmac.compare_digest(nonce, self._nonce(window - 1))
        return current or previous

"""Production message kinds only from certified senders (``CARBONLINK_CONFORMANCE_REQUIRED_KITS``).

When the settings name kits for a message kind, a sender must list, in its directory entry
(``conformance_certificates``), a certificate for each of those kits that verifies against the suite
operator's keys (``CARBONLINK_CONFORMANCE_OPERATOR_KEYS``) and has not expired; otherwise the message is
refused with 403 ``CONFORMANCE.CERTIFICATE_REQUIRED`` before it is read. Verified certificates are cached
until they expire. The directory is signed by the governing body, so the certificates it lists are the
ones it accepted for that registry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from joserfc.jwk import Key

from gateway.settings import ConformanceSection
from gateway.trust.directory import Participant
from gateway.trust.errors import ConfigurationError


class CertificateGate:
    """Checks a sender's certificates against the kits its message kind needs."""

    def __init__(self, required: Mapping[str, Sequence[str]], operator_keys: Path | None) -> None:
        self.required = {kind: tuple(kits) for kind, kits in required.items() if kits}
        self._keys_path = operator_keys
        self._keys: dict[str, Key] | None = None
        self._verified: dict[str, tuple[str, int]] = {}  # token -> (kit name, expiry)
        self._lock = threading.Lock()
        if self.required and operator_keys is None:
            raise ConfigurationError("CARBONLINK_CONFORMANCE_REQUIRED_KITS needs CARBONLINK_CONFORMANCE_OPERATOR_KEYS "
                                     "(the suite operator's public JWKS)")

    @classmethod
    def from_settings(cls, section: ConformanceSection) -> CertificateGate:
        return cls(section.conformance_required_kits, section.conformance_operator_keys)

    def _operator_keys(self) -> dict[str, Key]:
        if self._keys is None:
            from conformance.certificate import load_public_keys

            assert self._keys_path is not None
            self._keys = load_public_keys(self._keys_path)
        return self._keys

    def _kit_of(self, token: str, now: int) -> str | None:
        """The kit a certificate is valid for, or None (bad signature, expired, malformed)."""
        from conformance import certificate
        from standards.errors import CarbonlinkError

        with self._lock:
            cached = self._verified.get(token)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            verified = certificate.verify(token, self._operator_keys(), now=now)
        except CarbonlinkError:
            return None
        with self._lock:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[token] = (verified.kit, verified.expires_at)
        return verified.kit

    def check(self, sender: Participant, kind: str) -> None:
        """Refuse (:class:`~conformance.errors.CertificateRequired`) a sender that lacks a needed certificate."""
        needed = self.required.get(kind)
        if not needed:
            return
        from conformance.errors import CertificateRequired

        now = int(time.time())
        held = {kit for token in sender.conformance_certificates if (kit := self._kit_of(token, now))}
        missing = [kit for kit in needed if kit not in held]
        if missing:
            raise CertificateRequired(f"{sender.id!r} may send {kind} messages only with a valid conformance "
                                      f"certificate for {', '.join(missing)} in its directory entry")

"""Client certificates for the endpoint kits' RFC 8705 tests (mTLS certificate-bound access tokens).

Options (``--client-cert/--client-key/--other-cert/--other-key/--ca`` on the command line, or ``--option``):

* ``client_cert`` / ``client_key``: the certificate (PEM) and its private key the suite presents as *its*
  certificate: the registry's (``gateway-peer``; its ``x5t#S256`` is the one the gateway's directory lists)
  or the gateway's (``registry-endpoint``);
* ``other_cert`` / ``other_key``: a second certificate, valid for the peer's TLS listener (issued by the
  CA it trusts) but not the one a token is bound to, for the "another certificate" tests;
* ``ca``: the CA file that verifies the peer's TLS server certificate (default: the system's CAs);
* ``cert_header``: instead of TLS, pass the certificate (URL-encoded PEM) in this header, the way a
  TLS-terminating proxy the peer trusts does (e.g. ``x-client-cert``; the peer must list the suite's
  address among its trusted proxies).

Without ``client_cert`` the certificate tests are omitted (not applicable); with ``client_cert`` but no
``other_cert`` the "another certificate" tests are omitted.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from conformance.errors import TargetUnusable
from conformance.gates import Omitted
from gateway.trust.client_auth import cert_thumbprint

Which = Literal["own", "other", "none"]


def _read_cert(path: str, what: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise TargetUnusable(f"{what} {path}: not a readable PEM certificate ({exc})") from exc


@dataclass(frozen=True)
class Certificates:
    """The suite's client certificates and how it presents them."""

    own: tuple[str, str] | None = None
    other: tuple[str, str] | None = None
    ca: str | None = None
    header: str | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Certificates:
        pairs: dict[str, tuple[str, str] | None] = {}
        for prefix in ("client", "other"):
            cert, key = options.get(f"{prefix}_cert"), options.get(f"{prefix}_key")
            if cert is None:
                if key is not None:
                    raise TargetUnusable(f"--option {prefix}_key needs {prefix}_cert (the certificate it belongs to)")
                pairs[prefix] = None
                continue
            header = options.get("cert_header")
            if key is None and header is None:
                raise TargetUnusable(f"--option {prefix}_cert needs {prefix}_key (the certificate's private key)")
            _read_cert(str(cert), f"{prefix}_cert")
            pairs[prefix] = (str(cert), str(key) if key is not None else "")
        if pairs["other"] is not None and pairs["client"] is None:
            raise TargetUnusable("--option other_cert needs client_cert too")
        ca = options.get("ca")
        if ca is not None and not Path(str(ca)).is_file():
            raise TargetUnusable(f"ca {ca}: no such file")
        header = options.get("cert_header")
        return cls(pairs["client"], pairs["other"], str(ca) if ca is not None else None,
                   str(header) if header else None)

    @property
    def given(self) -> bool:
        return self.own is not None

    def verify(self) -> ssl.SSLContext | bool:
        """What verifies the peer's TLS server certificate."""
        return ssl.create_default_context(cafile=self.ca) if self.ca else True

    def need(self, which: Which) -> None:
        """Omit the test when the certificate it needs was not given."""
        if self.own is None:
            raise Omitted("no client certificate was given (--client-cert, --client-key)")
        if which == "other" and self.other is None:
            raise Omitted("no second certificate was given (--other-cert, --other-key)")

    def _pair(self, which: Which) -> tuple[str, str] | None:
        return self.own if which == "own" else self.other if which == "other" else None

    def thumbprint(self, which: Which = "own") -> str:
        pair = self._pair(which)
        assert pair is not None
        return cert_thumbprint(_read_cert(pair[0], "certificate").public_bytes(Encoding.DER))

    def client(self, which: Which, timeout: float = 30) -> httpx.Client:
        """An HTTP client presenting ``which`` certificate (over TLS, or in the proxy header)."""
        pair = self._pair(which)
        if self.header is not None:
            headers = {self.header: quote(Path(pair[0]).read_text(encoding="ascii"))} if pair else {}
            return httpx.Client(verify=self.verify(), timeout=timeout, headers=headers)
        context = ssl.create_default_context(cafile=self.ca)
        if pair is not None:
            context.load_cert_chain(pair[0], pair[1])
        return httpx.Client(verify=context, timeout=timeout)

"""A throwaway PKI for RFC 8705 tests: a CA, a server certificate for 127.0.0.1 and client certificates,
written as PEM files into a folder (``cryptography``)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str, issuer_key: Any, issuer_name: x509.Name, key: Any, *, ca: bool = False, server: bool = False
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


class Pki:
    """``ca_path``; ``server`` (for 127.0.0.1), ``fra`` and ``other``: (cert path, key path, DER)."""

    def __init__(self, root: Path, *, clients: tuple[str, ...] = ("fra-registry", "somebody-else")) -> None:
        self.root = root
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = _cert("test registry CA", self.ca_key, _name("test registry CA"), self.ca_key, ca=True)
        self.ca_path = self._write("ca.pem", self.ca)
        self.server = self.issue("gateway", server=True)
        self.fra = self.issue(clients[0])
        self.other = self.issue(clients[1])

    def _write(self, name: str, cert: x509.Certificate) -> Path:
        path = self.root / name
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path

    def issue(self, cn: str, *, server: bool = False) -> tuple[Path, Path, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _cert(cn, self.ca_key, self.ca.subject, key, server=server)
        key_path = self.root / f"{cn}.key"
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return self._write(f"{cn}.pem", cert), key_path, cert.public_bytes(serialization.Encoding.DER)

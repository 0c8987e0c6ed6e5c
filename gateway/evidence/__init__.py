"""The gateway's evidence log: an append-only, hash-chained, signed record of every exchange.

Typical use on the request path::

    log = open_log("sqlite:///var/lib/carbonlink/evidence.db", signer=JwkSigner.from_keyring_file(path))
    record = log.append(Exchange(kind="transfer", sender="CHE", receiver="GHA", message_id="m-1",
                                 inbound_sha256=..., outbound_sha256=..., receipt={...},
                                 verdicts={"validation": {"error": 0}, "receiver": "ACCEPTED"}))

``log.verify(KeySetVerifier.from_jwks(jwks))`` proves the chain; :func:`export_log` writes a
file that :func:`verify_export` checks offline. The format is specified in docs/evidence.md.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from gateway.digests import sha256_hex
from gateway.evidence.errors import (
    EvidenceConfigError,
    EvidenceError,
    EvidenceStoreUnavailable,
    ExportUnreadable,
    InvalidEntry,
    NotJcs,
)
from gateway.evidence.export import ExportSummary, export_log, verify_export
from gateway.evidence.jcs import jcs_bytes
from gateway.evidence.log import EvidenceLog
from gateway.evidence.record import GENESIS_PREV_HASH, EvidenceRecord, Exchange
from gateway.evidence.signing import JwkSigner, KeySetVerifier, Signer
from gateway.evidence.verify import CATALOGUE, ChainReport

__all__ = [
    "CATALOGUE",
    "GENESIS_PREV_HASH",
    "ChainReport",
    "EvidenceConfigError",
    "EvidenceError",
    "EvidenceLog",
    "EvidenceRecord",
    "EvidenceStoreUnavailable",
    "Exchange",
    "ExportSummary",
    "ExportUnreadable",
    "InvalidEntry",
    "JwkSigner",
    "KeySetVerifier",
    "NotJcs",
    "Signer",
    "export_log",
    "jcs_bytes",
    "open_log",
    "sha256_hex",
    "verify_export",
]


def _split_options(url: str, allowed: set[str]) -> tuple[str, dict[str, str]]:
    """Take carbonlink's own query options out of a URL, leaving the driver's (sslmode...) in."""
    parts = urlsplit(url)
    options: dict[str, str] = {}
    keep: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in allowed:
            options[key] = value
        else:
            keep.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(keep))), options


def open_log(url: str, *, signer: Signer | None = None, create: bool = True) -> EvidenceLog:
    """Open the log named by ``url`` (``sqlite:///path`` or ``postgresql://...``).

    Without a ``signer`` the log is read-only (show, verify, export). ``create=False`` refuses
    to create a missing SQLite file (reading commands must not invent an empty log).
    """
    if url.startswith("sqlite://"):
        from gateway.evidence.sqlite import SqliteEvidenceLog

        path, _, query = url[len("sqlite://"):].partition("?")
        options = dict(parse_qsl(query, keep_blank_values=True))
        unknown = sorted(set(options) - {"table", "synchronous"})
        if unknown:
            raise EvidenceConfigError(f"unknown SQLite evidence option(s) {', '.join(unknown)} "
                                      "(known: table, synchronous)")
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise EvidenceConfigError("a SQLite evidence URL names a file: sqlite:///relative or sqlite:////abs")
        return SqliteEvidenceLog(path, signer=signer, table=options.get("table", "evidence"),
                                 synchronous=options.get("synchronous", "full"), create=create)
    if url.startswith(("postgresql://", "postgres://")):
        from gateway.evidence.postgres import PostgresEvidenceLog

        dsn, options = _split_options(url, {"table"})
        return PostgresEvidenceLog(dsn.rstrip("?"), signer=signer, table=options.get("table", "evidence"))
    raise EvidenceConfigError(f"evidence log URL {url!r} is neither sqlite:///... nor postgresql://...")


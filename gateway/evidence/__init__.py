"""The gateway's evidence log: an append-only, hash-chained, signed record of every exchange.

Typical use on the request path::

    log = open_log("sqlite:///var/lib/carbonlink/evidence.db", signer=JwkSigner.from_keyring_file(path))
    record = log.append(Exchange(kind="transfer", sender="CHE", receiver="GHA", message_id="m-1",
                                 inbound_sha256=..., outbound_sha256=..., receipt={...},
                                 verdicts={"validation": {"error": 0}, "receiver": "ACCEPTED"}))

``log.verify(KeySetVerifier.from_jwks(jwks))`` proves the chain; :func:`export_log` writes a
file that :func:`verify_export` checks offline. The format is specified in docs/evidence.md.
"""

from gateway.evidence.canonical import canonical_json, sha256_hex
from gateway.evidence.errors import (
    EvidenceConfigError,
    EvidenceError,
    EvidenceStoreUnavailable,
    ExportUnreadable,
    InvalidEntry,
    NotCanonical,
)
from gateway.evidence.export import ExportSummary, export_log, verify_export
from gateway.evidence.log import EvidenceLog, open_log
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
    "NotCanonical",
    "Signer",
    "canonical_json",
    "export_log",
    "open_log",
    "sha256_hex",
    "verify_export",
]

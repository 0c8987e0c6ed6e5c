"""Self-contained evidence exports an auditor verifies offline.

An export is a JSON-lines file. Line 1 is the **manifest**; every further line is one record
as JCS bytes, in ``seq`` order::

    {"format": "carbonlink-evidence-export", "version": 1, "created": "...Z",
     "canonicalization": "RFC 8785 (integers only)", "hash": "SHA-256",
     "first_seq": 1, "prev_hash": "000...0", "head_seq": N, "head_hash": "...", "records": N,
     "jwks": {"keys": [...]}, "signature": "<compact JWS>"}

``signature`` is a gateway JWS whose payload is the SHA-256 hex of the JCS bytes of the
manifest without ``signature``: it pins the count and the head, so a truncated or extended
export is detected. ``jwks`` holds the public keys that signed; an auditor who has the
gateway's published JWKS passes it instead (``--jwks``) so the check does not rest on keys
carried by the file itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from gateway.digests import sha256_hex
from gateway.evidence.errors import EvidenceConfigError, ExportUnreadable, InvalidEntry
from gateway.evidence.jcs import jcs_bytes
from gateway.evidence.log import EvidenceLog
from gateway.evidence.record import GENESIS_PREV_HASH, EvidenceRecord, utc_timestamp
from gateway.evidence.signing import KeySetVerifier, SignatureProblem, Signer
from gateway.evidence.verify import ChainReport, ChainVerifier

EXPORT_FORMAT = "carbonlink-evidence-export"
EXPORT_VERSION = 1
MAX_LINE_BYTES = 4 * 1024 * 1024  # one record: two JSON fields of up to 1 MiB each, escaped
_MANIFEST_FIELDS = {"format", "version", "created", "canonicalization", "hash", "first_seq", "prev_hash",
                    "head_seq", "head_hash", "records", "jwks", "signature"}


@dataclass(frozen=True, slots=True)
class ExportSummary:
    path: Path
    records: int
    head_seq: int
    head_hash: str


def _manifest_digest(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return sha256_hex(jcs_bytes(body)).encode("ascii")


def export_log(log: EvidenceLog, path: Path, *, signer: Signer, jwks: dict[str, Any] | None = None,
               from_seq: int = 1) -> ExportSummary:
    """Write the chain from ``from_seq`` to the current head to ``path``; records appended
    meanwhile are left out. A partial export (``from_seq`` > 1) starts from the ``prev_hash`` of
    its first record, which the signed manifest pins; an auditor links consecutive exports by it.

    ``jwks`` are the public keys to embed (default: those the log recorded plus the signer's).
    The file is written next to ``path`` and renamed into place, so it is never half-written.
    """
    head_seq, head_hash = log.head()
    if from_seq < 1 or (from_seq > head_seq + 1):
        raise EvidenceConfigError(f"--from-seq {from_seq} is outside the log (1..{head_seq + 1})")
    prev_hash = GENESIS_PREV_HASH
    if from_seq > 1:
        before = log.get(from_seq - 1)
        if before is None:
            raise EvidenceConfigError(f"record {from_seq - 1} is missing: run verify first",
                                      code="EVIDENCE.EXPORT_INCOMPLETE")
        prev_hash = before.hash
    keys = list((jwks or {"keys": list(log.recorded_keys().values())}).get("keys", []))
    if signer.kid not in {k.get("kid") for k in keys if isinstance(k, dict)}:
        keys.append(signer.public_jwk())
    manifest: dict[str, Any] = {
        "format": EXPORT_FORMAT, "version": EXPORT_VERSION, "created": utc_timestamp(),
        "canonicalization": "RFC 8785 (integers only)", "hash": "SHA-256", "first_seq": from_seq,
        "prev_hash": prev_hash, "head_seq": head_seq, "head_hash": head_hash,
        "records": head_seq - from_seq + 1,
        "jwks": {"keys": keys}}
    manifest["signature"] = signer.sign(_manifest_digest(manifest))
    tmp = path.with_name(path.name + ".partial")
    count = 0
    try:
        with tmp.open("wb") as out:
            out.write(jcs_bytes(manifest) + b"\n")
            for record in log.records(from_seq=from_seq, to_seq=head_seq):
                out.write(record.to_line() + b"\n")
                count += 1
            out.flush()
            os.fsync(out.fileno())
        if count != head_seq - from_seq + 1:
            raise EvidenceConfigError(f"the log has {count} records from seq {from_seq} to {head_seq}: "
                                      "run verify first",
                                      code="EVIDENCE.EXPORT_INCOMPLETE")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return ExportSummary(path=path, records=count, head_seq=head_seq, head_hash=head_hash)


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise ExportUnreadable(f"line {number} is longer than {MAX_LINE_BYTES} bytes")
        yield number, line.rstrip(b"\r\n")


def read_manifest(line: bytes) -> dict[str, Any]:
    try:
        manifest = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ExportUnreadable(f"line 1 (the manifest) is not JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
        raise ExportUnreadable(f"line 1 is not a {EXPORT_FORMAT} manifest")
    if manifest.get("version") != EXPORT_VERSION:
        raise ExportUnreadable(f"export version {manifest.get('version')!r} is not {EXPORT_VERSION}")
    missing = sorted(_MANIFEST_FIELDS - set(manifest))
    if missing:
        raise ExportUnreadable(f"the manifest lacks {', '.join(missing)}")
    for name in ("first_seq", "head_seq", "records"):
        if not isinstance(manifest[name], int) or isinstance(manifest[name], bool) or manifest[name] < 0:
            raise ExportUnreadable(f"manifest field {name} is not a non-negative integer")
    return manifest


def verify_export(path: Path, *, keys: KeySetVerifier | None = None,
                  signatures: str = "all") -> tuple[ChainReport, dict[str, Any]]:
    """Verify an export offline. ``keys`` default to the JWKS embedded in the file.

    Returns the chain report and the manifest. Unreadable files raise :class:`ExportUnreadable`.
    """
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise ExportUnreadable(f"cannot read {path}: {exc.strerror}", code="INPUT.NOT_FOUND") from exc
    with stream:
        lines = _lines(stream)
        first = next(lines, None)
        if first is None:
            raise ExportUnreadable(f"{path} is empty")
        manifest = read_manifest(first[1])
        trusted = keys or KeySetVerifier.from_jwks(manifest["jwks"], what=f"{path} (embedded JWKS)")
        verifier = ChainVerifier(trusted, prev_hash=str(manifest["prev_hash"]),
                                 next_seq=int(manifest["first_seq"]), signatures=signatures)
        try:
            trusted.verify(manifest["signature"], _manifest_digest(manifest))
        except SignatureProblem as exc:
            verifier.fail("EVIDENCE.MANIFEST_SIGNATURE", f"manifest: {exc.message}", "/manifest/signature",
                          line=1)
            return verifier.report, manifest
        for number, line in lines:
            if not line.strip():
                continue
            try:
                record = EvidenceRecord.from_dict(orjson.loads(line))
            except (orjson.JSONDecodeError, InvalidEntry) as exc:
                verifier.fail("EVIDENCE.RECORD_MALFORMED", f"line {number}: {exc}", "/records", line=number)
                break
            if not verifier.check(record, line=number):
                break
    report = verifier.finish()
    if report.ok and (report.records != manifest["records"] or report.head_seq != manifest["head_seq"]
                      or report.head_hash != manifest["head_hash"]):
        verifier.fail("EVIDENCE.HEAD_MISMATCH",
                      f"the manifest announces {manifest['records']} records ending at seq "
                      f"{manifest['head_seq']} ({str(manifest['head_hash'])[:16]}...), the file holds "
                      f"{report.records} ending at seq {report.head_seq} ({report.head_hash[:16]}...)",
                      "/manifest/head_hash")
    return report, manifest

"""Evidence packages: the files a monitoring report (or a verification) rests on, uploaded to the gateway by
content (``PUT /v1/mrv/evidence/{sha256}``), bounded in size, checked against the digest they are uploaded under,
kept in the evidence store and attested by the gateway (who uploaded it, in which directory role)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.digests import sha256_hex
from gateway.mrv._blobs import BlobStore, check_digest
from gateway.mrv._records import EVIDENCE_TYP, sign_record
from gateway.mrv._store import MrvStore, StoredEvidence
from gateway.mrv.errors import EvidenceDigestMismatch, EvidenceNotFound, EvidenceTooLarge, MrvRoleRefused
from gateway.trust.directory import Participant
from gateway.trust.keys import SigningKeyRing
from gateway.trust.roles import Role

#: The roles whose files the gateway attests, in the order an uploader's role is named.
ATTESTING_ROLES = (Role.MRV_SYSTEM, Role.VERIFIER, Role.REGISTRY_OPERATOR)


@dataclass
class EvidenceService:
    """Uploads and downloads of evidence files (the routes call it from a worker thread)."""

    store: MrvStore
    blobs: BlobStore
    keyring: SigningKeyRing
    max_bytes: int

    def upload(self, uploader: Participant, sha256: str, data: bytes, media_type: str | None) -> StoredEvidence:
        """Keep ``data`` under ``sha256`` once its bytes hash to it; return the gateway's attestation."""
        check_digest(sha256)
        if len(data) > self.max_bytes:
            raise EvidenceTooLarge(f"the evidence file is {len(data)} bytes; at most {self.max_bytes} are taken")
        role = next((r for r in ATTESTING_ROLES if uploader.holds(r.value)), None)
        if role is None:
            raise MrvRoleRefused(f"{uploader.id!r} holds no role whose evidence the gateway attests (mrv-system, "
                                 "verifier, registry-operator)")
        actual = sha256_hex(data)
        if actual != sha256:
            raise EvidenceDigestMismatch(f"the uploaded bytes hash to {actual}, not to {sha256} named in the path; "
                                         "nothing was stored")
        media = (media_type or "application/octet-stream").split(";")[0].strip()[:200] or "application/octet-stream"
        self.blobs.put(sha256, data)
        at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        attestation = sign_record(self.keyring, EVIDENCE_TYP, {
            "sha256": sha256, "size": len(data), "media_type": media, "uploaded_by": uploader.id,
            "role": role.value, "uploaded_at": at})
        return self.store.attest(StoredEvidence(sha256, len(data), media, uploader.id, role.value, attestation))

    def download(self, sha256: str) -> tuple[bytes, str]:
        check_digest(sha256)
        attested = self.store.evidence(sha256)
        if not attested:
            raise EvidenceNotFound(f"no evidence file {sha256} was uploaded to this gateway")
        return self.blobs.get(sha256), attested[0].media_type

    def attestations(self, sha256: str) -> list[StoredEvidence]:
        check_digest(sha256)
        return self.store.evidence(sha256)

    def close(self) -> None:
        self.blobs.close()
        self.store.close()

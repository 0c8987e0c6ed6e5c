"""Where evidence files live, by content (SHA-256): a folder on the gateway's disk (embedded default) or an
S3-compatible object store (``s3://bucket/prefix?endpoint_url=...&region=...``) shared by every gateway process.

A file is written under its digest only after its bytes were hashed, so the name always tells the content; a
file read back is hashed again, so a store that changed it is caught (``MRV_GATEWAY.EVIDENCE_DIGEST``).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from gateway.digests import sha256_hex
from gateway.mrv.errors import EvidenceDigestMismatch, EvidenceNotFound, MrvConfigError, MrvStoreUnavailable

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check_digest(value: str) -> str:
    if not _SHA256.fullmatch(value):
        raise EvidenceNotFound(f"{value[:80]!r} is not a lowercase hexadecimal SHA-256 digest")
    return value


class BlobStore(Protocol):
    url: str

    def put(self, sha256: str, data: bytes) -> None: ...

    def get(self, sha256: str) -> bytes: ...

    def has(self, sha256: str) -> bool: ...

    def close(self) -> None: ...


def verified(sha256: str, data: bytes) -> bytes:
    """``data`` if it hashes to ``sha256``."""
    actual = sha256_hex(data)
    if actual != sha256:
        raise EvidenceDigestMismatch(f"the evidence file stored as {sha256} hashes to {actual}")
    return data


class FolderBlobs:
    """Files in a folder, ``<aa>/<sha256>``; written to a temporary file and renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = f"file://{root}"
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MrvStoreUnavailable(f"cannot create the evidence folder {root}: {exc}") from exc

    def _path(self, sha256: str) -> Path:
        check_digest(sha256)
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, data: bytes) -> None:
        path = self._path(sha256)
        if path.exists():
            return
        try:
            path.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)
            raise MrvStoreUnavailable(f"cannot write evidence file {sha256}: {exc}") from exc

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        try:
            return verified(sha256, path.read_bytes())
        except FileNotFoundError as exc:
            raise EvidenceNotFound(f"no evidence file {sha256} at this gateway") from exc
        except OSError as exc:
            raise MrvStoreUnavailable(f"cannot read evidence file {sha256}: {exc}") from exc

    def has(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def close(self) -> None:
        return None


class S3Blobs:
    """Objects ``<prefix><sha256>`` in one bucket of an S3-compatible store (boto3; credentials from the URL's
    ``access_key``/``secret_key`` or boto3's own chain)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        if not parts.netloc:
            raise MrvConfigError(f"evidence store URL {url!r}: s3://bucket[/prefix][?endpoint_url=...]")
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:  # pragma: no cover - boto3 is a dependency
            raise MrvConfigError("the S3 evidence store needs boto3") from exc
        self.bucket = parts.netloc
        self.prefix = parts.path.lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        self.url = f"s3://{self.bucket}/{self.prefix}"
        self._client: Any = boto3.client(
            "s3", endpoint_url=query.get("endpoint_url"), region_name=query.get("region", "us-east-1"),
            aws_access_key_id=query.get("access_key"), aws_secret_access_key=query.get("secret_key"),
            config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30))

    def _key(self, sha256: str) -> str:
        return self.prefix + check_digest(sha256)

    def put(self, sha256: str, data: bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(sha256), Body=data,
                                    ContentType="application/octet-stream")
        except Exception as exc:  # botocore's errors
            raise MrvStoreUnavailable(f"cannot write evidence file {sha256} to {self.url}: {exc}") from exc

    def get(self, sha256: str) -> bytes:
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=self._key(sha256))
            data = answer["Body"].read()
        except Exception as exc:
            if _not_found(exc):
                raise EvidenceNotFound(f"no evidence file {sha256} at this gateway") from exc
            raise MrvStoreUnavailable(f"cannot read evidence file {sha256} from {self.url}: {exc}") from exc
        return verified(sha256, bytes(data))

    def has(self, sha256: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(sha256))
            return True
        except Exception as exc:
            if _not_found(exc):
                return False
            raise MrvStoreUnavailable(f"cannot reach the evidence store {self.url}: {exc}") from exc

    def close(self) -> None:
        self._client.close()


def _not_found(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    code = str((response or {}).get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""
    return code in ("404", "NoSuchKey", "NotFound")


def open_blobs(url: str) -> BlobStore:
    """``file:///folder`` (or a plain path) or ``s3://bucket/prefix?endpoint_url=...``."""
    if url.startswith("s3://"):
        return S3Blobs(url)
    if url.startswith("file://"):
        return FolderBlobs(Path(url[len("file://"):]))
    if "://" in url:
        raise MrvConfigError(f"evidence store URL {url!r} is neither a folder, file:///... nor s3://...")
    return FolderBlobs(Path(url))

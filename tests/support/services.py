"""The local services of the ``service`` tier, found through the configured URLs:
``CARBONLINK_TEST_REDIS_URL`` and ``CARBONLINK_TEST_POSTGRES_DSN``. A test that needs an absent
service skips and names the reason, or fails when ``CARBONLINK_REQUIRE_SERVICES=1`` (``.ci/run``)."""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlsplit

import pytest

# Not database 15: earlier versions of these fixtures flushed it before and after every Redis test, and
# an older checkout running beside this one still would. Isolation itself comes from key prefixes.
REDIS_URL = os.environ.get("CARBONLINK_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
POSTGRES_DSN = os.environ.get("CARBONLINK_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = "CARBONLINK_REQUIRE_SERVICES"


def _endpoint(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, default_port: int, variable: str) -> None:
    """Skip (or fail under ``CARBONLINK_REQUIRE_SERVICES=1``) unless ``url``'s host answers."""
    host, port = _endpoint(url, default_port)
    if _reachable(host, port):
        return
    reason = f"{name} is not reachable on {host}:{port} (from {variable} or its default)"
    if os.environ.get(REQUIRE_SERVICES) == "1":
        pytest.fail(f"{reason}; {REQUIRE_SERVICES}=1 makes this a failure")
    pytest.skip(f"{reason}; start it or point {variable} at one")


def require_redis() -> str:
    require_service("Redis", REDIS_URL, 6379, "CARBONLINK_TEST_REDIS_URL")
    return REDIS_URL


def require_postgres() -> str:
    require_service("PostgreSQL", POSTGRES_DSN, 5432, "CARBONLINK_TEST_POSTGRES_DSN")
    return POSTGRES_DSN


def unique_prefix(what: str = "test") -> str:
    """A key prefix (or table name part) no other test or concurrent run uses."""
    return f"cl-{what}-{uuid.uuid4().hex[:12]}"


def delete_redis_keys(url: str, prefix: str) -> int:
    """Delete the keys under ``prefix`` only (never FLUSHDB: other runs may share the database)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        removed = 0
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                removed += int(client.delete(*batch))
                batch.clear()
        if batch:
            removed += int(client.delete(*batch))
        return removed
    finally:
        client.close()

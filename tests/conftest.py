"""Shared fixtures. Service-backed tests skip when the service is absent, unless
``CARBONLINK_REQUIRE_SERVICES=1`` (set by ``.ci/run``), which turns the skip into a failure."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

REDIS_URL = os.environ.get("CARBONLINK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_DSN = os.environ.get("CARBONLINK_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    reason = f"{name} is not reachable on {host}:{port}"
    if os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (CARBONLINK_REQUIRE_SERVICES=1)")
    pytest.skip(f"{reason}; scale-out tests need it (set CARBONLINK_TEST_REDIS_URL / _POSTGRES_DSN)")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL on a test database, flushed before and after the test."""
    require_service("Redis", "127.0.0.1", 6379)
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def postgres_dsn() -> str:
    """A PostgreSQL DSN for the local test database."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_DSN

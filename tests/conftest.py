"""Shared fixtures and the test tiers.

* in-process (the default): the CLI through ``tests.support.cli.run_cli``, apps through TestClient,
  ASGITransport or uvicorn in a thread;
* ``e2e``: real ``carbonlink`` processes (start-up refusals, restarts, two processes racing, real
  HTTP between processes); ``pytest -m "not e2e"`` is the fast loop;
* ``service``: needs Redis/PostgreSQL (``tests.support.services``); skipped with the reason when
  absent, a failure under ``CARBONLINK_REQUIRE_SERVICES=1`` (set by ``.ci/run``).

Redis tests never flush a database: each gets a unique key prefix and deletes only its own keys,
so concurrent runs sharing the database cannot disturb each other."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.edge import EdgeEnvironment
from tests.support.services import delete_redis_keys, require_postgres, require_redis, unique_prefix


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The configured Redis URL (``CARBONLINK_TEST_REDIS_URL``); never flushed. Keys a test creates
    must be its own: use ``redis_prefix`` or unique names."""
    yield require_redis()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test alone; its keys are deleted afterwards."""
    prefix = unique_prefix()
    yield prefix
    delete_redis_keys(redis_url, prefix)


@pytest.fixture
def postgres_dsn() -> str:
    """The configured PostgreSQL DSN (``CARBONLINK_TEST_POSTGRES_DSN``); tests use unique table names."""
    return require_postgres()


SERVICE_FIXTURES = frozenset({"redis_url", "redis_prefix", "postgres_dsn"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that asks for a service fixture is in the ``service`` tier (parametrised backends and
    fixtures that request services dynamically carry the mark themselves)."""
    for item in items:
        if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.service)


@pytest.fixture
def edge_env() -> Iterator[EdgeEnvironment]:
    """``CARBONLINK_*`` variables as the edge reads them, handed down to standards and adapters
    (``edge_env.setenv(name, value)``); restored afterwards."""
    edge = EdgeEnvironment()
    yield edge
    edge.close()

"""Idempotency-store fixtures: one store per backend, on a unique table / key prefix."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.idempotency import IdempotencyStore, open_store

DIGEST_A = "a" * 64
DIGEST_B = "b" * 64


class Backend:
    def __init__(self, name: str, url: str) -> None:
        self.name, self.url = name, url
        self._opened: list[IdempotencyStore] = []

    def open(self, *, lease_seconds: float = 120.0, retention_seconds: float = 3600.0) -> IdempotencyStore:
        store = open_store(self.url, lease_seconds=lease_seconds, retention_seconds=retention_seconds)
        self._opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self._opened:
            store.close()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.service)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    unique = uuid.uuid4().hex[:12]
    if request.param == "sqlite":
        made = Backend("sqlite", f"sqlite:///{tmp_path / 'idem.db'}?table=idem_{unique}")
    else:
        url: str = request.getfixturevalue("redis_url")
        prefix: str = request.getfixturevalue("redis_prefix")  # this test's keys only; deleted afterwards
        made = Backend("redis", f"{url}?prefix={prefix}")
    yield made
    made.close_all()


@pytest.fixture
def store(backend: Backend) -> IdempotencyStore:
    return backend.open()


StoreFactory = Callable[..., IdempotencyStore]

"""The Redis store's own connections: one per thread, made again after a drop, scripts loaded again."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis

from gateway.idempotency import ClaimState, open_store
from gateway.idempotency.redis import RedisIdempotencyStore

pytestmark = pytest.mark.service

DIGEST = "c" * 64


@pytest.fixture
def store(redis_url: str, redis_prefix: str) -> Iterator[RedisIdempotencyStore]:
    opened = open_store(f"{redis_url}?prefix={redis_prefix}")
    assert isinstance(opened, RedisIdempotencyStore)
    yield opened
    opened.close()


def test_a_dropped_connection_is_made_again(store: RedisIdempotencyStore, redis_url: str) -> None:
    first = store.claim("gha", "m-1", DIGEST)
    conn = store._connection()
    conn.send_command("CLIENT", "ID")
    client_id = conn.read_response()
    killer = redis.Redis.from_url(redis_url)
    try:
        assert killer.client_kill_filter(_id=client_id) == 1
    finally:
        killer.close()
    store.complete(first, {"status": 200})  # on a connection made again
    again = store.claim("gha", "m-1", DIGEST)
    assert again.state is ClaimState.DONE and again.receipt == {"status": 200}


def test_a_server_without_the_scripts_gets_them_again(store: RedisIdempotencyStore) -> None:
    store._claim.sha = "0" * 40  # a script the server does not know: NOSCRIPT, then SCRIPT LOAD
    claim = store.claim("gha", "m-2", DIGEST)
    assert claim.state is ClaimState.NEW
    assert store._claim.sha == store._redis.script_load(store._claim.script)
    assert store.claim("gha", "m-2", DIGEST).state is ClaimState.IN_PROGRESS


def test_each_thread_has_its_own_connection_and_close_ends_them(store: RedisIdempotencyStore) -> None:
    seen: list[object] = []
    states: list[ClaimState] = []

    def work(n: int) -> None:
        states.append(store.claim("gha", f"t-{n}", DIGEST).state)
        seen.append(store._connection())

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert states == [ClaimState.NEW] * 4
    assert len({id(conn) for conn in seen}) == 4
    store.close()
    assert all(getattr(conn, "_sock", None) is None for conn in seen)


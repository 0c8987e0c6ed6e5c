"""Per-sender rate limits and the transfer body limit."""

from __future__ import annotations

import time
import uuid

import pytest

from gateway.errors import status_for
from gateway.settings import Settings
from gateway.transfers.ratelimit import (
    Limit,
    RateLimited,
    RateLimiter,
    RateLimitStoreUnavailable,
    RedisRateLimiter,
    make_limiter,
)
from gateway.trust.errors import ConfigurationError


def unique_sender(name: str) -> str:
    """A sender id of this test alone: Redis budgets persist (until they expire) across tests and runs."""
    return f"{name}-{uuid.uuid4().hex[:10]}"


def test_token_bucket_allows_the_burst_then_refuses_with_retry_after() -> None:
    limiter = RateLimiter(per_minute=60, burst=3)
    for _ in range(3):
        limiter.take("gha", now=100.0)
    with pytest.raises(RateLimited) as refused:
        limiter.take("gha", now=100.0)
    assert refused.value.code == "TRANSFER.RATE_LIMITED" and status_for(refused.value) == 429
    assert refused.value.retry_after == 1
    limiter.take("che", now=100.0)  # other senders have their own bucket
    limiter.take("gha", now=101.0)  # one token back after a second at 60/min
    with pytest.raises(RateLimited):
        limiter.take("gha", now=101.0)


def test_a_registry_with_its_own_limit_uses_it_and_the_others_the_default() -> None:
    limiter = RateLimiter(per_minute=60, burst=1, peers={"big": Limit(per_minute=600, burst=5)})
    for _ in range(5):
        limiter.take("big", now=10.0)
    with pytest.raises(RateLimited):
        limiter.take("big", now=10.0)
    limiter.take("big", now=10.1)  # 600/min: a token every 0.1 s
    limiter.take("small", now=10.0)
    with pytest.raises(RateLimited) as refused:
        limiter.take("small", now=10.5)
    assert refused.value.retry_after == 1  # 0.5 s rounded up to whole seconds


def test_two_gateway_processes_share_one_budget_in_redis(redis_url: str) -> None:
    """Each gateway process holds its own limiter; with Redis they draw on the same budget."""
    gha, che = unique_sender("gha"), unique_sender("che")  # the default key prefix is shared by every run
    peers = {che: Limit(per_minute=60, burst=1)}
    first = make_limiter(redis_url, per_minute=6, burst=4, peers=peers)  # a message back every 10 s
    second = make_limiter(redis_url, per_minute=6, burst=4, peers=peers)
    assert isinstance(first, RedisRateLimiter) and isinstance(second, RedisRateLimiter) and first.shared
    try:
        for limiter in (first, second, first, second):
            limiter.take(gha)
        for limiter in (first, second):
            with pytest.raises(RateLimited) as refused:
                limiter.take(gha)
            assert 1 <= (refused.value.retry_after or 0) <= 10 and status_for(refused.value) == 429
        first.take(che)  # another sender has its own budget
        with pytest.raises(RateLimited):
            second.take(che)
        time.sleep(1.05)  # 60/min: one message back after a second, for both processes together
        second.take(che)
    finally:
        first.close()
        second.close()


def test_per_registry_limits_apply_in_redis_too(redis_url: str) -> None:
    # Token intervals of 5 s and 10 s: a loaded machine would have to stall that long between two
    # calls for a token to come back (a 10 ms interval, as this test once used, flaked).
    big, small = unique_sender("big"), unique_sender("small")
    limiter = make_limiter(redis_url, per_minute=6, burst=1, peers={big: Limit(per_minute=12, burst=3)})
    assert isinstance(limiter, RedisRateLimiter)
    try:
        for _ in range(3):
            limiter.take(big)
        with pytest.raises(RateLimited) as refused_big:
            limiter.take(big)
        assert 1 <= (refused_big.value.retry_after or 0) <= 5  # the registry's own rate: a token every 5 s
        limiter.take(small)
        with pytest.raises(RateLimited) as refused_small:
            limiter.take(small)
        assert 5 < (refused_small.value.retry_after or 0) <= 10  # the default rate: a token every 10 s
    finally:
        limiter.close()


def test_an_unreachable_redis_is_a_coded_503_not_a_free_pass() -> None:
    limiter = make_limiter("redis://127.0.0.1:1/0", per_minute=60, burst=1)
    with pytest.raises(RateLimitStoreUnavailable) as failed:
        limiter.take("gha")
    assert failed.value.code == "TRANSFER.RATE_LIMIT_STORE_UNAVAILABLE" and status_for(failed.value) == 503


def test_an_unknown_store_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        make_limiter("memcached://x", per_minute=60, burst=1)


def test_peer_limits_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLINK_RATE_LIMIT_PEERS", '{"ind-registry": {"per_minute": 1200, "burst": 100}}')
    monkeypatch.setenv("CARBONLINK_RATE_LIMIT_STORE", "redis://127.0.0.1:6379/3")
    settings = Settings().transfers
    assert settings.rate_limit_peers["ind-registry"].per_minute == 1200
    assert settings.rate_limit_store == "redis://127.0.0.1:6379/3"
    monkeypatch.setenv("CARBONLINK_RATE_LIMIT_PEERS", '{"ind-registry": {"per_minute": 0, "burst": 1}}')
    with pytest.raises(ValueError):
        Settings()

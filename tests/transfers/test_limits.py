"""Per-sender rate limits and the transfer body limit."""

from __future__ import annotations

import pytest

from gateway.transfers.ratelimit import RateLimited, RateLimiter


def test_token_bucket_allows_the_burst_then_refuses_with_retry_after() -> None:
    limiter = RateLimiter(per_minute=60, burst=3)
    for _ in range(3):
        limiter.take("gha", now=100.0)
    with pytest.raises(RateLimited) as refused:
        limiter.take("gha", now=100.0)
    assert refused.value.code == "TRANSFER.RATE_LIMITED" and refused.value.http_status == 429
    assert refused.value.retry_after == 1
    limiter.take("che", now=100.0)  # other senders have their own bucket
    limiter.take("gha", now=101.0)  # one token back after a second at 60/min
    with pytest.raises(RateLimited):
        limiter.take("gha", now=101.0)

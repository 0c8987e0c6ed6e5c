"""Shared pieces of the transfer tests: fresh ITMO blocks and the gateway settings of a test network."""

from __future__ import annotations

import json


class Blocks:
    """Hands out fresh ITMO blocks of the sender's holdings, so tests do not collide."""

    def __init__(self) -> None:
        self.next = 1

    def take(self, size: int) -> tuple[int, int]:
        first = self.next
        self.next += size
        return first, first + size - 1


def gateway_env(*, timeout: float, retries: int, retry_after: int, per_minute: int, burst: int) -> dict[str, str]:
    """Delivery policy and rate limits for a test gateway (short timeouts, quick retries)."""
    delivery = {"timeout": timeout, "connect_timeout": 1.0, "retries": retries, "backoff": 0.05,
                "retry_after": retry_after}
    return {"CARBONLINK_DELIVERY": json.dumps(delivery), "CARBONLINK_RATE_LIMIT_PER_MINUTE": str(per_minute),
            "CARBONLINK_RATE_LIMIT_BURST": str(burst)}

"""Settings of the transfer path: the ``transfers`` section of :class:`gateway.settings.Settings`
(env vars ``CARBONLINK_<NAME>``, like the trust layer's)."""

from __future__ import annotations

from gateway.settings import DeliveryPolicy, RateLimitPolicy, TransferSettings

__all__ = ["DeliveryPolicy", "RateLimitPolicy", "TransferSettings"]

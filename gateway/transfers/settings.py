"""Settings of the transfer path (env vars ``CARBONLINK_<NAME>``, like the trust layer's)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DeliveryPolicy(BaseModel):
    """How the gateway delivers to one registry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout: float = Field(10.0, gt=0, le=120, description="seconds to wait for the registry's answer")
    connect_timeout: float = Field(3.0, gt=0, le=60)
    retries: int = Field(2, ge=0, le=10, description="extra attempts after a failed or unanswered delivery")
    backoff: float = Field(0.2, ge=0, le=30, description="seconds before the first retry, doubled each time")
    retry_after: int = Field(5, ge=1, le=3600, description="Retry-After told to the sender after a fault")


class RateLimitPolicy(BaseModel):
    """One registry's rate limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_minute: int = Field(ge=1, description="messages per minute on average")
    burst: int = Field(ge=1, description="messages allowed at once")


class TransferSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARBONLINK_", frozen=True, extra="ignore")

    data_dir: Path = Field(Path(".carbonlink"), description="where the embedded SQLite stores live")
    idempotency_store: str | None = Field(None, description="sqlite:///path or redis://...; default in data_dir")
    evidence_log: str | None = Field(None, description="sqlite:///path or postgresql://...; default in data_dir")
    delivery: DeliveryPolicy = Field(default_factory=DeliveryPolicy)
    delivery_peers: dict[str, DeliveryPolicy] = Field(default_factory=dict,
                                                      description="per-registry overrides, JSON by participant id")
    transfer_max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    rate_limit_per_minute: int = Field(600, ge=1, description="messages per minute per sending registry")
    rate_limit_burst: int = Field(60, ge=1)
    rate_limit_peers: dict[str, RateLimitPolicy] = Field(
        default_factory=dict, description="per-registry limits, JSON by participant id")
    rate_limit_store: str = Field("memory", description="'memory' (per process) or redis://... (shared by every "
                                                        "gateway process)")
    refuse_lossy: bool = Field(False, description="refuse a transfer whose translation loses fields")

    def policy_for(self, participant_id: str) -> DeliveryPolicy:
        return self.delivery_peers.get(participant_id, self.delivery)

    def idempotency_url(self) -> str:
        """Embedded default: SQLite with ``synchronous=normal``. A power loss may forget the latest claims;
        a retry then delivers again and the receiver, which dedupes by message id, answers as before. The
        evidence log stays fully synchronous."""
        return self.idempotency_store or f"sqlite:///{self.data_dir / 'idempotency.sqlite3'}?synchronous=normal"

    def evidence_url(self) -> str:
        return self.evidence_log or f"sqlite:///{self.data_dir / 'evidence.sqlite3'}"


@lru_cache(maxsize=1)
def get_transfer_settings() -> TransferSettings:
    return TransferSettings()

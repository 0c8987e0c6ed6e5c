"""Gateway settings: one pydantic-settings tree, read from the environment at the edge (the CLI, the
ASGI factory) and handed down; nothing below reads the environment.

Every field is an env var ``CARBONLINK_<NAME>``. The transfer path's settings are the ``transfers``
section (:class:`TransferSettings`), read from the same flat names (``CARBONLINK_DATA_DIR``,
``CARBONLINK_DELIVERY_PEERS``, ...; JSON for the structured ones), as documented in
docs/transfers.md.

With nothing configured the gateway runs in ``development`` with the shipped development
signing key and a development directory signed by the development anchor. ``production``
refuses those: it needs its own keys, anchors and directory, and an https issuer.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

ENV_PREFIX = "CARBONLINK_"


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


class TransferSettings(BaseModel):
    """The transfer path's section of :class:`Settings` (env vars ``CARBONLINK_<NAME>``, flat)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

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
    idempotency_lease: float | None = Field(
        None, gt=0, le=86400, description="seconds an idempotency claim is held before another process may take "
                                          "it over (crash recovery); default: the slowest delivery with its "
                                          "retries, at least 120")

    def policy_for(self, participant_id: str) -> DeliveryPolicy:
        return self.delivery_peers.get(participant_id, self.delivery)

    def idempotency_url(self) -> str:
        """Embedded default: SQLite with ``synchronous=normal``. A power loss may forget the latest claims;
        a retry then delivers again and the receiver, which dedupes by message id, answers as before. The
        evidence log stays fully synchronous."""
        return self.idempotency_store or f"sqlite:///{self.data_dir / 'idempotency.sqlite3'}?synchronous=normal"

    def evidence_url(self) -> str:
        return self.evidence_log or f"sqlite:///{self.data_dir / 'evidence.sqlite3'}"

    @property
    def delivery_lease_seconds(self) -> float:
        """How long an idempotency claim is held: ``idempotency_lease`` when set, else longer than the slowest
        delivery with all its retries."""
        if self.idempotency_lease is not None:
            return self.idempotency_lease
        slowest = max(p.timeout for p in (self.delivery, *self.delivery_peers.values()))
        return max(120.0, slowest * (self.delivery.retries + 2))


def _is_structured(info: FieldInfo) -> bool:
    """Fields read as JSON from the environment (models and mappings), as pydantic-settings does."""
    annotation = info.annotation
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    return is_model or getattr(annotation, "__origin__", None) is dict


class FlatSectionSource(PydanticBaseSettingsSource):
    """Reads a nested section's fields from flat ``CARBONLINK_<FIELD>`` variables, so a section keeps
    the env var names it had before it was nested (``CARBONLINK_DATA_DIR``, not ``..._TRANSFERS__...``)."""

    def __init__(self, settings_cls: type[BaseSettings], section: str, model: type[BaseModel]) -> None:
        super().__init__(settings_cls)
        self.section = section
        self.model = model

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        environ = {name.upper(): value for name, value in os.environ.items()}
        values: dict[str, Any] = {}
        for name, info in self.model.model_fields.items():
            raw = environ.get(f"{ENV_PREFIX}{name.upper()}")
            if raw is None:
                continue
            try:
                values[name] = json.loads(raw) if _is_structured(info) else raw
            except ValueError as exc:
                raise SettingsError(f'error parsing value for field "{name}" from {ENV_PREFIX}{name.upper()}: '
                                    "it is JSON") from exc
        return {self.section: values} if values else {}


class Settings(BaseSettings):
    """Every setting of the gateway; ``transfers`` is the transfer path's section."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, FlatSectionSource(settings_cls, "transfers", TransferSettings),
                dotenv_settings, file_secret_settings)

    environment: Literal["development", "test", "production"] = "development"
    issuer: str = Field("", description="public base URL = OAuth issuer identifier; default http://host:port")
    audience: str | None = Field(None, description="aud of access tokens; default <issuer>/v1")
    host: str = "127.0.0.1"
    port: int = 8080

    signing_keys: Path | None = Field(None, description="private keyring JSON (see gateway/trust/keys.py)")
    anchors: Path | None = Field(None, description="public JWKS of the governing body's anchor keys")
    directory: str | None = Field(None, description="directory JWS: file path or http(s) URL")
    directory_refresh_seconds: float = Field(60, gt=0)

    access_token_ttl: int = Field(300, ge=30, le=3600)
    assertion_max_lifetime: int = Field(300, ge=10, le=300)
    clock_skew: int = Field(30, ge=0, le=60)
    dpop_iat_window: int = Field(60, ge=5, le=300)
    dpop_nonce_required: bool = True
    dpop_nonce_ttl: int = Field(300, ge=30)
    dpop_nonce_secret: str | None = Field(
        None, min_length=32, description="secret the DPoP nonces are derived from (shared by every gateway "
                                         "process); default: derived from the current signing key")
    replay_store: str = Field("memory", description="'memory' or a redis:// URL shared by all processes")

    trusted_proxies: list[str] = Field(
        default_factory=list, description="peer IPs allowed to pass a verified client certificate"
    )
    client_cert_header: str = "x-client-cert"
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    tls_client_ca: Path | None = Field(
        None, description="CA bundle that verifies registry client certificates"
    )

    outbound_client_id: str | None = Field(
        None, description="the gateway's client id at registries; default: the issuer"
    )
    maintenance: bool = False
    maintenance_file: Path | None = Field(None, description="while this file exists, answer 503")
    max_body_bytes: int = Field(64 * 1024, ge=1024)

    transfers: TransferSettings = Field(default_factory=TransferSettings)

    @model_validator(mode="before")
    @classmethod
    def _default_issuer(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("issuer"):
            data = {**data, "issuer": f"http://{data.get('host', '127.0.0.1')}:{data.get('port', 8080)}"}
        return data

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.environment == "production":
            missing = [n for n in ("signing_keys", "anchors", "directory") if getattr(self, n) is None]
            if missing:
                raise ValueError(f"production needs {', '.join(missing)} (no embedded defaults)")
            if not self.issuer.startswith("https://"):
                raise ValueError("production needs an https issuer")
        if "?" in self.issuer or "#" in self.issuer or self.issuer.endswith("/"):
            raise ValueError("the issuer has no query, fragment or trailing slash")
        return self

    @property
    def gateway_client_id(self) -> str:
        return self.outbound_client_id or self.issuer

    @property
    def resource_audience(self) -> str:
        return self.audience or f"{self.issuer}/v1"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process settings from the environment (cached)."""
    return Settings()

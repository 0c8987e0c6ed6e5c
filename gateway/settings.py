"""Gateway settings (pydantic-settings; every field is an env var ``CARBONLINK_<NAME>``).

With nothing configured the gateway runs in ``development`` with the shipped development
signing key and a development directory signed by the development anchor. ``production``
refuses those: it needs its own keys, anchors and directory, and an https issuer.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARBONLINK_", frozen=True, extra="ignore")

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

"""Settings: one pydantic-settings tree, read from the environment at the edge (the CLI, the ASGI
factory) and handed down; nothing below reads the environment.

Every field is an env var ``CARBONLINK_<NAME>``. The tree (:class:`CarbonlinkSettings`) is the
gateway's own fields (trust, OAuth, TLS, limits) plus three sections read from the same flat names
(not ``CARBONLINK_<SECTION>__<NAME>``), so every documented variable keeps its name:

* ``transfers`` (:class:`TransferSettings`): the transfer path (``CARBONLINK_DATA_DIR``,
  ``CARBONLINK_DELIVERY_PEERS``, ...; JSON for the structured ones), see docs/transfers.md;
* ``translation`` (:class:`TranslationSettings`): the options of the standards and adapters
  layers (``CARBONLINK_MAX_INPUT_BYTES``, ``CARBONLINK_ADAPTERS``, ``CARBONLINK_CADT_VERSION``, ...),
  handed down as :class:`standards.Options` and :class:`adapters.Options`;
* ``cli`` (:class:`CliSection`): what only the command line reads (``CARBONLINK_DEBUG``,
  ``CARBONLINK_SANDBOX_OPERATOR_TOKEN``);
* ``console`` (:class:`ConsoleSettings`): the operator console (``CARBONLINK_CONSOLE_*``), see docs/console.md.

Precedence: keyword arguments, then the environment (or the mapping given to
:meth:`CarbonlinkSettings.from_environ`), then the defaults. An empty variable counts as unset.

Building the tree checks types only, so a command that needs no gateway (``carbonlink evidence
verify``, ``carbonlink translate``) runs anywhere. :class:`Settings` is the same tree as the gateway
service needs it: with nothing configured it runs in ``development`` with the shipped development
signing key and a development directory signed by the development anchor; ``production`` refuses
those (it needs its own keys, anchors and directory, and an https issuer). ``create_app`` and
``carbonlink serve`` build it (:meth:`Settings.for_service`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)
from pydantic_settings.sources.utils import parse_env_vars

import adapters
import standards
from adapters import Options as AdapterOptions
from gateway._settings_sections import CliSection as CliSection
from gateway._settings_sections import ConformanceSection as ConformanceSection
from gateway._settings_sections import ConsoleSettings as ConsoleSettings
from gateway._settings_sections import FeedSettings as FeedSettings
from gateway._settings_sections import GovernanceSettings as GovernanceSettings
from gateway._settings_sections import MrvSettings as MrvSettings
from standards import Options as StandardsOptions

ENV_PREFIX = "CARBONLINK_"
#: The layers' embedded defaults (what an unset or unusable variable gives).
STANDARDS_DEFAULTS = standards.DEFAULT_OPTIONS
ADAPTER_DEFAULTS = adapters.DEFAULT_OPTIONS
#: The sections read from flat ``CARBONLINK_<FIELD>`` names.
FLAT_SECTIONS = ("transfers", "translation", "cli", "conformance", "feeds", "console", "governance", "mrv")

#: The variables the settings are read from, when not the process environment (see ``from_environ``).
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("carbonlink_settings_environ", default=None)


def _environ() -> Mapping[str, str]:
    """The variables being read: the mapping given to ``from_environ``, else the process environment.
    The only place carbonlink reads the environment."""
    given = _ENVIRON.get()
    return os.environ if given is None else given


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
    """The transfer path's section of :class:`CarbonlinkSettings` (env vars ``CARBONLINK_<NAME>``, flat)."""

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
    delivery_client: Literal["stdlib", "httpx"] = Field(
        "stdlib", description="HTTP client of deliveries: 'stdlib' (pooled sockets, answers read by httptools; "
                              "connects directly) or 'httpx' (honours HTTP(S)_PROXY and the rest of httpx's "
                              "environment)")
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


class TranslationSettings(BaseModel):
    """The options of the standards and adapters layers (env vars ``CARBONLINK_<NAME>``, flat).

    Values are read as leniently as the layers used to read them: an unusable size or UNDP value
    falls back to its default; ``cadt_version`` is checked when the cadt adapter writes.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    # standards
    max_input_bytes: int = Field(STANDARDS_DEFAULTS.max_input_bytes, description="largest input read whole")
    serial_layouts: Path | None = Field(None, description="JSON file of extra serial layouts (docs/serials.md)")
    des_codelists: Path | None = Field(None, description="DES code-list file replacing the packaged one")
    cadt_picklists: str | None = Field(None, description="CAD Trust picklists: a JSON file or a node's URL")
    cadt_api_key: SecretStr | None = Field(None, description="x-api-key for the CAD Trust node")
    cadt_profile: str | None = Field(None, description="CAD Trust output profile: bundled name or JSON file")
    apx_date_order: Literal["mdy", "dmy"] | None = Field(
        None, description="day/month order of APX export slash dates: mdy or dmy (unset: the order the "
                          "registry vocabulary states)")
    # adapters
    adapters: str | None = Field(None, description="comma-separated adapter names to load (default: all)")
    max_stream_bytes: int = Field(ADAPTER_DEFAULTS.max_stream_bytes, description="cap on a streamed export")
    undp_registry_suffix: str | None = Field(None, description="two digits of the Party ITMO registry ID")
    undp_mitigation_type: str | None = Field(None, description="CN mitigation type of every UNDP action")
    undp_authorization_version: int | None = Field(None, description="version of authorizations read from "
                                                                     "a UNDP AEF export")
    cadt_version: str = Field("v2", description="CAD Trust version the cadt adapter writes (v1 or v2)")
    spreadsheet_mapping: str | None = Field(None, description="the spreadsheet adapter's mapping")

    @field_validator("max_input_bytes", mode="before")
    @classmethod
    def _any_integer(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                return STANDARDS_DEFAULTS.max_input_bytes
        return value

    @field_validator("max_stream_bytes", mode="before")
    @classmethod
    def _digits(cls, value: Any) -> Any:
        if isinstance(value, str):
            return int(value) if value.isdigit() else ADAPTER_DEFAULTS.max_stream_bytes
        return value

    @field_validator("apx_date_order", mode="before")
    @classmethod
    def _lower_order(cls, value: Any) -> Any:
        return value.strip().lower() or None if isinstance(value, str) else value

    @field_validator("undp_registry_suffix", mode="before")
    @classmethod
    def _two_digits(cls, value: Any) -> Any:
        return value if isinstance(value, str) and re.fullmatch(r"\d{2}", value) else None

    @field_validator("undp_authorization_version", mode="before")
    @classmethod
    def _version_number(cls, value: Any) -> Any:
        if isinstance(value, str):
            return int(value) if value.isdigit() else None
        return value

    def standards_options(self) -> StandardsOptions:
        """The options handed to the standards layer."""
        return StandardsOptions(
            max_input_bytes=self.max_input_bytes, serial_layouts=self.serial_layouts,
            des_code_lists=self.des_codelists, cadt_picklists=(self.cadt_picklists or "").strip() or None,
            cadt_api_key=self.cadt_api_key, cadt_profile=(self.cadt_profile or "").strip() or None,
            apx_date_order=self.apx_date_order)

    def adapter_options(self) -> AdapterOptions:
        """The options handed to the adapters layer."""
        names = frozenset(n.strip() for n in self.adapters.split(",") if n.strip()) if self.adapters else None
        return AdapterOptions(
            names=names or None, max_stream_bytes=self.max_stream_bytes,
            undp_registry_suffix=self.undp_registry_suffix, undp_mitigation_type=self.undp_mitigation_type,
            undp_authorization_version=self.undp_authorization_version, cadt_version=self.cadt_version,
            spreadsheet_mapping=self.spreadsheet_mapping)

    @contextmanager
    def in_force(self) -> Iterator[None]:
        """Put both layers' options in force for the ``with`` block (:func:`standards.use_options`,
        :func:`adapters.use_options`): how the CLI and the gateway app hand them down."""
        with standards.use_options(self.standards_options()), adapters.use_options(self.adapter_options()):
            yield


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
        environ = {name.upper(): value for name, value in _environ().items()}
        values: dict[str, Any] = {}
        for name, info in self.model.model_fields.items():
            raw = environ.get(f"{ENV_PREFIX}{name.upper()}")
            if raw is None or raw == "":  # an empty variable is unset
                continue
            try:
                values[name] = json.loads(raw) if _is_structured(info) else raw
            except ValueError as exc:
                raise SettingsError(f'error parsing value for field "{name}" from {ENV_PREFIX}{name.upper()}: '
                                    "it is JSON") from exc
        return {self.section: values} if values else {}


class MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading :func:`_environ` (the given mapping or the process's)."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(_environ(), self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def env_name(loc: tuple[int | str, ...]) -> str:
    """The variable a validation error's location was read from (``("cli", "debug")`` -> ``CARBONLINK_DEBUG``)."""
    parts = [str(part) for part in loc]
    if len(parts) > 1 and parts[0] in FLAT_SECTIONS:
        parts = parts[1:]
    return ENV_PREFIX + (parts[0].upper() if parts else "")


class CarbonlinkSettings(BaseSettings):
    """The settings tree: the gateway's fields and the ``transfers``, ``translation`` and ``cli`` sections.

    Built at the edge (the CLI, ``create_app``); types are checked, the gateway's production rules
    are not (see :class:`Settings`).
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore", env_ignore_empty=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        sections = [FlatSectionSource(settings_cls, "transfers", TransferSettings),
                    FlatSectionSource(settings_cls, "translation", TranslationSettings),
                    FlatSectionSource(settings_cls, "cli", CliSection),
                    FlatSectionSource(settings_cls, "conformance", ConformanceSection),
                    FlatSectionSource(settings_cls, "feeds", FeedSettings),
                    FlatSectionSource(settings_cls, "console", ConsoleSettings),
                    FlatSectionSource(settings_cls, "governance", GovernanceSettings),
                    FlatSectionSource(settings_cls, "mrv", MrvSettings)]
        return (init_settings, MappingEnvSource(settings_cls), *sections, dotenv_settings, file_secret_settings)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], **values: Any) -> Self:
        """The settings named by the ``CARBONLINK_*`` variables of ``environ`` (not the process environment);
        keyword ``values`` take precedence."""
        token = _ENVIRON.set(environ)
        try:
            return cls(**values)
        finally:
            _ENVIRON.reset(token)

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
    access_log: bool = Field(
        True, description="uvicorn's access line per request (on stdout); off saves 40-75 us of CPU per request "
                          "where a proxy in front logs the requests already")
    http_parser: Literal["httptools", "h11"] = Field(
        "httptools", description="HTTP/1.1 parser of the gateway's server: 'httptools' (llhttp, the parser of "
                                 "Node.js; less CPU per request) or 'h11' (pure Python)")

    outbound_client_id: str | None = Field(
        None, description="the gateway's client id at registries; default: the issuer"
    )
    maintenance: bool = False
    maintenance_file: Path | None = Field(None, description="while this file exists, answer 503")
    max_body_bytes: int = Field(64 * 1024, ge=1024)

    transfers: TransferSettings = Field(default_factory=TransferSettings)
    translation: TranslationSettings = Field(default_factory=TranslationSettings)
    cli: CliSection = Field(default_factory=CliSection)
    conformance: ConformanceSection = Field(default_factory=ConformanceSection)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    governance: GovernanceSettings = Field(default_factory=GovernanceSettings)
    mrv: MrvSettings = Field(default_factory=MrvSettings)

    @model_validator(mode="before")
    @classmethod
    def _default_issuer(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("issuer"):
            data = {**data, "issuer": f"http://{data.get('host', '127.0.0.1')}:{data.get('port', 8080)}"}
        return data

    @property
    def gateway_client_id(self) -> str:
        return self.outbound_client_id or self.issuer

    @property
    def resource_audience(self) -> str:
        return self.audience or f"{self.issuer}/v1"


class Settings(CarbonlinkSettings):
    """The settings tree as the gateway service needs it: building it also checks the service's rules
    (production needs its own keys, anchors, directory and an https issuer; the issuer is a bare URL)."""

    @model_validator(mode="after")
    def _service_rules(self) -> Settings:
        if self.environment == "production":
            missing = [n for n in ("signing_keys", "anchors", "directory") if getattr(self, n) is None]
            if missing:
                raise ValueError(f"production needs {', '.join(missing)} (no embedded defaults)")
            if not self.issuer.startswith("https://"):
                raise ValueError("production needs an https issuer")
            if self.console.console_dev_login:
                raise ValueError("production refuses the console's development login (CARBONLINK_CONSOLE_DEV_LOGIN)")
        if "?" in self.issuer or "#" in self.issuer or self.issuer.endswith("/"):
            raise ValueError("the issuer has no query, fragment or trailing slash")
        return self

    @classmethod
    def for_service(cls, settings: CarbonlinkSettings) -> Settings:
        """``settings`` checked for the gateway service (the same values; nothing is read again)."""
        if isinstance(settings, Settings):
            return settings
        return cls.model_validate(settings.model_dump())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The gateway service's settings from the environment (cached)."""
    return Settings()

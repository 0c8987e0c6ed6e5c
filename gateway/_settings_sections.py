"""The sections of the settings tree that belong to one service each (feeds, CLI, conformance, console,
governance). They are plain models: :mod:`gateway.settings` reads the environment into them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class FeedSettings(BaseModel):
    """The harmonized feeds' section (docs/feeds.md); env vars ``CARBONLINK_FEEDS_<NAME>``, flat."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    feeds_store: str | None = Field(None, description="the harmonized view's store: a SQLite file (or sqlite:///path; "
                                    "default in data_dir) or a postgresql:// DSN shared by processes on several hosts")
    feeds_store_prefix: str = Field("feed_", pattern=r"^[a-z][a-z0-9_]{0,40}_$",
                                    description="prefix of the view's table names (records, sources, changes, "
                                    "subscriptions)")
    feeds_max_age_seconds: float = Field(30.0, ge=0, description="pull a registry again when its data is older")
    feeds_pull_page_size: int = Field(1000, ge=1, le=10_000, description="records asked per read-side page")
    feeds_pull_timeout: float = Field(10.0, gt=0, le=300, description="seconds to wait for one page")
    feeds_pull_max_pages: int = Field(100_000, ge=1, description="pages of one kind before a registry is refused")
    feeds_pull_workers: int = Field(4, ge=1, le=32, description="registries pulled at once")
    feeds_page_limit: int = Field(1000, ge=1, le=100_000, description="largest JSON page a client may ask for")
    feeds_fuzzy_threshold: float = Field(90.0, ge=0, le=100, description="project name match score (0-100) "
                                         "at or above which two programmes' projects are reported as one")
    feeds_webhook_interval: float = Field(0.5, gt=0, le=60, description="seconds between webhook delivery rounds")
    feeds_webhook_backoff: float = Field(1.0, gt=0, le=3600, description="seconds before the first retry, doubled")
    feeds_webhook_max_backoff: float = Field(300.0, gt=0, le=86400, description="longest wait between retries")
    feeds_changes_keep_days: float = Field(30.0, gt=0, description="change log: changes older than this may be "
                                           "compacted away (docs/feeds.md)")
    feeds_changes_keep_last: int = Field(100_000, ge=0, description="change log: the last changes of each source "
                                         "kept whatever their age")
    feeds_compaction_interval: float = Field(3600.0, gt=0, le=86400, description="seconds between compactions")


class CliSection(BaseModel):
    """What only the command line reads (env vars ``CARBONLINK_<NAME>``, flat)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    debug: bool = Field(False, description="let an unexpected error end with its traceback")
    sandbox_operator_token: SecretStr | None = Field(None, description="default operator token of "
                                                                       "`carbonlink sandbox serve`")


class ConformanceSection(BaseModel):
    """Certificates of the conformance suite the gateway asks of senders (env vars ``CARBONLINK_<NAME>``, flat;
    docs/conformance.md)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    conformance_required_kits: dict[str, list[str]] = Field(
        default_factory=dict, description="message kind -> conformance kits a sender needs a valid certificate "
        'for (JSON, e.g. {"transfers": ["aef-messages", "registry-endpoint"]}); empty: none needed')
    conformance_operator_keys: Path | None = Field(
        None, description="the suite operator's public JWKS, which verifies the certificates the directory lists "
        "(and `carbonlink conformance verify` without --keys)")
    conformance_signing_key: Path | None = Field(
        None, description="the suite operator's private JWK: `carbonlink conformance run` without --sign-key issues "
        "certificates with it")
    conformance_certificate_issuer: str = Field(
        "carbonlink-suite", min_length=1, description="the iss of the certificates `carbonlink conformance run` "
        "issues (--issuer overrides it)")


class ConsoleSettings(BaseModel):
    """The operator console in a browser (env vars ``CARBONLINK_CONSOLE_<NAME>``, flat; docs/console.md)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    console_enabled: bool = Field(True, description="serve the operator console under /console")
    console_dev_login: bool | None = Field(
        None, description="the development login (pick a role without keys); default: on in development only, "
                          "refused in production")
    console_secret: SecretStr | None = Field(
        None, min_length=32, description="secret console sessions and CSRF tokens are signed with (shared by every "
                                         "gateway process); default: derived from the current signing key")
    console_session_seconds: int = Field(8 * 3600, ge=60, le=7 * 86400, description="lifetime of a console session")
    console_page_size: int = Field(50, ge=5, le=500, description="messages per page")
    console_plot_records: int = Field(5000, ge=100, le=100_000,
                                      description="the plots cover at most this many of the latest records")
    console_plot_days: int = Field(14, ge=1, le=366, description="... and at most this many days")

    def dev_login_enabled(self, environment: str) -> bool:
        """The development login is on when asked for, else in development only."""
        return environment == "development" if self.console_dev_login is None else self.console_dev_login


class GovernanceSettings(BaseModel):
    """Authorizations and their enforcement on the relay (env vars ``CARBONLINK_<NAME>``, flat;
    docs/governance.md)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    authorization_store: str | None = Field(
        None, description="sqlite:///path or postgresql://... (shared by every gateway process); default: the "
                          "evidence log's own database, so a drawing commits with the evidence record")
    governance_enforce: Literal["auto", "always", "off"] = Field(
        "auto", description="which Parties' first transfers, uses and cancellations must cite an authorization: "
                            "'auto' those with a national authority in the directory, 'always' all, 'off' none")

    policy: str | None = Field(
        None, description="the signed transaction-controls policy: a file path or an http(s) URL (unset: no controls)")
    policy_store: str | None = Field(
        None, description="daily usage and counterparts of the controls: sqlite:///path or postgresql://... (shared "
                          "by every gateway process); default in data_dir")
    policy_refresh_seconds: int = Field(60, ge=1, le=86400, description="how often the policy is read again")
    hold_store: str | None = Field(
        None, description="messages held for approval messages (four eyes): sqlite:///path or postgresql://...; "
                          "default: the policy store's PostgreSQL database (table holds), else holds.sqlite3 in "
                          "data_dir")

    title_index: str | None = Field(
        None, description="the title index (which evidence records moved which serial ranges): sqlite:///path, "
                          "postgresql://... or 'off'; default: the evidence log's PostgreSQL database, else a file "
                          "in data_dir. Rebuilt from the evidence log when missing or behind")

    def authorization_url(self, data_dir: Path, evidence_url: str | None = None) -> str:
        """The store named, else the evidence log's own database (``evidence_url`` without its ``table``), so
        the relay draws on an authorization in the same durable write as its evidence record; a store kept
        in ``authorizations.sqlite3`` of the data directory (the first default) is still used."""
        if self.authorization_store:
            return self.authorization_store
        legacy = data_dir / "authorizations.sqlite3"
        if evidence_url is None or legacy.exists():
            return f"sqlite:///{legacy}"
        base, _, query = evidence_url.partition("?")
        kept = urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "table"])
        return f"{base}?{kept}" if kept else base

    def title_index_url(self, data_dir: Path, evidence_url: str) -> str | None:
        """The title index named ('off': none), else the evidence log's PostgreSQL database when the log is
        there (every gateway process shares it; tables ``<evidence table>_title_*``), else
        ``title-index.sqlite3`` in the data directory (its own file: a catch-up never holds the evidence log's
        write lock)."""
        if self.title_index:
            return None if self.title_index == "off" else self.title_index
        if evidence_url.startswith(("postgresql:", "postgres:")):  # tables named after the evidence log's
            base, _, query = evidence_url.partition("?")
            pairs = parse_qsl(query, keep_blank_values=True)
            table = next((v for k, v in pairs if k == "table"), "evidence")[:34] + "_title"
            return f"{base}?{urlencode([*((k, v) for k, v in pairs if k != 'table'), ('table', table)])}"
        return f"sqlite:///{data_dir / 'title-index.sqlite3'}?synchronous=normal"

    def controls_url(self, data_dir: Path) -> str:
        return self.policy_store or f"sqlite:///{data_dir / 'controls.sqlite3'}?synchronous=normal"

    def hold_url(self, data_dir: Path) -> str:
        """The store named, else the policy store's PostgreSQL database with table ``holds``, else a SQLite file
        of the data directory (every write durable: a held message is a message the sender was told is kept)."""
        if self.hold_store:
            return self.hold_store
        if self.policy_store and self.policy_store.startswith(("postgresql:", "postgres:")):
            base, _, query = self.policy_store.partition("?")
            kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "table"]
            table = dict(parse_qsl(query)).get("table", "controls")
            return f"{base}?{urlencode([*kept, ('table', f'{table}_holds')])}"
        return f"sqlite:///{data_dir / 'holds.sqlite3'}"


class MrvSettings(BaseModel):
    """Digital MRV at the gateway: its store and the evidence files (env vars ``CARBONLINK_<NAME>``, flat;
    docs/mrv.md, gateway section)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    mrv_store: str | None = Field(
        None, description="sqlite:///path or postgresql://... (shared by every gateway process); default in data_dir")
    mrv_evidence_store: str | None = Field(
        None, description="a folder (file:///path) or an S3-compatible bucket (s3://bucket/prefix?endpoint_url=...); "
                          "default: the folder mrv-evidence in data_dir")
    mrv_evidence_max_bytes: int = Field(16 * 1024 * 1024, ge=1024, le=2**31,
                                        description="largest evidence file one upload may carry")

    def store_url(self, data_dir: Path) -> str:
        return self.mrv_store or f"sqlite:///{data_dir / 'mrv.sqlite3'}"

    def evidence_url(self, data_dir: Path) -> str:
        return self.mrv_evidence_store or f"file://{data_dir / 'mrv-evidence'}"

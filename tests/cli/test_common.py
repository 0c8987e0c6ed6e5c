"""The CLI's shared helpers: the settings tree is the only reader of the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli._common import DEFAULT_EVIDENCE_LOG, CliUsageError, cli_settings, evidence_log_url

CLI = Path(__file__).resolve().parents[2] / "gateway" / "cli"


def test_cli_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENVIRONMENT", "SIGNING_KEYS", "EVIDENCE_LOG", "SANDBOX_OPERATOR_TOKEN", "DEBUG"):
        monkeypatch.delenv(f"CARBONLINK_{name}", raising=False)
    settings = cli_settings()
    assert settings.environment == "development" and settings.signing_keys is None
    assert evidence_log_url(settings) == DEFAULT_EVIDENCE_LOG and settings.cli.sandbox_operator_token is None
    assert settings.cli.debug is False


def test_cli_settings_read_the_gateway_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CARBONLINK_ENVIRONMENT", "production")
    monkeypatch.setenv("CARBONLINK_SIGNING_KEYS", str(tmp_path / "keys.json"))
    monkeypatch.setenv("CARBONLINK_EVIDENCE_LOG", "sqlite:///x.sqlite3")
    monkeypatch.setenv("CARBONLINK_DEBUG", "1")
    settings = cli_settings()
    assert settings.environment == "production" and settings.signing_keys == tmp_path / "keys.json"
    assert evidence_log_url(settings) == "sqlite:///x.sqlite3" and settings.cli.debug is True


def test_an_empty_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLINK_SIGNING_KEYS", "")
    assert cli_settings().signing_keys is None


def test_production_without_keys_still_builds_the_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway's production rules are checked where the service starts, not by every command."""
    monkeypatch.setenv("CARBONLINK_ENVIRONMENT", "production")
    for name in ("SIGNING_KEYS", "ANCHORS", "DIRECTORY", "ISSUER"):
        monkeypatch.delenv(f"CARBONLINK_{name}", raising=False)
    assert cli_settings().environment == "production"


def test_a_malformed_json_variable_is_a_coded_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLINK_DELIVERY_PEERS", "{not json")
    with pytest.raises(CliUsageError) as caught:
        cli_settings()
    assert caught.value.code == "CLI.SETTINGS" and "CARBONLINK_DELIVERY_PEERS" in caught.value.message


def test_a_malformed_value_is_a_coded_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLINK_DEBUG", "perhaps")
    with pytest.raises(CliUsageError) as caught:
        cli_settings()
    assert caught.value.code == "CLI.SETTINGS" and caught.value.__cause__ is not None
    assert caught.value.message.startswith("CARBONLINK_DEBUG: ") and "\n" not in caught.value.message


def test_no_cli_module_reads_the_environment_directly() -> None:
    for module in CLI.glob("*.py"):
        source = module.read_text(encoding="utf-8")
        assert "os.environ" not in source and "getenv" not in source and "envvar=" not in source, module


def test_nothing_below_the_edge_reads_the_environment() -> None:
    """standards/, adapters/ and gateway/ read no environment variable; gateway/settings.py (the
    settings tree) is the one reader, and gateway/demo.py only filters one for a child process."""
    root = CLI.parents[1]
    allowed = {root / "gateway" / "settings.py"}
    for package in ("standards", "adapters", "gateway"):
        for module in (root / package).rglob("*.py"):
            if module in allowed:
                continue
            source = module.read_text(encoding="utf-8")
            if module == root / "gateway" / "demo.py":
                source = source.replace("for k, v in os.environ.items() if not k.startswith(\"CARBONLINK_\")", "")
            assert "os.environ" not in source and "getenv" not in source, module

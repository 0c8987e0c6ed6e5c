"""The CLI's shared helpers: one settings object is the only reader of the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli._common import DEFAULT_EVIDENCE_LOG, CliUsageError, cli_settings

CLI = Path(__file__).resolve().parents[2] / "gateway" / "cli"


def test_cli_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENVIRONMENT", "SIGNING_KEYS", "EVIDENCE_LOG", "SANDBOX_OPERATOR_TOKEN", "DEBUG"):
        monkeypatch.delenv(f"CARBONLINK_{name}", raising=False)
    settings = cli_settings()
    assert settings.environment == "development" and settings.signing_keys is None
    assert settings.evidence_log == DEFAULT_EVIDENCE_LOG and settings.sandbox_operator_token is None
    assert settings.debug is False


def test_cli_settings_read_the_gateway_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CARBONLINK_ENVIRONMENT", "production")
    monkeypatch.setenv("CARBONLINK_SIGNING_KEYS", str(tmp_path / "keys.json"))
    monkeypatch.setenv("CARBONLINK_EVIDENCE_LOG", "sqlite:///x.sqlite3")
    monkeypatch.setenv("CARBONLINK_DEBUG", "1")
    settings = cli_settings()
    assert settings.environment == "production" and settings.signing_keys == tmp_path / "keys.json"
    assert settings.evidence_log == "sqlite:///x.sqlite3" and settings.debug is True


def test_an_empty_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLINK_SIGNING_KEYS", "")
    assert cli_settings().signing_keys is None


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

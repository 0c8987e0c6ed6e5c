"""The settings tree: built at the edge from the flat ``CARBONLINK_*`` names, production rules checked
where the gateway service starts, and the ``translation`` section handed down to standards and adapters."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

import adapters
import standards
from gateway.main import TranslationOptionsMiddleware, create_app
from gateway.settings import CarbonlinkSettings, Settings, env_name


def test_every_section_keeps_its_flat_variable_names(tmp_path: Path) -> None:
    settings = CarbonlinkSettings.from_environ({
        "CARBONLINK_PORT": "9001", "CARBONLINK_DATA_DIR": str(tmp_path),
        "CARBONLINK_DELIVERY": '{"retries": 0}', "CARBONLINK_MAX_INPUT_BYTES": "1000",
        "CARBONLINK_ADAPTERS": "aef, verra", "CARBONLINK_CADT_API_KEY": "s3cret",
        "CARBONLINK_UNDP_REGISTRY_SUFFIX": "02", "CARBONLINK_DEBUG": "1",
        "CARBONLINK_SANDBOX_OPERATOR_TOKEN": "op"})
    assert settings.port == 9001 and settings.issuer == "http://127.0.0.1:9001"
    assert settings.transfers.data_dir == tmp_path and settings.transfers.delivery.retries == 0
    assert settings.translation.standards_options().max_input_bytes == 1000
    assert settings.translation.standards_options().cadt_api_key is not None
    assert "s3cret" not in repr(settings)
    options = settings.translation.adapter_options()
    assert options.names == frozenset({"aef", "verra"}) and options.undp_registry_suffix == "02"
    assert settings.cli.debug is True and settings.cli.sandbox_operator_token is not None


def test_unusable_values_fall_back_as_the_layers_always_read_them() -> None:
    translation = CarbonlinkSettings.from_environ({
        "CARBONLINK_MAX_INPUT_BYTES": "lots", "CARBONLINK_MAX_STREAM_BYTES": "-1",
        "CARBONLINK_UNDP_REGISTRY_SUFFIX": "1", "CARBONLINK_UNDP_AUTHORIZATION_VERSION": "two",
        "CARBONLINK_SERIAL_LAYOUTS": ""}).translation
    assert translation.standards_options() == standards.DEFAULT_OPTIONS
    assert translation.adapter_options() == adapters.DEFAULT_OPTIONS


def test_production_rules_are_checked_for_the_service_not_the_tree() -> None:
    tree = CarbonlinkSettings.from_environ({"CARBONLINK_ENVIRONMENT": "production"})
    assert tree.environment == "production"
    with pytest.raises(ValidationError, match="production needs signing_keys, anchors, directory"):
        Settings.for_service(tree)
    with pytest.raises(ValidationError, match="production needs"):
        create_app(tree)
    development = CarbonlinkSettings.from_environ({})
    assert isinstance(Settings.for_service(development), Settings)


def test_a_validation_error_names_the_variable() -> None:
    assert env_name(("cli", "debug")) == "CARBONLINK_DEBUG"
    assert env_name(("transfers", "delivery", "timeout")) == "CARBONLINK_DELIVERY"
    assert env_name(("port",)) == "CARBONLINK_PORT"


def test_the_app_hands_its_options_down_to_requests_and_their_threads() -> None:
    seen: list[tuple[int, str]] = []

    def observe() -> None:
        seen.append((standards.current_options().max_input_bytes, adapters.current_options().cadt_version))

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        observe()
        await asyncio.to_thread(observe)
        await send({"type": "http.response.start", "status": 204, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    translation = CarbonlinkSettings.from_environ({"CARBONLINK_MAX_INPUT_BYTES": "123",
                                                   "CARBONLINK_CADT_VERSION": "v1"}).translation
    client = TestClient(TranslationOptionsMiddleware(app, translation))  # type: ignore[arg-type]
    assert client.get("/").status_code == 204
    assert seen == [(123, "v1"), (123, "v1")]
    assert standards.current_options() == standards.DEFAULT_OPTIONS  # nothing leaks out

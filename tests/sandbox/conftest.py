"""Fixtures: one real gateway process per session; a fresh sandbox registry per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.support import GatewayProcess, SandboxServer, World


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path_factory.mktemp("sandbox-gateway"))
    yield process
    process.stop()


@pytest.fixture
def world(gateway: GatewayProcess, tmp_path: Path) -> Iterator[World]:
    w = World(gateway, tmp_path)
    yield w
    w.close()


@pytest.fixture
def start(world: World) -> Callable[..., SandboxServer]:
    """``start(name, fmt="aef", **config overrides)`` -> a running sandbox listed in the directory."""
    def _start(name: str = "sbx-che", fmt: str = "aef", **overrides: Any) -> SandboxServer:
        return world.start(world.config(name, fmt, **overrides))
    return _start

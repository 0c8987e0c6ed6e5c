"""Fixtures: one gateway (development defaults, served in a thread) per session; a fresh sandbox
registry per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.support import DevelopmentGateway, SandboxServer, World


@pytest.fixture(scope="session")
def gateway() -> Iterator[DevelopmentGateway]:
    served = DevelopmentGateway()
    yield served
    served.stop()


@pytest.fixture
def world(gateway: DevelopmentGateway, tmp_path: Path) -> Iterator[World]:
    w = World(gateway, tmp_path)
    yield w
    w.close()


@pytest.fixture
def start(world: World) -> Callable[..., SandboxServer]:
    """``start(name, fmt="aef", **config overrides)`` -> a running sandbox listed in the directory."""
    def _start(name: str = "sbx-che", fmt: str = "aef", **overrides: Any) -> SandboxServer:
        return world.start(world.config(name, fmt, **overrides))
    return _start

"""The gateway driven in-process: ``gateway.main.create_app`` on the settings a ``carbonlink serve``
process would read from an environment, behind Starlette's ``TestClient`` (an ``httpx.Client``)
with the app's lifespan running (directory refresh included). Log records at WARNING and above go to
``log``, so a test can check that no traceback was logged, as it would in a process's log file."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from starlette.testclient import TestClient

from gateway.main import create_app
from gateway.settings import Settings


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """The gateway settings a ``carbonlink serve`` process would read with the ``CARBONLINK_*``
    variables of ``env`` set on top of this process's environment (sections included)."""
    return Settings.from_environ({**os.environ, **env})


class InProcessGateway:
    """The gateway app in this process; ``base`` is its issuer, ``http`` a client with the lifespan running."""

    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.settings = settings_from_env(env)
        self.base = self.issuer = self.settings.issuer
        self.app = create_app(self.settings)
        self.log = log_dir / f"gateway-{self.settings.port}.log"
        self._handler = logging.FileHandler(self.log)
        self._handler.setLevel(logging.WARNING)
        self._handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(self._handler)
        self.http = TestClient(self.app, base_url=self.base)
        self.http.__enter__()

    def client(self) -> TestClient:
        """Another client of the same app (its own cookies and connection state)."""
        return TestClient(self.app, base_url=self.base)

    def stop(self) -> None:
        self.http.__exit__(None, None, None)
        logging.getLogger().removeHandler(self._handler)
        self._handler.close()

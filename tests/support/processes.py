"""Servers for tests: ``carbonlink serve`` as a real process (the e2e tier), and any ASGI app
served by uvicorn in a thread of the test process on an ephemeral loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from tests.support.ports import free_port, wait_http

VENV_BIN = Path(sys.executable).parent
CARBONLINK = str(VENV_BIN / "carbonlink")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ``CARBONLINK_*`` setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLINK_")}
    env.update(extra)
    return env


class GatewayProcess:
    """``carbonlink serve`` in a subprocess on 127.0.0.1 (port and settings from ``env``)."""

    def __init__(self, env: dict[str, str], *, scheme: str = "http", verify: Any = True, log_dir: Path | None = None,
                 ready_path: str = "/healthz", timeout: float = 30, log_level: str = "warning") -> None:
        self.port = int(env["CARBONLINK_PORT"])
        self.base = self.issuer = f"{scheme}://127.0.0.1:{self.port}"
        self.log = (log_dir or Path(env.get("TMPDIR", "/tmp"))) / f"gateway-{self.port}.log"
        self._logfile = self.log.open("wb")
        self.proc = subprocess.Popen([CARBONLINK, "serve", "--log-level", log_level], env=env,
                                     stdout=self._logfile, stderr=subprocess.STDOUT)
        try:
            wait_http(self.base + ready_path, self.proc, timeout=timeout, verify=verify)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"gateway did not start ({exc}): {self.log.read_text()}") from exc

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/.well-known/jwks.json"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._logfile.close()


class ThreadedServer:
    """An ASGI app served by uvicorn in a daemon thread on 127.0.0.1 (``port`` 0: a free one)."""

    def __init__(self, app: Any, *, port: int = 0, log_level: str = "warning", **options: Any) -> None:
        """``options``: more ``uvicorn.Config`` settings (e.g. ``ssl_certfile``: served over TLS)."""
        self.port = port or free_port()
        self.scheme = "https" if options.get("ssl_certfile") else "http"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level=log_level,
                                                    **options))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start_serving(self, timeout: float = 30) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the server on port {self.port} did not start")
            time.sleep(0.02)

    def stop_serving(self, timeout: float = 10) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=timeout)

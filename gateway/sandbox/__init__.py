"""A sandbox registry: a small real registry peer for the demo, the tests and the conformance suite.

It holds units in SQLite, speaks one adapter's format, accepts only the gateway's tokens,
accepts or rejects messages with coded reasons, answers each message id once, and signs every
answer. Start one with ``carbonlink sandbox --format ADAPTER``; see docs/sandbox.md.

The names below are loaded on first use: the gateway's status table (:mod:`gateway.errors`) reads
:mod:`gateway.sandbox.errors`, and the sandbox's HTTP face uses that table in turn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.sandbox.app import create_app, serve
    from gateway.sandbox.client import SandboxClient, SandboxRefused, receipt_verdict, send_with_pending_debit
    from gateway.sandbox.service import Sandbox, SandboxConfig

__all__ = ["Sandbox", "SandboxClient", "SandboxConfig", "SandboxRefused", "create_app", "receipt_verdict",
           "send_with_pending_debit", "serve"]

_HOMES = {"create_app": "app", "serve": "app", "SandboxClient": "client", "SandboxRefused": "client",
          "receipt_verdict": "client", "send_with_pending_debit": "client", "Sandbox": "service",
          "SandboxConfig": "service"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)

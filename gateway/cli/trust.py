"""Trust-layer commands (``serve``, ``directory``); filled in by the trust-layer work."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the trust-layer commands to ``app``."""

"""The ``carbonlink`` command line driven in-process: ``gateway.cli.main`` (the console script's
entry point, with its one-line error handling) run inside Click's ``CliRunner`` isolation, which
captures stdout and stderr and sets the environment for the call only."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import main


@dataclass(frozen=True)
class CliResult:
    """What a run of ``carbonlink`` left behind (the names of ``subprocess.CompletedProcess``)."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None,
            clean: bool = False) -> CliResult:
    """``carbonlink ARGS...`` in this process. ``env`` is set for the call; with ``clean`` every other
    ``CARBONLINK_*`` variable is unset first (as for a process started with a cleaned environment)."""
    overrides: dict[str, str | None] = {}
    if clean:
        overrides.update({name: None for name in os.environ if name.startswith("CARBONLINK_")})
    overrides.update(env or {})
    runner = CliRunner()
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        stdout, stderr, _ = stack.enter_context(runner.isolation(env=overrides))
        try:
            code = main(list(args))
        finally:
            sys.stdout.flush()  # the isolation's text wrappers buffer; the byte streams hold what was flushed
            sys.stderr.flush()
        return CliResult(code, stdout.getvalue().decode(), stderr.getvalue().decode())
